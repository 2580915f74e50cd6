package io.spate.stream.engine;

import io.spate.stream.ForeachAction;
import io.spate.stream.JoinWindows;
import io.spate.stream.KGroupedStream;
import io.spate.stream.KStream;
import io.spate.stream.KTable;
import io.spate.stream.KeyValue;
import io.spate.stream.KeyValueMapper;
import io.spate.stream.Named;
import io.spate.stream.Predicate;
import io.spate.stream.Serde;
import io.spate.stream.SinkPartition;
import io.spate.stream.ValueJoiner;
import io.spate.stream.ValueMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static io.spate.stream.engine.GraphBuilder.cast;

/**
 * A stream: the graph node whose output it is, the serdes known for it, and, when an upstream
 * operator changed the key, the name of that operator ({@code rekeyedBy}): a stateful operator
 * then reads the stream through the repartition topic {@code <pipeline>-<rekeyedBy>-repartition}.
 */
final class KStreamImpl<K, V> implements KStream<K, V> {
    final GraphBuilder builder;
    final GraphNode node;
    final Serde<K> keySerde;
    final Serde<V> valueSerde;
    final String rekeyedBy;
    private KStreamImpl<K, V> repartitioned;

    KStreamImpl(GraphBuilder builder, GraphNode node, Serde<K> keySerde, Serde<V> valueSerde, String rekeyedBy) {
        this.builder = builder;
        this.node = node;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
        this.rekeyedBy = rekeyedBy;
    }

    private <K2, V2> KStreamImpl<K2, V2> next(GraphNode child, Serde<K2> ks, Serde<V2> vs, String rekey) {
        return new KStreamImpl<>(builder, child, ks, vs, rekey);
    }

    @Override
    public KStream<K, V> filter(Predicate<? super K, ? super V> predicate) {
        Objects.requireNonNull(predicate, "predicate");
        GraphNode n = builder.node("filter", null, "", (ctx, name) -> new Processors.Filter(name, cast(predicate), true), node);
        return next(n, keySerde, valueSerde, rekeyedBy);
    }

    @Override
    public KStream<K, V> filterNot(Predicate<? super K, ? super V> predicate) {
        Objects.requireNonNull(predicate, "predicate");
        GraphNode n = builder.node("filter", null, "not", (ctx, name) -> new Processors.Filter(name, cast(predicate), false), node);
        return next(n, keySerde, valueSerde, rekeyedBy);
    }

    @Override
    public <KR, VR> KStream<KR, VR> map(KeyValueMapper<? super K, ? super V, KeyValue<KR, VR>> mapper) {
        return map(mapper, null, null);
    }

    @Override
    public <KR, VR> KStream<KR, VR> map(KeyValueMapper<? super K, ? super V, KeyValue<KR, VR>> mapper, Serde<KR> ks, Serde<VR> vs) {
        Objects.requireNonNull(mapper, "mapper");
        GraphNode n = builder.node("map", null, "", (ctx, name) -> new Processors.Map(name, cast(mapper)), node);
        return next(n, ks, vs, n.name);
    }

    @Override
    public <VR> KStream<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper) {
        return mapValues(mapper, null);
    }

    @Override
    public <VR> KStream<K, VR> mapValues(ValueMapper<? super V, ? extends VR> mapper, Serde<VR> vs) {
        Objects.requireNonNull(mapper, "mapper");
        GraphNode n = builder.node("mapvalues", null, "", (ctx, name) -> new Processors.MapValues(name, cast(mapper)), node);
        return next(n, keySerde, vs, rekeyedBy);
    }

    @Override
    public <KR, VR> KStream<KR, VR> flatMap(KeyValueMapper<? super K, ? super V, ? extends Iterable<KeyValue<KR, VR>>> mapper) {
        Objects.requireNonNull(mapper, "mapper");
        GraphNode n = builder.node("flatmap", null, "", (ctx, name) -> new Processors.FlatMap(name, cast(mapper)), node);
        return next(n, null, null, n.name);
    }

    @Override
    public <VR> KStream<K, VR> flatMapValues(ValueMapper<? super V, ? extends Iterable<? extends VR>> mapper) {
        Objects.requireNonNull(mapper, "mapper");
        GraphNode n = builder.node("flatmapvalues", null, "", (ctx, name) -> new Processors.FlatMapValues(name, cast(mapper)), node);
        return next(n, keySerde, null, rekeyedBy);
    }

    @Override
    public KStream<K, V> peek(ForeachAction<? super K, ? super V> action) {
        Objects.requireNonNull(action, "action");
        GraphNode n = builder.node("peek", null, "", (ctx, name) -> new Processors.Peek(name, cast(action)), node);
        return next(n, keySerde, valueSerde, rekeyedBy);
    }

    @Override
    public List<KStream<K, V>> branch(List<Predicate<? super K, ? super V>> predicates) {
        if (predicates.isEmpty()) {
            throw new IllegalArgumentException("branch needs at least one predicate");
        }
        Predicate<Object, Object>[] ps = cast(predicates.toArray(new Predicate[0]));
        GraphNode b = builder.node("branch", null, predicates.size() + " branches", (ctx, name) -> new Processors.Branch(name, ps), node);
        List<KStream<K, V>> out = new ArrayList<>(ps.length);
        for (int i = 0; i < ps.length; i++) {
            GraphNode child = builder.addNode(b.name + "-" + i, "branch-out", "", (ctx, name) -> new Processors.PassThrough(name), b);
            out.add(next(child, keySerde, valueSerde, rekeyedBy));
        }
        return out;
    }

    @Override
    public KStream<K, V> merge(KStream<K, V> other) {
        KStreamImpl<K, V> o = (KStreamImpl<K, V>) other;
        GraphNode n = builder.node("merge", null, "", (ctx, name) -> new Processors.PassThrough(name), node, o.node);
        return next(n, keySerde == o.keySerde ? keySerde : null, valueSerde == o.valueSerde ? valueSerde : null,
                rekeyedBy != null ? rekeyedBy : o.rekeyedBy);
    }

    @Override
    public <KR> KStream<KR, V> keyBy(KeyValueMapper<? super K, ? super V, ? extends KR> keyMapper, Serde<KR> ks) {
        return keyBy(keyMapper, ks, null);
    }

    @Override
    public <KR> KStream<KR, V> keyBy(KeyValueMapper<? super K, ? super V, ? extends KR> keyMapper, Serde<KR> ks, Named named) {
        Objects.requireNonNull(keyMapper, "keyMapper");
        Objects.requireNonNull(ks, "keySerde");
        GraphNode n = builder.node("keyby", named, "", (ctx, name) -> new Processors.KeyBy(name, cast(keyMapper)), node);
        return next(n, ks, valueSerde, n.name);
    }

    @Override
    public KStream<K, V> withSerdes(Serde<K> ks, Serde<V> vs) {
        return new KStreamImpl<>(builder, node, Objects.requireNonNull(ks, "keySerde"), Objects.requireNonNull(vs, "valueSerde"), rekeyedBy);
    }

    /** This stream as a stateful operator may read it: through a repartition topic if the key changed. */
    KStreamImpl<K, V> partitioned() {
        if (rekeyedBy == null) {
            return this;
        }
        if (repartitioned == null) {
            requireSerdes("the repartition after " + rekeyedBy);
            String topic = builder.repartitionTopic(rekeyedBy);
            builder.node("repartition-sink", null, topic,
                    (ctx, name) -> new Processors.RepartitionSink(name, ctx, topic, cast(keySerde), cast(valueSerde)), node);
            GraphNode source = builder.node("repartition-source", null, topic,
                    (ctx, name) -> new Processors.Source(name, cast(keySerde), cast(valueSerde)));
            source.inputTopic = topic;
            repartitioned = next(source, keySerde, valueSerde, null);
        }
        return repartitioned;
    }

    void requireSerdes(String what) {
        if (keySerde == null || valueSerde == null) {
            throw new IllegalStateException(what + " needs the stream's " + (keySerde == null ? "key" : "value")
                    + " serde, which is not known after " + node.name + ": declare it with withSerdes(...) or the serde-taking overload");
        }
    }

    @Override
    public KGroupedStream<K, V> groupByKey() {
        KStreamImpl<K, V> p = partitioned();
        if (p.keySerde == null) {
            throw new IllegalStateException("grouping needs the key serde, not known after " + node.name + ": use withSerdes(...)");
        }
        return new KGroupedStreamImpl<>(p);
    }

    @Override
    public <KR> KGroupedStream<KR, V> groupBy(KeyValueMapper<? super K, ? super V, ? extends KR> keyMapper, Serde<KR> ks) {
        return groupBy(keyMapper, ks, null);
    }

    @Override
    public <KR> KGroupedStream<KR, V> groupBy(KeyValueMapper<? super K, ? super V, ? extends KR> keyMapper, Serde<KR> ks, Named named) {
        return keyBy(keyMapper, ks, named).groupByKey();
    }

    @Override
    public <VT, VR> KStream<K, VR> join(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner) {
        return tableJoin(table, joiner, false);
    }

    @Override
    public <VT, VR> KStream<K, VR> leftJoin(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner) {
        return tableJoin(table, joiner, true);
    }

    private <VT, VR> KStream<K, VR> tableJoin(KTable<K, VT> table, ValueJoiner<? super V, ? super VT, ? extends VR> joiner, boolean left) {
        Objects.requireNonNull(joiner, "joiner");
        KStreamImpl<K, V> s = partitioned();
        KTableImpl<K, VT> t = (KTableImpl<K, VT>) table;
        String store = t.storeName;
        if (store == null) {
            throw new IllegalArgumentException("a table-table join's result is kept in no store and cannot be joined with a stream:"
                    + " send it to a topic and read that as a table");
        }
        Serde<K> tableKeySerde = t.keySerde;
        GraphNode n = builder.node(left ? "leftjoin" : "join", null, "table " + store,
                (ctx, name) -> new Processors.StreamTableJoin(name, ctx, store, cast(tableKeySerde), cast(joiner), left), s.node);
        n.stores.add(store);
        return next(n, s.keySerde, null, null);
    }

    @Override
    public <VO, VR> KStream<K, VR> join(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows) {
        return join(other, joiner, windows, null);
    }

    @Override
    public <VO, VR> KStream<K, VR> join(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows,
                                        Named named) {
        return windowedJoin(other, joiner, windows, named, Processors.JoinKind.INNER);
    }

    @Override
    public <VO, VR> KStream<K, VR> leftJoin(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows) {
        return leftJoin(other, joiner, windows, null);
    }

    @Override
    public <VO, VR> KStream<K, VR> leftJoin(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows,
                                            Named named) {
        return windowedJoin(other, joiner, windows, named, Processors.JoinKind.LEFT);
    }

    @Override
    public <VO, VR> KStream<K, VR> outerJoin(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows) {
        return outerJoin(other, joiner, windows, null);
    }

    @Override
    public <VO, VR> KStream<K, VR> outerJoin(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows,
                                             Named named) {
        return windowedJoin(other, joiner, windows, named, Processors.JoinKind.OUTER);
    }

    private <VO, VR> KStream<K, VR> windowedJoin(KStream<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, JoinWindows windows,
                                                 Named named, Processors.JoinKind kind) {
        Objects.requireNonNull(joiner, "joiner");
        Objects.requireNonNull(windows, "windows");
        KStreamImpl<K, V> l = partitioned();
        KStreamImpl<K, VO> r = ((KStreamImpl<K, VO>) other).partitioned();
        l.requireSerdes("a windowed join");
        if (r.valueSerde == null) {
            throw new IllegalStateException("a windowed join needs the other stream's value serde: use withSerdes(...)");
        }
        String base = builder.name("join", named);
        String leftStore = base + "-left";
        String rightStore = base + "-right";
        String leftLog = builder.changelogTopic(leftStore);
        String rightLog = builder.changelogTopic(rightStore);
        Serde<K> ks = l.keySerde;
        // A side whose unmatched records are joined with null keeps a matched flag with each record.
        Serde<List<Object>> leftBuffer = Processors.JoinSide.bufferSerde(cast(l.valueSerde), kind.emitsUnmatched(true));
        Serde<List<Object>> rightBuffer = Processors.JoinSide.bufferSerde(cast(r.valueSerde), kind.emitsUnmatched(false));
        builder.addStore(new StoreSpec(leftStore, leftLog, leftLog, (ctx, topic) -> GraphBuilder.windowStore(ctx, leftStore, topic, leftBuffer)));
        builder.addStore(new StoreSpec(rightStore, rightLog, rightLog, (ctx, topic) -> GraphBuilder.windowStore(ctx, rightStore, topic, rightBuffer)));
        String detail = (kind == Processors.JoinKind.INNER ? "" : kind.name().toLowerCase(java.util.Locale.ROOT) + ", ")
                + "window -" + windows.beforeMs() + "/+" + windows.afterMs() + " ms, grace " + windows.graceMs() + " ms";
        Processors.JoinSide.Buffer leftSide = new Processors.JoinSide.Buffer(leftStore, leftLog, leftBuffer, kind.emitsUnmatched(true));
        Processors.JoinSide.Buffer rightSide = new Processors.JoinSide.Buffer(rightStore, rightLog, rightBuffer, kind.emitsUnmatched(false));
        GraphNode ln = builder.addNode(base + "-this", "join-this", detail, (ctx, name) -> new Processors.JoinSide(name, ctx, true, leftSide,
                rightSide, cast(ks), cast(joiner), windows.beforeMs(), windows.afterMs(), windows.graceMs()), l.node);
        GraphNode rn = builder.addNode(base + "-other", "join-other", detail, (ctx, name) -> new Processors.JoinSide(name, ctx, false, rightSide,
                leftSide, cast(ks), cast(joiner), windows.beforeMs(), windows.afterMs(), windows.graceMs()), r.node);
        ln.stores.add(leftStore);
        ln.stores.add(rightStore);
        rn.stores.add(leftStore);
        rn.stores.add(rightStore);
        GraphNode merged = builder.addNode(base + "-merge", "join-merge", "", (ctx, name) -> new Processors.PassThrough(name), ln, rn);
        return next(merged, ks, null, null);
    }

    @Override
    public void to(String topic, Serde<K> ks, Serde<V> vs) {
        to(topic, ks, vs, SinkPartition.KEY);
    }

    @Override
    public void to(String topic, Serde<K> ks, Serde<V> vs, SinkPartition partition) {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(ks, "keySerde");
        Objects.requireNonNull(vs, "valueSerde");
        Objects.requireNonNull(partition, "partition");
        builder.addSink(topic);
        boolean toTask = partition == SinkPartition.TASK;
        builder.node("sink", null, topic, (ctx, name) -> new Processors.Sink(name, ctx, topic, cast(ks), cast(vs), toTask), node);
    }

    @Override
    public void to(String topic) {
        requireSerdes("the sink to " + topic);
        to(topic, keySerde, valueSerde);
    }

    @Override
    public void toTable(String table, Serde<K> ks, Serde<V> vs) {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(ks, "keySerde");
        Objects.requireNonNull(vs, "valueSerde");
        builder.addTableSink(table);
        builder.node("table-sink", null, "table " + table, (ctx, name) -> new Processors.TableSink(name, ctx, table, cast(ks), cast(vs)), node);
    }

    @Override
    public void toTable(String table) {
        requireSerdes("the table sink to " + table);
        toTable(table, keySerde, valueSerde);
    }
}
