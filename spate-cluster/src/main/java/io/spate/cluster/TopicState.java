package io.spate.cluster;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/** A topic in the cluster metadata: its stable id, its partitions' replication state and its config overrides. */
public record TopicState(String name, UUID id, List<PartitionState> partitions, Map<String, String> overrides) {
    public TopicState {
        partitions = List.copyOf(partitions);
        overrides = Map.copyOf(overrides);
    }

    public int replicationFactor() {
        // A running move lists its leaving replicas too: the factor is what the partition keeps.
        return partitions.isEmpty() ? 0 : partitions.get(0).targetReplicas().size();
    }

    public TopicState withPartition(int index, PartitionState state) {
        var copy = new java.util.ArrayList<>(partitions);
        copy.set(index, state);
        return new TopicState(name, id, copy, overrides);
    }
}
