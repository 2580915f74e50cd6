package io.spate.server.metadata;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.NodeInfo;
import io.spate.cluster.PartitionState;
import io.spate.server.partition.ReplicaManager;

import java.util.ArrayList;
import java.util.List;

/**
 * What clients are told about the cluster: its live nodes, who leads each partition, and which
 * node is the controller: the committed metadata this node has learned (a standalone node's own).
 */
public interface ClusterView {
    /** {@code rack}: the node's {@code broker.rack}, null when it has none. */
    record Broker(int id, String host, int port, String rack) {
        static Broker of(NodeInfo node) {
            return new Broker(node.id(), node.host(), node.port(), node.rack().isEmpty() ? null : node.rack());
        }
    }

    /**
     * {@code elr}: KIP-966's eligible leader replicas (out of the in-sync set, yet safe to elect);
     * {@code adding}: the replicas a running reassignment is still copying to.
     */
    record PartitionView(int leader, int leaderEpoch, List<Integer> replicas, List<Integer> isr, List<Integer> elr, List<Integer> adding) {
        /**
         * Fewer replicas in sync than the partition is meant to have. As in Kafka, the replicas a
         * reassignment is adding do not count: they are listed in {@code replicas} before they
         * have copied anything, and a partition moving healthily is not short of replicas.
         */
        public boolean underReplicated() {
            return isr.size() < replicas.size() - adding.size();
        }
    }

    List<Broker> brokers();

    Broker broker(int id);

    /** Null when the partition does not exist. */
    PartitionView partition(String topic, int partition);

    int controllerId();

    /** The partition's replicas on nodes that are not live (fenced or unknown). */
    default List<Integer> offlineReplicas(PartitionView partition) {
        return partition.replicas().stream().filter(id -> broker(id) == null).toList();
    }

    /**
     * The committed metadata {@code self} has learned, told as it is while {@code replicas} holds
     * its leader lease. Without it (the node has not heard the controller for most of a session:
     * cut off, paused, or not registered yet) the node leaves itself out, being no broker to
     * connect to, and names no leader at all, since any of its image may be stale. Kafka clients refresh metadata from the least-loaded node they
     * know, which is the one they are connected to; told of the others only, they ask those next
     * instead of coming back to a node that keeps naming itself leader (fault campaign 4, seed 3000:
     * clients stayed 6 s with a node cut off from the others while every leader had moved).
     */
    static ClusterView of(MetadataLog metadata, ReplicaManager replicas) {
        int self = replicas.localId();
        return new ClusterView() {
            @Override
            public List<Broker> brokers() {
                boolean vouches = replicas.holdsLease();
                List<Broker> live = new ArrayList<>();
                for (NodeInfo node : metadata.image().nodes().values()) {
                    if (!node.fenced() && (vouches || node.id() != self)) {
                        live.add(Broker.of(node));
                    }
                }
                return live;
            }

            @Override
            public Broker broker(int id) {
                NodeInfo node = metadata.image().node(id);
                if (node == null || node.fenced() || (id == self && !replicas.holdsLease())) {
                    return null;
                }
                return Broker.of(node);
            }

            @Override
            public PartitionView partition(String topic, int partition) {
                ClusterImage image = metadata.image();
                PartitionState state = image.partition(topic, partition);
                if (state == null) {
                    return null;
                }
                // Without its lease the node's whole image may be stale, not only its own leaderships.
                int leader = replicas.holdsLease() ? state.leader() : PartitionState.NO_LEADER;
                return new PartitionView(leader, state.leaderEpoch(), state.replicas(), state.isr(), state.elr(), state.adding());
            }

            @Override
            public int controllerId() {
                return metadata.controllerLeader();
            }
        };
    }
}
