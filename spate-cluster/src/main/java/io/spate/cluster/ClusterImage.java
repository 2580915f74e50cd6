package io.spate.cluster;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * An immutable view of the committed cluster metadata at one position of the metadata log.
 * Every node holds the latest image it has learned and acts on it; changes make new images.
 *
 * @param version          index of the last metadata log entry applied (0: nothing yet)
 * @param nextProducerId   the first producer id not yet handed out to any node
 * @param tables           the masterless tables' catalog, by name
 */
public record ClusterImage(long version, Map<Integer, NodeInfo> nodes, Map<String, TopicState> topics, long nextProducerId,
                           Map<String, TableSpec> tables, Map<Integer, Map<String, String>> nodeConfigs) {
    public static final ClusterImage EMPTY = new ClusterImage(0, Map.of(), Map.of(), 0);
    /** The key of {@link #nodeConfigs()} for the settings of every node without its own (Kafka's cluster-wide default). */
    public static final int EVERY_NODE = -1;

    public ClusterImage {
        nodes = Collections.unmodifiableMap(new TreeMap<>(nodes));
        topics = Collections.unmodifiableMap(new TreeMap<>(topics));
        tables = Collections.unmodifiableMap(new TreeMap<>(tables));
        TreeMap<Integer, Map<String, String>> configs = new TreeMap<>();
        nodeConfigs.forEach((node, values) -> {
            if (!values.isEmpty()) {
                configs.put(node, Collections.unmodifiableMap(new TreeMap<>(values)));
            }
        });
        nodeConfigs = Collections.unmodifiableMap(configs);
    }

    /** An image with no dynamic node settings. */
    public ClusterImage(long version, Map<Integer, NodeInfo> nodes, Map<String, TopicState> topics, long nextProducerId,
                        Map<String, TableSpec> tables) {
        this(version, nodes, topics, nextProducerId, tables, Map.of());
    }

    /**
     * A node's dynamic setting ({@code kafka-configs.sh --entity-type brokers}): its own value,
     * else the value set for every node, else null.
     */
    public String nodeConfig(int nodeId, String key) {
        String own = nodeConfigs.getOrDefault(nodeId, Map.of()).get(key);
        return own != null ? own : nodeConfigs.getOrDefault(EVERY_NODE, Map.of()).get(key);
    }

    /** An image with no tables. */
    public ClusterImage(long version, Map<Integer, NodeInfo> nodes, Map<String, TopicState> topics, long nextProducerId) {
        this(version, nodes, topics, nextProducerId, Map.of());
    }

    public TopicState topic(String name) {
        return topics.get(name);
    }

    public TopicState topic(UUID id) {
        for (TopicState topic : topics.values()) {
            if (topic.id().equals(id)) {
                return topic;
            }
        }
        return null;
    }

    public PartitionState partition(String topic, int partition) {
        TopicState state = topics.get(topic);
        return state == null || partition < 0 || partition >= state.partitions().size() ? null : state.partitions().get(partition);
    }

    public NodeInfo node(int id) {
        return nodes.get(id);
    }

    /** Registered nodes that are not fenced, in id order. */
    public List<Integer> liveNodes() {
        List<Integer> live = new ArrayList<>();
        nodes.values().forEach(n -> {
            if (!n.fenced()) {
                live.add(n.id());
            }
        });
        return live;
    }

    public int leaderCount(int nodeId) {
        int count = 0;
        for (TopicState topic : topics.values()) {
            for (PartitionState p : topic.partitions()) {
                if (p.leader() == nodeId) {
                    count++;
                }
            }
        }
        return count;
    }
}
