package io.spate.cluster;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A change to the cluster metadata. Commands are entries of the replicated metadata log and are
 * applied in log order on every controller voter by {@link MetadataTransitions}; applying must
 * therefore be deterministic (ids and placements are chosen before a command is submitted).
 */
public sealed interface MetadataCommand {

    /**
     * A node (re)starts: it joins unfenced; a new incarnation first loses what the old one led.
     * {@code cleanShutdown}: its logs were closed cleanly before (or it never stopped), so nothing
     * unflushed was lost; otherwise it is no longer eligible to lead where it was (KIP-966).
     */
    record RegisterNode(int nodeId, String host, int port, long incarnation, boolean cleanShutdown, String rack, int tablesPort)
            implements MetadataCommand {
        public RegisterNode {
            rack = rack == null ? "" : rack;
        }

        /** A registration that advertises no tables listener. */
        public RegisterNode(int nodeId, String host, int port, long incarnation, boolean cleanShutdown, String rack) {
            this(nodeId, host, port, incarnation, cleanShutdown, rack, NodeInfo.NO_TABLES_PORT);
        }

        /** A registration with no rack ({@code broker.rack} unset). */
        public RegisterNode(int nodeId, String host, int port, long incarnation, boolean cleanShutdown) {
            this(nodeId, host, port, incarnation, cleanShutdown, "");
        }

        /** A registration that promises nothing about the node's logs. */
        public RegisterNode(int nodeId, String host, int port, long incarnation) {
            this(nodeId, host, port, incarnation, false);
        }
    }

    /** A node missed its session timeout (or is shutting down): it leads nothing and leaves every in-sync set. */
    record FenceNode(int nodeId, long incarnation) implements MetadataCommand {
    }

    /** {@code assignment.get(p)} lists the replicas of partition p, preferred leader first. */
    record CreateTopic(String name, UUID id, List<List<Integer>> assignment, Map<String, String> overrides) implements MetadataCommand {
    }

    record DeleteTopic(String name) implements MetadataCommand {
    }

    /**
     * Appends partitions with the given replica lists to a topic that has {@code expectedCount}
     * partitions when the command is applied; refused otherwise. The count is what the node that
     * decided the new partitions saw: two requests decided on the same count must not both add
     * theirs (Kafka's controller answers the second "Topic already has N partitions").
     * {@link #UNCHECKED}: appended whatever the count, as the entries written before the count was
     * carried were, and still are when replayed.
     */
    record CreatePartitions(String name, int expectedCount, List<List<Integer>> newAssignment) implements MetadataCommand {
        public static final int UNCHECKED = -1;

        /** The form of the entries written before the count was carried. */
        public CreatePartitions(String name, List<List<Integer>> newAssignment) {
            this(name, UNCHECKED, newAssignment);
        }
    }

    /**
     * Replaces the topic's settings with {@code overrides}, if they are still {@code basedOn} when
     * the command is applied (refused as stale otherwise): a node computes an incremental change
     * on its own copy of the settings, and two such changes computed on the same copy must not
     * have the later one silently undo the earlier. Null {@code basedOn}: replaces whatever is
     * there, as the entries written before the base was carried did.
     */
    record AlterTopicConfig(String name, Map<String, String> overrides, Map<String, String> basedOn) implements MetadataCommand {
        /** An unconditional replacement (the form of the entries written before the base was carried). */
        public AlterTopicConfig(String name, Map<String, String> overrides) {
            this(name, overrides, null);
        }
    }

    /**
     * Replaces the dynamic settings of node {@code nodeId} ({@link ClusterImage#EVERY_NODE}: of
     * every node without its own); an empty map removes them.
     */
    record AlterNodeConfig(int nodeId, Map<String, String> configs) implements MetadataCommand {
    }

    /**
     * Sets the keys of {@code set} and removes those of {@code deleted} in the dynamic settings of
     * node {@code nodeId} ({@link ClusterImage#EVERY_NODE}: of every node without its own), leaving
     * its other keys as they are when the command is applied. A whole map made from one node's
     * copy undid a change to another key committed meanwhile through another node; Kafka's
     * controller too applies an incremental change to the settings it holds. The two key sets
     * are disjoint.
     */
    record AlterNodeConfigKeys(int nodeId, Map<String, String> set, Set<String> deleted) implements MetadataCommand {
        public AlterNodeConfigKeys {
            set = Map.copyOf(set);
            deleted = Set.copyOf(deleted);
            for (String key : deleted) {
                if (set.containsKey(key)) {
                    throw new IllegalArgumentException("'" + key + "' is both set and deleted");
                }
            }
        }
    }

    /** The leader's request to change the in-sync set; refused when based on an old leader or partition epoch. */
    record AlterIsr(String topic, int partition, int leader, int leaderEpoch, int partitionEpoch, List<Integer> isr) implements MetadataCommand {
    }

    /**
     * Several leaders' in-sync set changes in one entry, each applied or refused on its own as an
     * {@link AlterIsr} would be. A node sends the changes it has at hand together: after a failover
     * or a node's return every partition asks at once, and one metadata commit per partition made
     * the last of them wait seconds behind the others (the fault campaigns measured a median of
     * 640 ms and a 90th percentile of 2.4 s per change).
     */
    record AlterIsrs(List<AlterIsr> changes) implements MetadataCommand {
        public AlterIsrs {
            changes = List.copyOf(changes);
        }
    }

    /** Moves leadership back to the preferred replica when it is alive and in sync. */
    record ElectPreferredLeader(String topic, int partition) implements MetadataCommand {
    }

    /**
     * Moves a partition to {@code target} replicas (preferred leader first): the new replicas copy
     * from the leader and join the in-sync set, then the partition drops the replicas not in the
     * target. An empty target cancels a running reassignment.
     */
    record ReassignPartition(String topic, int partition, List<Integer> target) implements MetadataCommand {
    }

    /**
     * Adds a masterless table to the catalog every node serves ({@link TableSpec}); refused when a
     * table of that name exists. The settings are validated before the command is submitted.
     */
    record CreateTable(String name, Map<String, String> config) implements MetadataCommand {
        public CreateTable {
            config = Map.copyOf(config);
        }
    }

    /** Hands a node a block of producer ids that no other node will hand out. */
    record AllocateProducerIds(int nodeId, int count) implements MetadataCommand {
    }
}
