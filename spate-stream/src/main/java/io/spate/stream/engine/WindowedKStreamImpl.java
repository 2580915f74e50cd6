package io.spate.stream.engine;

import io.spate.stream.Aggregator;
import io.spate.stream.HoppingWindows;
import io.spate.stream.Initializer;
import io.spate.stream.KTable;
import io.spate.stream.Merger;
import io.spate.stream.Named;
import io.spate.stream.Reducer;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;
import io.spate.stream.SessionWindows;
import io.spate.stream.TumblingWindows;
import io.spate.stream.Windowed;
import io.spate.stream.WindowedKStream;
import io.spate.stream.Windows;

import java.util.Objects;

import static io.spate.stream.engine.GraphBuilder.cast;

/** Windowed aggregations: a window store (tumbling, hopping) or a session store, with a changelog. */
final class WindowedKStreamImpl<K, V> implements WindowedKStream<K, V> {
    private final KStreamImpl<K, V> stream;
    private final Windows windows;

    WindowedKStreamImpl(KStreamImpl<K, V> stream, Windows windows) {
        this.stream = stream;
        this.windows = windows;
    }

    @Override
    public KTable<Windowed<K>, Long> count() {
        return count(null);
    }

    @Override
    public KTable<Windowed<K>, Long> count(Named named) {
        return build("count", () -> 0L, (k, v, a) -> a + 1, (k, a, b) -> a + b, Serdes.longs(), named);
    }

    @Override
    public KTable<Windowed<K>, V> reduce(Reducer<V> reducer) {
        return reduce(reducer, null);
    }

    @Override
    public KTable<Windowed<K>, V> reduce(Reducer<V> reducer, Named named) {
        Objects.requireNonNull(reducer, "reducer");
        stream.requireSerdes("reduce");
        return build("reduce", () -> null, (k, v, a) -> a == null ? v : reducer.apply(a, v),
                (k, a, b) -> a == null ? b : b == null ? a : reducer.apply(a, b), stream.valueSerde, named);
    }

    @Override
    public <A> KTable<Windowed<K>, A> aggregate(Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator, Serde<A> serde) {
        return aggregate(initializer, aggregator, serde, null);
    }

    @Override
    public <A> KTable<Windowed<K>, A> aggregate(Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator, Serde<A> serde,
                                                Named named) {
        return build("aggregate", initializer, aggregator, null, serde, named);
    }

    @Override
    public <A> KTable<Windowed<K>, A> aggregate(Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator,
                                                Merger<? super K, A> merger, Serde<A> serde, Named named) {
        return build("aggregate", initializer, aggregator, Objects.requireNonNull(merger, "merger"), serde, named);
    }

    private <A> KTable<Windowed<K>, A> build(String kind, Initializer<A> initializer, Aggregator<? super K, ? super V, A> aggregator,
                                             Merger<? super K, A> merger, Serde<A> serde, Named named) {
        Objects.requireNonNull(initializer, "initializer");
        Objects.requireNonNull(aggregator, "aggregator");
        Objects.requireNonNull(serde, "aggregateSerde");
        GraphBuilder b = stream.builder;
        String store = b.name(kind, named);
        String changelog = b.changelogTopic(store);
        Serde<K> ks = stream.keySerde;
        Serde<V> vs = stream.valueSerde;
        String lateTopic = windows.lateRecordsTopic();
        if (lateTopic != null) {
            if (vs == null) {
                throw new IllegalStateException("late records to " + lateTopic + " need the stream's value serde: use withSerdes(...)");
            }
            b.addSink(lateTopic);
        }
        long grace = windows.graceMs();
        GraphNode.NodeFactory factory;
        String detail;
        if (windows instanceof SessionWindows sw) {
            if (merger == null) {
                throw new IllegalArgumentException("an aggregation over session windows needs a Merger");
            }
            b.addStore(new StoreSpec(store, changelog, changelog, (ctx, topic) -> GraphBuilder.sessionStore(ctx, store, topic, serde)));
            long gap = sw.gapMs();
            factory = (ctx, name) -> new Processors.SessionAggregate(name, ctx, store, changelog, cast(ks), cast(serde), cast(initializer),
                    cast(aggregator), cast(merger), gap, grace, windows.emitMode(), new Processors.LateRecords(ctx, lateTopic, cast(ks), cast(vs)));
            detail = "session store " + store + ", " + windows;
        } else {
            long size;
            long advance;
            if (windows instanceof TumblingWindows tw) {
                size = tw.sizeMs();
                advance = size;
            } else {
                HoppingWindows hw = (HoppingWindows) windows;
                size = hw.sizeMs();
                advance = hw.advanceMs();
            }
            b.addStore(new StoreSpec(store, changelog, changelog, (ctx, topic) -> GraphBuilder.windowStore(ctx, store, topic, serde)));
            factory = (ctx, name) -> new Processors.WindowAggregate(name, ctx, store, changelog, cast(ks), cast(serde), cast(initializer),
                    cast(aggregator), size, advance, grace, windows.emitMode(), new Processors.LateRecords(ctx, lateTopic, cast(ks), cast(vs)));
            detail = "window store " + store + ", " + windows;
        }
        if (lateTopic != null) {
            detail += ", late records to " + lateTopic;
        }
        GraphNode n = b.addNode(store, kind, detail, factory, stream.node);
        n.stores.add(store);
        return new KTableImpl<>(b, n, store, Serdes.windowed(ks), serde);
    }
}
