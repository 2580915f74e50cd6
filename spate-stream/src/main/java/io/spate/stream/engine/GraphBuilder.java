package io.spate.stream.engine;

import io.spate.stream.KStream;
import io.spate.stream.KTable;
import io.spate.stream.Named;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serde;
import io.spate.stream.store.Bytes;
import io.spate.stream.store.KeyValueStore;
import io.spate.stream.store.SessionStore;
import io.spate.stream.store.WindowStore;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The {@link PipelineBuilder} behind the DSL: collects the logical graph, its stores and topics.
 * Names are {@code <kind>-<nnnn>} by creation order unless given, so a pipeline defined the same
 * way always gets the same internal topic names.
 */
final class GraphBuilder implements PipelineBuilder {
    final String pipelineName;
    private final Map<String, String> settings;
    final List<GraphNode> nodes = new ArrayList<>();
    final Map<String, StoreSpec> stores = new LinkedHashMap<>();
    final Set<String> sourceTopics = new LinkedHashSet<>();
    final Set<String> sinkTopics = new LinkedHashSet<>();
    final Set<String> sinkTables = new LinkedHashSet<>();
    final Map<String, InternalTopic> internalTopics = new LinkedHashMap<>();
    private final Set<String> names = new HashSet<>();
    private int counter;

    GraphBuilder(String pipelineName, Map<String, String> settings) {
        this.pipelineName = Objects.requireNonNull(pipelineName, "pipelineName");
        this.settings = Map.copyOf(settings);
    }

    @Override
    public String setting(String key, String defaultValue) {
        return settings.getOrDefault(key, defaultValue);
    }

    @Override
    public String pipelineName() {
        return pipelineName;
    }

    @Override
    public <K, V> KStream<K, V> stream(String topic, Serde<K> keySerde, Serde<V> valueSerde) {
        Objects.requireNonNull(keySerde, "keySerde");
        Objects.requireNonNull(valueSerde, "valueSerde");
        registerSource(topic);
        GraphNode node = node("source", null, topic,
                (ctx, name) -> new Processors.Source(name, cast(keySerde), cast(valueSerde)));
        node.inputTopic = topic;
        return new KStreamImpl<>(this, node, keySerde, valueSerde, null);
    }

    @Override
    public <K, V> KTable<K, V> table(String topic, Serde<K> keySerde, Serde<V> valueSerde) {
        return table(topic, keySerde, valueSerde, null);
    }

    @Override
    public <K, V> KTable<K, V> table(String topic, Serde<K> keySerde, Serde<V> valueSerde, Named named) {
        Objects.requireNonNull(keySerde, "keySerde");
        Objects.requireNonNull(valueSerde, "valueSerde");
        registerSource(topic);
        String storeName = name("table", named);
        addStore(new StoreSpec(storeName, null, topic, (ctx, restoreTopic) -> keyValueStore(ctx, storeName, restoreTopic, valueSerde)));
        GraphNode node = addNode(storeName, "table", topic + " -> store " + storeName,
                (ctx, name) -> new Processors.TableSource(name, ctx, storeName, cast(keySerde), cast(valueSerde)));
        node.inputTopic = topic;
        node.stores.add(storeName);
        return new KTableImpl<>(this, node, storeName, keySerde, valueSerde);
    }

    private void registerSource(String topic) {
        Objects.requireNonNull(topic, "topic");
        if (!sourceTopics.add(topic) || internalTopics.containsKey(topic)) {
            throw new IllegalArgumentException("topic " + topic + " is read twice in pipeline " + pipelineName);
        }
    }

    String name(String kind, Named named) {
        int id = counter++;
        String name = named != null ? named.name() : String.format("%s-%04d", kind, id);
        if (!names.add(name)) {
            throw new IllegalArgumentException("the name " + name + " is used twice in pipeline " + pipelineName);
        }
        return name;
    }

    GraphNode node(String kind, Named named, String detail, GraphNode.NodeFactory factory, GraphNode... parents) {
        return addNode(name(kind, named), kind, detail, factory, parents);
    }

    GraphNode addNode(String name, String kind, String detail, GraphNode.NodeFactory factory, GraphNode... parents) {
        GraphNode node = new GraphNode(nodes.size(), name, kind, detail, factory);
        nodes.add(node);
        for (GraphNode parent : parents) {
            node.parents.add(parent);
            parent.children.add(node);
        }
        return node;
    }

    String repartitionTopic(String opName) {
        String topic = pipelineName + "-" + opName + "-repartition";
        for (int i = 2; internalTopics.containsKey(topic); i++) {
            topic = pipelineName + "-" + opName + "-" + i + "-repartition";
        }
        internalTopics.put(topic, new InternalTopic(topic, InternalTopic.Kind.REPARTITION, false));
        return topic;
    }

    String changelogTopic(String storeName) {
        String topic = pipelineName + "-" + storeName + "-changelog";
        internalTopics.put(topic, new InternalTopic(topic, InternalTopic.Kind.CHANGELOG, true));
        return topic;
    }

    void addSink(String topic) {
        if (sourceTopics.contains(topic)) {
            throw new IllegalArgumentException("pipeline " + pipelineName + " writes to its own source topic " + topic);
        }
        sinkTopics.add(topic);
    }

    void addTableSink(String table) {
        if (table.isBlank()) {
            throw new IllegalArgumentException("pipeline " + pipelineName + " writes to a table with a blank name");
        }
        sinkTables.add(table);
    }

    void addStore(StoreSpec spec) {
        if (stores.putIfAbsent(spec.name(), spec) != null) {
            throw new IllegalArgumentException("store " + spec.name() + " defined twice");
        }
    }

    /** A key-value store restored by key: a null value deletes. */
    static <V> TaskContext.RegisteredStore keyValueStore(TaskContext ctx, String name, String restoreTopic, Serde<V> valueSerde) {
        KeyValueStore<V> store = ctx.storeFactory.keyValueStore(name, ctx.partition, valueSerde);
        return new TaskContext.RegisteredStore(store, restoreTopic, (k, v) -> store.put(Bytes.wrap(k), valueSerde.deserialize(v)));
    }

    /** A window store restored from changelog keys {@code key ++ start}. */
    static <V> TaskContext.RegisteredStore windowStore(TaskContext ctx, String name, String restoreTopic, Serde<V> valueSerde) {
        WindowStore<V> store = ctx.storeFactory.windowStore(name, ctx.partition, valueSerde);
        return new TaskContext.RegisteredStore(store, restoreTopic,
                (k, v) -> store.put(Bytes.wrap(StoreKeys.windowKeyBytes(k)), StoreKeys.windowStart(k), valueSerde.deserialize(v)));
    }

    /** A session store restored from changelog keys {@code key ++ end ++ start}. */
    static <V> TaskContext.RegisteredStore sessionStore(TaskContext ctx, String name, String restoreTopic, Serde<V> valueSerde) {
        SessionStore<V> store = ctx.storeFactory.sessionStore(name, ctx.partition, valueSerde);
        return new TaskContext.RegisteredStore(store, restoreTopic,
                (k, v) -> store.put(Bytes.wrap(StoreKeys.sessionKeyBytes(k)), StoreKeys.sessionStart(k), StoreKeys.sessionEnd(k),
                        valueSerde.deserialize(v)));
    }

    @SuppressWarnings("unchecked")
    static <T> T cast(Object o) {
        return (T) o;
    }

    CompiledPipeline build() {
        if (sourceTopics.isEmpty()) {
            throw new IllegalArgumentException("pipeline " + pipelineName + " reads no topic");
        }
        return new CompiledPipeline(this);
    }
}
