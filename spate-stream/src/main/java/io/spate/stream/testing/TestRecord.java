package io.spate.stream.testing;

/** A record read from a driver's topic, deserialized. */
public record TestRecord<K, V>(K key, V value, long timestamp, int partition) {
}
