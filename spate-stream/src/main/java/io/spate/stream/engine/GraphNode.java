package io.spate.stream.engine;

import java.util.ArrayList;
import java.util.List;

/** A node of the logical graph the DSL builds; a task instantiates it as a {@link ProcessorNode}. */
final class GraphNode {
    @FunctionalInterface
    interface NodeFactory {
        ProcessorNode create(TaskContext ctx, String name);
    }

    final int id;
    final String name;
    final String kind;
    final String detail;
    final NodeFactory factory;
    final List<GraphNode> parents = new ArrayList<>();
    final List<GraphNode> children = new ArrayList<>();
    /** The topic a source node reads (stream, table or repartition source), else null. */
    String inputTopic;
    /** Stores this node uses: nodes sharing a store run in the same sub-topology. */
    final List<String> stores = new ArrayList<>();

    GraphNode(int id, String name, String kind, String detail, NodeFactory factory) {
        this.id = id;
        this.name = name;
        this.kind = kind;
        this.detail = detail;
        this.factory = factory;
    }

    @Override
    public String toString() {
        return name;
    }
}
