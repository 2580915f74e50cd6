package io.spate.stream;

/**
 * A grouped stream cut into windows: aggregations per key and window, as a table keyed by
 * {@link Windowed}. Session windows merge aggregates, so {@code aggregate} needs a {@link Merger}
 * there.
 */
public interface WindowedKStream<K, V> {
    KTable<Windowed<K>, Long> count();

    KTable<Windowed<K>, Long> count(Named named);

    KTable<Windowed<K>, V> reduce(Reducer<V> reducer);

    KTable<Windowed<K>, V> reduce(Reducer<V> reducer, Named named);

    <A> KTable<Windowed<K>, A> aggregate(Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator, Serde<A> aggregateSerde);

    <A> KTable<Windowed<K>, A> aggregate(Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator, Serde<A> aggregateSerde,
                                         Named named);

    /** For session windows, whose aggregates merge when a record bridges two sessions. */
    <A> KTable<Windowed<K>, A> aggregate(Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator, Merger<? super K, A> merger,
                                         Serde<A> aggregateSerde, Named named);
}
