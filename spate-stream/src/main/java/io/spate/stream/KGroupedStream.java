package io.spate.stream;

/**
 * A stream grouped by key, partitioned so that each key lives in one task. Aggregations keep
 * their state in a store whose every change goes to the changelog topic
 * {@code <pipeline>-<store>-changelog}. Records with a null key are dropped.
 */
public interface KGroupedStream<K, V> {
    KTable<K, Long> count();

    KTable<K, Long> count(Named named);

    KTable<K, V> reduce(Reducer<V> reducer);

    KTable<K, V> reduce(Reducer<V> reducer, Named named);

    <A> KTable<K, A> aggregate(Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator, Serde<A> aggregateSerde);

    <A> KTable<K, A> aggregate(Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator, Serde<A> aggregateSerde, Named named);

    WindowedKStream<K, V> windowedBy(Windows windows);
}
