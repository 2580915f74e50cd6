package io.spate.processing;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.replication.PartitionContext;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * A real partition over a real log in a test's directory, starting as a follower's replica on
 * node {@code nodeId}; the test moves it through the roles its node's metadata would give it.
 */
final class OnDiskPartition implements AutoCloseable {
    private final LogManager logs;
    final Partition partition;

    OnDiskPartition(Path dataDir, String topic, int nodeId) throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        TopicPartition tp = new TopicPartition(topic, 0);
        partition = new Partition(tp, logs.getOrCreate(tp, LogConfig.from(Map.of())), nodeId, Partition.Role.FOLLOWER,
                PartitionContext.defaults());
    }

    @Override
    public void close() {
        logs.close();
    }
}
