package io.spate.cluster;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Cluster images for the planners' tests: live nodes, and topics whose replicas are all in sync, led by the first. */
final class TestImages {
    private TestImages() {
    }

    static Map<Integer, NodeInfo> nodes(int... ids) {
        Map<Integer, NodeInfo> nodes = new HashMap<>();
        for (int id : ids) {
            nodes.put(id, new NodeInfo(id, "127.0.0.1", 9000 + id, 1, false));
        }
        return nodes;
    }

    static TopicState topic(String name, List<List<Integer>> assignment, Map<String, String> overrides) {
        List<PartitionState> partitions = new ArrayList<>();
        for (List<Integer> replicas : assignment) {
            partitions.add(new PartitionState(replicas, replicas.get(0), 0, replicas, 0));
        }
        return new TopicState(name, UUID.nameUUIDFromBytes(name.getBytes()), partitions, overrides);
    }

    static ClusterImage image(Map<Integer, NodeInfo> nodes, TopicState... topics) {
        Map<String, TopicState> byName = new HashMap<>();
        for (TopicState t : topics) {
            byName.put(t.name(), t);
        }
        return new ClusterImage(1, nodes, byName, 0);
    }
}
