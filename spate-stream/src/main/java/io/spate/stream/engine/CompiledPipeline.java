package io.spate.stream.engine;

import io.spate.stream.store.InMemoryStores;
import io.spate.stream.store.StoreFactory;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.HashMap;
import java.util.Set;

/**
 * A pipeline's graph cut into sub-topologies: the connected parts of the graph once the edges
 * through repartition topics are removed (nodes that share a store are connected). Each
 * sub-topology runs as one task per partition of its input topics; immutable and shareable.
 */
public final class CompiledPipeline {
    /**
     * The pipeline setting (ms) after which a task whose inputs brought nothing moves its stream
     * time on with the wall clock, so that windows close without new records; absent or -1: off.
     * The rule is {@link WallClockStreamTime}'s.
     */
    public static final String WINDOW_CLOSE_IDLE_MS = "window.close.idle.ms";

    private final String name;
    private final long windowCloseIdleMs;
    private final List<String> sourceTopics;
    private final List<String> sinkTopics;
    private final List<String> sinkTables;
    private final List<InternalTopic> internalTopics;
    private final List<SubTopology> subTopologies;
    private final List<List<GraphNode>> nodesBySubTopology;
    private final Map<String, StoreSpec> stores;
    private final int nodeCount;

    CompiledPipeline(GraphBuilder b) {
        this.name = b.pipelineName;
        this.windowCloseIdleMs = WallClockStreamTime.parse(b.setting(WINDOW_CLOSE_IDLE_MS, null));
        this.sourceTopics = List.copyOf(b.sourceTopics);
        this.sinkTopics = List.copyOf(b.sinkTopics);
        this.sinkTables = List.copyOf(b.sinkTables);
        this.internalTopics = List.copyOf(b.internalTopics.values());
        this.stores = Map.copyOf(b.stores);
        this.nodeCount = b.nodes.size();

        int[] parent = new int[nodeCount];
        for (int i = 0; i < nodeCount; i++) {
            parent[i] = i;
        }
        Map<String, Integer> storeOwner = new HashMap<>();
        for (GraphNode n : b.nodes) {
            for (GraphNode c : n.children) {
                union(parent, n.id, c.id);
            }
            for (String s : n.stores) {
                Integer owner = storeOwner.putIfAbsent(s, n.id);
                if (owner != null) {
                    union(parent, owner, n.id);
                }
            }
        }
        Map<Integer, List<GraphNode>> byRoot = new java.util.LinkedHashMap<>();
        for (GraphNode n : b.nodes) {           // in id order, so sub-topologies are numbered by their first node
            byRoot.computeIfAbsent(find(parent, n.id), r -> new ArrayList<>()).add(n);
        }
        List<SubTopology> subs = new ArrayList<>();
        List<List<GraphNode>> nodes = new ArrayList<>();
        for (List<GraphNode> part : byRoot.values()) {
            List<String> inputs = new ArrayList<>();
            Set<String> partStores = new LinkedHashSet<>();
            for (GraphNode n : part) {
                if (n.inputTopic != null) {
                    inputs.add(n.inputTopic);
                }
                partStores.addAll(n.stores);
            }
            if (inputs.isEmpty()) {
                throw new IllegalStateException("part of pipeline " + name + " reads no topic: " + part);
            }
            subs.add(new SubTopology(subs.size(), inputs, new ArrayList<>(partStores)));
            nodes.add(List.copyOf(part));
        }
        this.subTopologies = List.copyOf(subs);
        this.nodesBySubTopology = List.copyOf(nodes);
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    private static void union(int[] parent, int a, int b) {
        int ra = find(parent, a);
        int rb = find(parent, b);
        if (ra != rb) {
            parent[Math.max(ra, rb)] = Math.min(ra, rb);
        }
    }

    public String name() {
        return name;
    }

    /** External input topics; all must have the same number of partitions (the runtime checks). */
    public List<String> sourceTopics() {
        return sourceTopics;
    }

    /** External output topics, late-record side topics included. */
    public List<String> sinkTopics() {
        return sinkTopics;
    }

    /** The Spate tables the pipeline writes ({@code toTable}). */
    public List<String> sinkTables() {
        return sinkTables;
    }

    /** {@link #WINDOW_CLOSE_IDLE_MS}: how long a task's inputs bring nothing before its stream time follows the wall clock, or -1 (off). */
    public long windowCloseIdleMs() {
        return windowCloseIdleMs;
    }

    public List<InternalTopic> internalTopics() {
        return internalTopics;
    }

    public List<SubTopology> subTopologies() {
        return subTopologies;
    }

    public Task createTask(int subTopologyId, int partition) {
        return createTask(subTopologyId, partition, InMemoryStores.INSTANCE);
    }

    /** A task whose stores come from {@code storeFactory} (empty: restore them before processing). */
    public Task createTask(int subTopologyId, int partition, StoreFactory storeFactory) {
        if (subTopologyId < 0 || subTopologyId >= subTopologies.size()) {
            throw new IllegalArgumentException("pipeline " + name + " has no sub-topology " + subTopologyId);
        }
        if (partition < 0) {
            throw new IllegalArgumentException("partition " + partition);
        }
        SubTopology sub = subTopologies.get(subTopologyId);
        TaskContext ctx = new TaskContext(subTopologyId, partition, storeFactory);
        for (String s : sub.stores()) {
            StoreSpec spec = stores.get(s);
            ctx.stores.put(s, spec.maker().make(ctx, spec.restoreTopic()));
        }
        ProcessorNode[] runtime = new ProcessorNode[nodeCount];
        List<GraphNode> nodes = nodesBySubTopology.get(subTopologyId);
        for (GraphNode n : nodes) {
            runtime[n.id] = n.factory.create(ctx, n.name);
        }
        Map<String, ProcessorNode.InputNode> sources = new HashMap<>();
        for (GraphNode n : nodes) {
            ProcessorNode p = runtime[n.id];
            p.children = new ProcessorNode[n.children.size()];
            for (int i = 0; i < p.children.length; i++) {
                p.children[i] = runtime[n.children.get(i).id];
            }
            if (n.inputTopic != null) {
                sources.put(n.inputTopic, (ProcessorNode.InputNode) p);
            }
        }
        return new StreamTask(ctx, sources, sub.inputTopics(), windowCloseIdleMs);
    }

    /** The sub-topologies, their topics and stores, and their operators with what each feeds. */
    public String describe() {
        StringBuilder sb = new StringBuilder("Pipeline ").append(name).append('\n');
        sb.append("  sources: ").append(sourceTopics).append('\n');
        sb.append("  sinks: ").append(sinkTopics).append('\n');
        if (windowCloseIdleMs != WallClockStreamTime.OFF) {
            sb.append("  stream time follows the wall clock after ").append(windowCloseIdleMs).append(" ms without input\n");
        }
        if (!sinkTables.isEmpty()) {
            sb.append("  tables: ").append(sinkTables).append('\n');
        }
        for (InternalTopic t : internalTopics) {
            sb.append("  internal: ").append(t.name()).append(" (").append(t.kind()).append(t.compacted() ? ", compacted" : "").append(")\n");
        }
        for (SubTopology sub : subTopologies) {
            sb.append("  Sub-topology ").append(sub.id()).append(": inputs ").append(sub.inputTopics());
            if (!sub.stores().isEmpty()) {
                sb.append(", stores ").append(sub.stores());
            }
            sb.append('\n');
            for (GraphNode n : nodesBySubTopology.get(sub.id())) {
                sb.append("    ").append(n.name).append(" [").append(n.kind);
                if (!n.detail.isEmpty()) {
                    sb.append(": ").append(n.detail);
                }
                sb.append(']');
                if (!n.children.isEmpty()) {
                    sb.append(" -> ").append(n.children);
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return describe();
    }
}
