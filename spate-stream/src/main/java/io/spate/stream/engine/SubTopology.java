package io.spate.stream.engine;

import java.util.List;

/**
 * A connected part of the pipeline's graph, cut at repartition topics. Runs as one task per
 * partition; {@code inputTopics} are external or internal (repartition) topic names.
 */
public record SubTopology(int id, List<String> inputTopics, List<String> stores) {
    public SubTopology {
        inputTopics = List.copyOf(inputTopics);
        stores = List.copyOf(stores);
    }
}
