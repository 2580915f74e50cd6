package io.spate.stream;

/**
 * A changelog view: the latest value per key, held in a task-local store. Tables come from a
 * (compacted) topic or from an aggregation; windowed aggregations give {@code Windowed<K>} keys.
 */
public interface KTable<K, V> {
    /** The stream of the table's updates (a null value is a deletion). */
    KStream<K, V> toStream();

    /** The name of the table's store (and of its changelog, if it has one). */
    String storeName();
}
