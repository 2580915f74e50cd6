package io.spate.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * Spreads replicas and preferred leaders evenly: partition p of a topic starts at node
 * {@code (start + p) mod n} and takes the next {@code factor - 1} nodes after it, so leaders
 * rotate over the nodes and each node follows as many partitions as it leads. The start is
 * taken from the topic name so that many small topics do not all lead on the first node.
 */
public final class Placement {
    private Placement() {
    }

    public static List<List<Integer>> assign(String topic, int firstPartition, int count, int factor, List<Integer> nodes) {
        if (factor > nodes.size()) {
            throw new IllegalArgumentException("replication factor " + factor + " is larger than the number of live nodes (" + nodes.size() + ")");
        }
        int start = Math.floorMod(topic.hashCode(), nodes.size());
        List<List<Integer>> assignment = new ArrayList<>(count);
        for (int p = firstPartition; p < firstPartition + count; p++) {
            List<Integer> replicas = new ArrayList<>(factor);
            for (int r = 0; r < factor; r++) {
                replicas.add(nodes.get((start + p + r) % nodes.size()));
            }
            assignment.add(replicas);
        }
        return assignment;
    }
}
