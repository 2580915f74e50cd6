package io.spate.stream.engine;

import io.spate.stream.KStream;
import io.spate.stream.KTable;
import io.spate.stream.Serde;
import io.spate.stream.ValueJoiner;

import java.util.Objects;

/** A table: its store and the node that forwards its updates. */
final class KTableImpl<K, V> implements KTable<K, V> {
    private final GraphBuilder builder;
    final GraphNode node;
    final String storeName;
    final Serde<K> keySerde;
    final Serde<V> valueSerde;

    KTableImpl(GraphBuilder builder, GraphNode node, String storeName, Serde<K> keySerde, Serde<V> valueSerde) {
        this.builder = builder;
        this.node = node;
        this.storeName = storeName;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
    }

    @Override
    public KStream<K, V> toStream() {
        GraphNode n = builder.node("tostream", null, "", (ctx, name) -> new Processors.PassThrough(name), node);
        return new KStreamImpl<>(builder, n, keySerde, valueSerde, null);
    }

    @Override
    public String storeName() {
        return storeName;
    }

    @Override
    public <VO, VR> KTable<K, VR> join(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner) {
        return tableJoin(other, joiner, Processors.JoinKind.INNER);
    }

    @Override
    public <VO, VR> KTable<K, VR> leftJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner) {
        return tableJoin(other, joiner, Processors.JoinKind.LEFT);
    }

    @Override
    public <VO, VR> KTable<K, VR> outerJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner) {
        return tableJoin(other, joiner, Processors.JoinKind.OUTER);
    }

    /**
     * One processor under each table, each looking the key up in the other's store once its own
     * store holds the update (a table's node forwards after writing its store), merged into the
     * result's node. Both stores are the task's: the two tables share a sub-topology.
     */
    @SuppressWarnings("unchecked")
    private <VO, VR> KTable<K, VR> tableJoin(KTable<K, VO> other, ValueJoiner<? super V, ? super VO, ? extends VR> joiner, Processors.JoinKind kind) {
        Objects.requireNonNull(other, "other");
        Objects.requireNonNull(joiner, "joiner");
        KTableImpl<K, VO> o = (KTableImpl<K, VO>) other;
        if (storeName == null || o.storeName == null) {
            throw new IllegalArgumentException("a table-table join's result is kept in no store and cannot be joined again:"
                    + " send it to a topic and read that as a table");
        }
        String base = builder.name("table-join", null);
        String detail = kind.name().toLowerCase(java.util.Locale.ROOT) + ", " + storeName + " with " + o.storeName;
        ValueJoiner<Object, Object, Object> j = (ValueJoiner<Object, Object, Object>) (ValueJoiner<?, ?, ?>) joiner;
        Serde<Object> ks = (Serde<Object>) keySerde;
        String thisStore = storeName;
        String otherStore = o.storeName;
        GraphNode ln = builder.addNode(base + "-this", "table-join-this", detail,
                (ctx, name) -> new Processors.TableTableJoin(name, ctx, otherStore, ks, j, true, kind), node);
        GraphNode rn = builder.addNode(base + "-other", "table-join-other", detail,
                (ctx, name) -> new Processors.TableTableJoin(name, ctx, thisStore, ks, j, false, kind), o.node);
        ln.stores.add(thisStore);
        ln.stores.add(otherStore);
        rn.stores.add(thisStore);
        rn.stores.add(otherStore);
        GraphNode merged = builder.addNode(base + "-merge", "table-join-merge", "", (ctx, name) -> new Processors.PassThrough(name), ln, rn);
        return new KTableImpl<>(builder, merged, null, keySerde, null);
    }
}
