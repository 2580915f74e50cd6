package io.spate.http;

import io.spate.log.TopicPartition;
import io.spate.replication.Partition;

import java.util.List;

/**
 * What the HTTP API needs of the node it runs in: its replicas, and what the cluster metadata says
 * about topics. The node implements it over its replica manager and topic registry, so this module
 * depends on the partition API and not on the server.
 */
public interface NodePartitions {
    /** This node's replica of {@code partition}, leader or follower; null when it holds none. */
    Partition localReplica(TopicPartition partition);

    /** The topic's partition count; -1 when the topic is unknown. */
    int partitionCount(String topic);

    /** True for the topics only the node's coordinators write (group offsets, transaction state). */
    boolean isInternal(String topic);

    /** Every topic's name. */
    List<String> topics();

    /** Where a partition is led and replicated, as this node's metadata says; null when it does not know. */
    Placement placement(String topic, int partition);

    /**
     * The ids of the live brokers, ascending (REST Proxy v2 {@code GET /brokers}). By default those
     * any partition places a replica on; the node lists its cluster's registered, unfenced nodes.
     */
    default List<Integer> brokers() {
        java.util.TreeSet<Integer> ids = new java.util.TreeSet<>();
        for (String topic : topics()) {
            for (int p = 0; p < Math.max(0, partitionCount(topic)); p++) {
                Placement placement = placement(topic, p);
                if (placement != null) {
                    ids.addAll(placement.replicas());
                }
            }
        }
        return List.copyOf(ids);
    }

    /** Where node {@code id} takes Kafka-protocol requests; null when it is not live (or not known here). */
    java.net.InetSocketAddress kafkaAddress(int id);

    /** The largest record batch {@code topic} takes (its {@code max.message.bytes}), as far as this node knows. */
    default int maxMessageBytes(String topic) {
        return Integer.MAX_VALUE;
    }

    /** A partition's leader (-1 when none), its replicas, its in-sync set and the replicas a running reassignment is adding. */
    record Placement(int leader, List<Integer> replicas, List<Integer> isr, List<Integer> adding) {
        public Placement {
            replicas = List.copyOf(replicas);
            isr = List.copyOf(isr);
            adding = List.copyOf(adding);
        }

        /** Fewer replicas in sync than the partition is meant to have; as in Kafka, the replicas being added do not count yet. */
        public boolean underReplicated() {
            return isr.size() < replicas.size() - adding.size();
        }
    }
}
