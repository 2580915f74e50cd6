package io.spate.broker;

import io.spate.http.NodePartitions;
import io.spate.log.LogConfig;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.server.metadata.ClusterView;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.partition.ReplicaManager;

import java.net.InetSocketAddress;
import java.util.List;

/** The HTTP API's view of this node: its replicas, and the topics and placements its metadata holds. */
final class HttpNodePartitions implements NodePartitions {
    private final TopicRegistry registry;
    private final ReplicaManager replicas;
    private final ClusterView view;
    private final HttpNodeAdmin admin;

    HttpNodePartitions(TopicRegistry registry, ReplicaManager replicas, ClusterView view, HttpNodeAdmin admin) {
        this.registry = registry;
        this.replicas = replicas;
        this.view = view;
        this.admin = admin;
    }

    /** The console's and {@code /admin}'s view of the node, beyond its partitions. */
    HttpNodeAdmin admin() {
        return admin;
    }

    @Override
    public Partition localReplica(TopicPartition partition) {
        return replicas.partition(partition);
    }

    @Override
    public int partitionCount(String topic) {
        TopicInfo info = registry.get(topic);
        return info == null ? -1 : info.partitions();
    }

    @Override
    public boolean isInternal(String topic) {
        // The pipelines' catalog and status topics too: only the processing tier writes them, and
        // a console user deleting one would take every pipeline's definition with it.
        return io.spate.server.metadata.TopicManager.isInternal(topic) || topic.equals(io.spate.processing.CatalogRecords.CATALOG_TOPIC)
                || topic.equals(io.spate.processing.CatalogRecords.STATUS_TOPIC);
    }

    @Override
    public List<String> topics() {
        return registry.all().stream().map(TopicInfo::name).toList();
    }

    @Override
    public Placement placement(String topic, int partition) {
        ClusterView.PartitionView p = view.partition(topic, partition);
        return p == null ? null : new Placement(p.leader(), p.replicas(), p.isr(), p.adding());
    }

    @Override
    public InetSocketAddress kafkaAddress(int id) {
        ClusterView.Broker broker = view.broker(id);
        return broker == null ? null : InetSocketAddress.createUnresolved(broker.host(), broker.port());
    }

    /**
     * The topic's {@code max.message.bytes} as DescribeConfigs tells it: its override, else this
     * node's {@code message.max.bytes}. The override alone let a batch built here for another
     * node's leader grow past a node-wide limit, and the leader refused the whole batch.
     */
    @Override
    public int maxMessageBytes(String topic) {
        TopicInfo info = registry.get(topic);
        String limit = info == null ? null : registry.effectiveConfig(info).get(LogConfig.MAX_MESSAGE_BYTES);
        if (limit == null) {
            return Integer.MAX_VALUE;
        }
        try {
            return Integer.parseInt(limit.trim());
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    @Override
    public List<Integer> brokers() {
        return view.brokers().stream().map(ClusterView.Broker::id).sorted().toList();
    }
}
