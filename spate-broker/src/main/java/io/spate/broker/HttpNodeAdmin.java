package io.spate.broker;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.ClusterSettings;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.NodeInfo;
import io.spate.http.NodeAdmin;
import io.spate.http.RequestStats;
import io.spate.server.partition.ReplicaManager;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The web console's and {@code /admin}'s view of the node: the cluster from its committed metadata
 * (fenced nodes and voters included), the pipelines as {@code spate pipeline describe} reads them
 * (the catalog and status topics, followed by {@link PipelineCatalogView}), and its live request figures.
 */
final class HttpNodeAdmin implements NodeAdmin, AutoCloseable {
    private final int nodeId;
    private final String clusterId;
    private final String rack;
    private final MetadataLog metadata;
    private final ReplicaManager replicas;
    private final List<ClusterSettings.Voter> voters;
    private final String bootstrap;
    private final RequestStats stats;
    private PipelineCatalogView pipelines;
    private boolean closed;

    HttpNodeAdmin(int nodeId, String clusterId, String rack, MetadataLog metadata, ReplicaManager replicas, List<ClusterSettings.Voter> voters,
                  String bootstrap, RequestStats stats) {
        this.nodeId = nodeId;
        this.clusterId = clusterId;
        this.rack = rack == null || rack.isBlank() ? null : rack;
        this.metadata = metadata;
        this.replicas = replicas;
        this.voters = List.copyOf(voters);
        this.bootstrap = bootstrap;
        this.stats = stats;
    }

    @Override
    public Cluster cluster() {
        ClusterImage image = metadata.image();
        Map<Integer, Node> nodes = new TreeMap<>();
        for (NodeInfo n : image.nodes().values()) {
            boolean voter = voters.stream().anyMatch(v -> v.id() == n.id());
            nodes.put(n.id(), new Node(n.id(), n.host(), n.port(), n.rack().isEmpty() ? null : n.rack(), n.fenced(), voter, true,
                    image.leaderCount(n.id()), n.tablesPort() == NodeInfo.NO_TABLES_PORT ? -1 : n.tablesPort()));
        }
        for (ClusterSettings.Voter v : voters) {
            // A voter the metadata does not hold has never registered (its process never started).
            nodes.putIfAbsent(v.id(), new Node(v.id(), v.host(), -1, v.id() == nodeId ? rack : null, false, true, false, 0, -1));
        }
        return new Cluster(clusterId, nodeId, metadata.controllerLeader(), rack, replicas.holdsLease(), image.version(),
                new ArrayList<>(nodes.values()));
    }

    @Override
    public List<Pipeline> pipelines() {
        return pipelineView().pipelines();
    }

    /** Made on the first look, so that a node whose console is never opened keeps no clients for it. */
    synchronized PipelineCatalogView pipelineView() {
        if (closed) {
            throw new IllegalStateException("the node is closing");
        }
        if (pipelines == null) {
            pipelines = new PipelineCatalogView(bootstrap, nodeId);
        }
        return pipelines;
    }

    @Override
    public RequestStats requestStats() {
        return stats;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (pipelines != null) {
            pipelines.close();
            pipelines = null;
        }
    }
}
