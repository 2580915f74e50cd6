package io.spate.stream;

/**
 * A changelog view: the latest value per key, held in a task-local store. Tables come from a
 * (compacted) topic or from an aggregation; windowed aggregations give {@code Windowed<K>} keys.
 */
public interface KTable<K, V> {
    /** The stream of the table's updates (a null value is a deletion). */
    KStream<K, V> toStream();

    /**
     * The name of the table's store (and of its changelog, if it has one); null for a table kept in
     * no store: a table-table join's result, which a stream cannot be joined with (send it to a
     * topic and read that as a table).
     */
    String storeName();

    /**
     * Inner join with another table of the same key, co-partitioned (from topics with the same
     * partition count and keys placed by Kafka's partitioner, or aggregations of this pipeline):
     * whenever either side changes, the key's result is {@code joiner(this, other)} while both
     * have a value, and deleted (a null value) once one of them has none.
     */
    <VO, VR> KTable<K, VR> join(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner);

    /** As {@link #join}, the result existing while this table has a value (the joiner sees null for a missing other). */
    <VO, VR> KTable<K, VR> leftJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner);

    /** As {@link #join}, the result existing while either table has a value (the joiner sees null for the missing one). */
    <VO, VR> KTable<K, VR> outerJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner);
}
