package io.spate.server.partition;

import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The partitions this node hosts, and the one place where logs are opened, closed and told to
 * become durable. Handlers reach partitions only through here.
 */
public final class ReplicaManager {
    private final LogManager logManager;
    private final TopicRegistry topics;
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();

    public ReplicaManager(LogManager logManager, TopicRegistry topics) {
        this.logManager = logManager;
        this.topics = topics;
    }

    /** Opens (and recovers) the logs of every partition of {@code topic} this node does not host yet. */
    public void hostPartitions(TopicInfo topic) throws IOException {
        for (int p = 0; p < topic.partitions(); p++) {
            TopicPartition tp = new TopicPartition(topic.name(), p);
            if (!partitions.containsKey(tp)) {
                PartitionLog log = logManager.getOrCreate(tp, topics.logConfig(topic));
                partitions.put(tp, new Partition(tp, log, 0));
            }
        }
    }

    public void applyConfig(TopicInfo topic) {
        var config = topics.logConfig(topic);
        for (int p = 0; p < topic.partitions(); p++) {
            Partition partition = partitions.get(new TopicPartition(topic.name(), p));
            if (partition != null) {
                partition.log().updateConfig(config);
            }
        }
    }

    public void removePartitions(TopicInfo topic) throws IOException {
        for (int p = 0; p < topic.partitions(); p++) {
            TopicPartition tp = new TopicPartition(topic.name(), p);
            partitions.remove(tp);
            logManager.delete(tp);
        }
    }

    public Partition partition(TopicPartition tp) {
        return partitions.get(tp);
    }

    public Partition partition(String topic, int partition) {
        return partitions.get(new TopicPartition(topic, partition));
    }

    /**
     * Completes when data up to {@code nextOffset} may be acknowledged under the topic's flush
     * policy: at once, or after a (shared) fsync.
     */
    public CompletableFuture<Void> awaitDurable(Partition partition, long nextOffset) {
        PartitionLog log = partition.log();
        if (!log.needsFlushBeforeAck(nextOffset)) {
            return CompletableFuture.completedFuture(null);
        }
        return logManager.flusher().flush(log);
    }

    public LogManager logManager() {
        return logManager;
    }
}
