package io.spate.stream;

@FunctionalInterface
public interface ForeachAction<K, V> {
    void apply(K key, V value);
}
