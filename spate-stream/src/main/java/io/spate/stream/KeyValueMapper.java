package io.spate.stream;

@FunctionalInterface
public interface KeyValueMapper<K, V, R> {
    R apply(K key, V value);
}
