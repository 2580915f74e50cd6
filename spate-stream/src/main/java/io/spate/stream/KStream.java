package io.spate.stream;

import java.util.List;

/**
 * A stream of key-value records. Stateless operators run in the task that reads the records;
 * operators that change the key ({@link #map}, {@link #flatMap}, {@link #keyBy}) mark the stream
 * as needing a repartition, which is inserted (a topic {@code <pipeline>-<op>-repartition}
 * written by key) only when a stateful operator (grouping, join) consumes it.
 *
 * <p>A stream knows its key and value serdes where it can: those of its source, kept through
 * {@link #filter} and {@link #peek}, the key's through {@link #mapValues}. A repartition, a store
 * or a sink without serdes needs them declared ({@link #withSerdes}, the serde-taking overloads).
 */
public interface KStream<K, V> {
    KStream<K, V> filter(Predicate<? super K, ? super V> predicate);

    KStream<K, V> filterNot(Predicate<? super K, ? super V> predicate);

    <KR, VR> KStream<KR, VR> map(KeyValueMapper<? super K, ? super V, KeyValue<KR, VR>> mapper);

    <KR, VR> KStream<KR, VR> map(KeyValueMapper<? super K, ? super V, KeyValue<KR, VR>> mapper, Serde<KR> keySerde, Serde<VR> valueSerde);

    <VR> KStream<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper);

    <VR> KStream<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper, Serde<VR> valueSerde);

    <KR, VR> KStream<KR, VR> flatMap(KeyValueMapper<? super K, ? super V, ? extends Iterable<KeyValue<KR, VR>>> mapper);

    <VR> KStream<K, VR> flatMapValues(ValueMapper<? super V, ? extends Iterable<? extends VR>> mapper);

    KStream<K, V> peek(ForeachAction<? super K, ? super V> action);

    /**
     * Splits the stream: each record goes to the first branch whose predicate accepts it, or
     * nowhere. The i-th stream of the result belongs to the i-th predicate.
     */
    List<KStream<K, V>> branch(List<Predicate<? super K, ? super V>> predicates);

    /** Merges another stream into this one (records in the order they are processed). */
    KStream<K, V> merge(KStream<K, V> other);

    /** Re-keys the stream; a stateful operator downstream reads it through a repartition topic. */
    <KR> KStream<KR, V> keyBy(KeyValueMapper<? super K, ? super V, ? extends KR> keyMapper, Serde<KR> keySerde);

    <KR> KStream<KR, V> keyBy(KeyValueMapper<? super K, ? super V, ? extends KR> keyMapper, Serde<KR> keySerde, Named named);

    /** Declares the serdes of this stream's records (for repartition topics, stores and sinks). */
    KStream<K, V> withSerdes(Serde<K> keySerde, Serde<V> valueSerde);

    KGroupedStream<K, V> groupByKey();

    <KR> KGroupedStream<KR, V> groupBy(KeyValueMapper<? super K, ? super V, ? extends KR> keyMapper, Serde<KR> keySerde);

    /** As {@link #groupBy(KeyValueMapper, Serde)}; the repartition topic is {@code <pipeline>-<name>-repartition}. */
    <KR> KGroupedStream<KR, V> groupBy(KeyValueMapper<? super K, ? super V, ? extends KR> keyMapper, Serde<KR> keySerde, Named named);

    /** Inner join with a co-partitioned table: records without a table value for their key are dropped. */
    <VT, VR> KStream<K, VR> join(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner);

    /** Left join with a co-partitioned table: the joiner sees null when the table has no value. */
    <VT, VR> KStream<K, VR> leftJoin(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner);

    /**
     * Windowed inner join with another stream of the same key type, co-partitioned by key (re-key
     * first if needed; a pending re-key is repartitioned here). Both streams need serdes: each
     * side's records are buffered in a store with a changelog.
     */
    <VO, VR> KStream<K, VR> join(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows);

    <VO, VR> KStream<K, VR> join(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows, Named named);

    /**
     * Windowed left join: as {@link #join(KStream, ValueJoiner, JoinWindows)}, and a record of
     * this stream that matched nothing is joined with null once no record of the other stream
     * can match it any more (stream time past its timestamp + before + after + grace). A record
     * that matched is never joined with null.
     */
    <VO, VR> KStream<K, VR> leftJoin(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows);

    <VO, VR> KStream<K, VR> leftJoin(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows,
                                     Named named);

    /**
     * Windowed outer join: as the left join, for both streams: a record of either side that
     * matched nothing is joined with null on the missing side when its match can no longer come.
     */
    <VO, VR> KStream<K, VR> outerJoin(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows);

    <VO, VR> KStream<K, VR> outerJoin(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows,
                                      Named named);

    /**
     * Writes to an external topic: to the key's partition (Kafka's default partitioner) when the
     * key is not null, else to the partition the task reads.
     */
    void to(String topic, Serde<K> keySerde, Serde<V> valueSerde);

    /** As {@link #to(String, Serde, Serde)} with the stream's known serdes. */
    void to(String topic);

    /** Writes to an external topic, each result to the partition {@code partition} chooses. */
    void to(String topic, Serde<K> keySerde, Serde<V> valueSerde, SinkPartition partition);

    /**
     * Writes each record to the Spate table {@code table} (created beforehand, e.g. with
     * {@code spate table create}): the key's latest value, a null value deleting it, at the table's
     * default write consistency. Records without a key are dropped (counted). Table writes are
     * at-least-once in both guarantees and idempotent per key: a task that goes back to its last
     * commit writes the same values again, in the same order, and the table ends with the same
     * latest value per key; they are not part of an exactly-once pipeline's transaction.
     */
    void toTable(String table, Serde<K> keySerde, Serde<V> valueSerde);

    /** As {@link #toTable(String, Serde, Serde)} with the stream's known serdes. */
    void toTable(String table);
}
