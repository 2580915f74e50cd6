package io.spate.processing;

import io.spate.replication.Partition;
import org.apache.kafka.common.TopicPartition;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * What a task's RocksDB stores, kept on disk after a clean stop, hold of each changelog: the
 * offsets its checkpoint records, below which the next start here reads nothing again.
 */
final class KeptStores {
    private KeptStores() {
    }

    /**
     * The checkpoint offsets of a task that stopped cleanly: for a source table (a changelog that
     * is one of its inputs), the input position it processed up to; for any other changelog, its
     * readable end here, but only while this node still leads that changelog partition at the
     * epoch it led it when the attempt began (every record below the end is then this task's own,
     * acknowledged by its clean stop). Once the partition moved, even away and back, the end here
     * may hold the next owner's changes, which the stores never saw: a checkpoint past them made
     * the next start here skip them (found by review). Null when the stores must not be kept.
     *
     * @param ledAtStart the leader epoch of each changelog partition this node led when the attempt began
     */
    static Map<String, Long> checkpointOffsets(java.util.Collection<String> changelogTopics, int partition, Map<TopicPartition, Long> at, Map<TopicPartition, Integer> ledAtStart,
                                               Function<TopicPartition, Partition> localPartition, boolean readCommitted) {
        Map<String, Long> offsets = new HashMap<>();
        for (String topic : changelogTopics) {
            TopicPartition tp = new TopicPartition(topic, partition);
            Long position = at.get(tp);
            if (position == null) {
                Partition local = localPartition.apply(tp);
                Integer epoch = ledAtStart.get(tp);
                if (local == null || epoch == null || !local.isLeader() || local.leaderEpoch() != epoch) {
                    return null;
                }
                try (TaskInput changelog = new LocalInput(local, readCommitted)) {
                    position = changelog.end();
                }
            }
            offsets.put(io.spate.processing.store.StateCheckpoint.partitionKey(tp.topic(), tp.partition()), position);
        }
        return offsets;
    }
}
