package io.spate.http;

import java.util.List;
import java.util.Map;

/**
 * What the admin endpoints and the web console need of the node beyond its partitions: the
 * cluster as its metadata tells it (fenced nodes included, which the Kafka protocol does not
 * list), its pipelines, and its live request figures. {@code spate-broker}'s
 * {@code HttpNodeAdmin} implements it, so this module names nothing of the server.
 */
public interface NodeAdmin {
    /** The cluster as this node's committed metadata tells it now. */
    Cluster cluster();

    /** Every pipeline deployed on the cluster, with its tasks' last reports. */
    List<Pipeline> pipelines() throws Exception;

    /** The node's Kafka request figures per API, recorded as requests are answered. */
    RequestStats requestStats();

    /**
     * @param nodeId       this node
     * @param controllerId the controller (the metadata quorum's Raft leader), -1 while there is none
     * @param rack         this node's {@code broker.rack}, null when unset (other nodes' racks are not in the metadata)
     * @param holdsLease   whether this node holds its leader lease (without it, it names no partition leader)
     */
    record Cluster(String clusterId, int nodeId, int controllerId, String rack, boolean holdsLease, long metadataVersion,
                   List<Node> nodes) {
        public Cluster {
            nodes = List.copyOf(nodes);
        }
    }

    /**
     * @param fenced       the controller fenced it (its heartbeats stopped): it leads nothing and is in no in-sync set
     * @param voter        a member of the metadata (controller) quorum
     * @param registered   the metadata holds it (a voter that never started is listed but not registered)
     * @param leaderCount  partitions it leads
     * @param tablesPort   where it takes table messages and the tables' native protocol, -1 when it serves no tables
     */
    record Node(int id, String host, int port, String rack, boolean fenced, boolean voter, boolean registered, int leaderCount,
                int tablesPort) {
    }

    /** A deployed pipeline and its tasks' last reports. */
    record Pipeline(String name, String source, String className, boolean paused, long generation, Map<String, String> settings,
                    List<Task> tasks) {
        public Pipeline {
            settings = Map.copyOf(settings);
            tasks = List.copyOf(tasks);
        }
    }

    /** One task's last report (see {@code spate pipeline describe}); latencies in microseconds. */
    record Task(int subTopology, int partition, int node, String state, long recordsProcessed, long inputLag,
                double recordsPerSecond, long latencyP50Us, long latencyP99Us, int restores, int failures, String error,
                long reportedAtMs) {
    }

    /** No cluster beyond the node's partitions, no pipelines: for a server started without the node's admin view. */
    static NodeAdmin none(RequestStats stats) {
        return new NodeAdmin() {
            @Override
            public Cluster cluster() {
                return new Cluster("", -1, -1, null, true, 0, List.of());
            }

            @Override
            public List<Pipeline> pipelines() {
                return List.of();
            }

            @Override
            public RequestStats requestStats() {
                return stats;
            }
        };
    }
}
