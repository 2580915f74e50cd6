package io.spate.stream.engine;

import io.spate.stream.KStream;
import io.spate.stream.KTable;
import io.spate.stream.Serde;

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
}
