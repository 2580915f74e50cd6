package io.spate.processing;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.replication.PartitionContext;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A real partition over a real log in a directory of its own, fresh for each test, starting as a
 * follower's replica on node {@code nodeId}; the test moves it through the roles its node's
 * metadata would give it. Registered with {@code @RegisterExtension}.
 */
final class OnDiskPartition implements BeforeEachCallback, AfterEachCallback {
    private final String topic;
    private final int nodeId;
    private final boolean ledAlone;
    private Path dataDir;
    private LogManager logs;
    private Partition partition;

    OnDiskPartition(String topic, int nodeId) {
        this(topic, nodeId, false);
    }

    private OnDiskPartition(String topic, int nodeId, boolean ledAlone) {
        this.topic = topic;
        this.nodeId = nodeId;
        this.ledAlone = ledAlone;
    }

    /** A partition its node leads with itself alone in sync: an append is acknowledged once in its log. */
    static OnDiskPartition ledAlone(String topic, int nodeId) {
        return new OnDiskPartition(topic, nodeId, true);
    }

    Partition partition() {
        return partition;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        dataDir = Files.createTempDirectory("spate-partition-");
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        TopicPartition tp = new TopicPartition(topic, 0);
        partition = new Partition(tp, logs.getOrCreate(tp, LogConfig.from(Map.of())), nodeId, Partition.Role.FOLLOWER,
                PartitionContext.defaults());
        if (ledAlone) {
            partition.becomeLeader(3, 1, List.of(nodeId), List.of(nodeId), System.currentTimeMillis());
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        logs.close();
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }
}
