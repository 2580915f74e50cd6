package io.spate.stream.engine;

import io.spate.stream.Aggregator;
import io.spate.stream.Initializer;
import io.spate.stream.KGroupedStream;
import io.spate.stream.KTable;
import io.spate.stream.Named;
import io.spate.stream.Reducer;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;
import io.spate.stream.WindowedKStream;
import io.spate.stream.Windows;

import java.util.Objects;

import static io.spate.stream.engine.GraphBuilder.cast;

/** A partitioned stream about to be aggregated per key; the store is named after the aggregation. */
final class KGroupedStreamImpl<K, V> implements KGroupedStream<K, V> {
    private final KStreamImpl<K, V> stream;

    KGroupedStreamImpl(KStreamImpl<K, V> stream) {
        this.stream = stream;
    }

    @Override
    public KTable<K, Long> count() {
        return count(null);
    }

    @Override
    public KTable<K, Long> count(Named named) {
        return aggregate("count", () -> 0L, (k, v, a) -> a + 1, Serdes.longs(), named);
    }

    @Override
    public KTable<K, V> reduce(Reducer<V> reducer) {
        return reduce(reducer, null);
    }

    @Override
    public KTable<K, V> reduce(Reducer<V> reducer, Named named) {
        Objects.requireNonNull(reducer, "reducer");
        stream.requireSerdes("reduce");
        return aggregate("reduce", () -> null, (k, v, a) -> a == null ? v : reducer.apply(a, v), stream.valueSerde, named);
    }

    @Override
    public <A> KTable<K, A> aggregate(Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator, Serde<A> aggregateSerde) {
        return aggregate(initializer, aggregator, aggregateSerde, null);
    }

    @Override
    public <A> KTable<K, A> aggregate(Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator, Serde<A> aggregateSerde,
                                      Named named) {
        return aggregate("aggregate", initializer, aggregator, aggregateSerde, named);
    }

    private <A> KTable<K, A> aggregate(String kind, Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator,
                                       Serde<A> aggregateSerde, Named named) {
        Objects.requireNonNull(initializer, "initializer");
        Objects.requireNonNull(aggregator, "aggregator");
        Objects.requireNonNull(aggregateSerde, "aggregateSerde");
        GraphBuilder b = stream.builder;
        String store = b.name(kind, named);
        String changelog = b.changelogTopic(store);
        Serde<K> ks = stream.keySerde;
        b.addStore(new StoreSpec(store, changelog, changelog, (ctx, topic) -> GraphBuilder.keyValueStore(ctx, store, topic, aggregateSerde)));
        GraphNode n = b.addNode(store, kind, "store " + store, (ctx, name) -> new Processors.Aggregate(name, ctx, store, changelog, cast(ks),
                cast(aggregateSerde), cast(initializer), cast(aggregator)), stream.node);
        n.stores.add(store);
        return new KTableImpl<>(b, n, store, ks, aggregateSerde);
    }

    @Override
    public WindowedKStream<K, V> windowedBy(Windows windows) {
        return new WindowedKStreamImpl<>(stream, Objects.requireNonNull(windows, "windows"));
    }
}
