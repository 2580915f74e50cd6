package io.spate.stream;

/** Folds a record into its key's aggregate; returns the new aggregate (need not be a new object). */
@FunctionalInterface
public interface Aggregator<K, V, A> {
    A apply(K key, V value, A aggregate);
}
