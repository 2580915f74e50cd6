package io.spate.stream;

/** Merges the aggregates of two sessions a record has bridged. */
@FunctionalInterface
public interface Merger<K, A> {
    A apply(K key, A aggregate1, A aggregate2);
}
