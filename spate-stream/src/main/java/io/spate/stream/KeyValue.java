package io.spate.stream;

/** A key and a value, as returned by {@link KStream#map} and {@link KStream#flatMap} mappers. */
public record KeyValue<K, V>(K key, V value) {
    public static <K, V> KeyValue<K, V> pair(K key, V value) {
        return new KeyValue<>(key, value);
    }
}
