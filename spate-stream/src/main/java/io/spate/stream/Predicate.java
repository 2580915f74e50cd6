package io.spate.stream;

@FunctionalInterface
public interface Predicate<K, V> {
    boolean test(K key, V value);
}
