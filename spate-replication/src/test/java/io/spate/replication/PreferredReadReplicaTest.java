package io.spate.replication;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Follower fetching (KIP-392): a consumer in a follower's rack is sent to that follower only for
 * an offset the follower holds, and a fetch below the leader's log start is answered by the
 * leader, out of range, so the consumer resets instead of going back and forth for good.
 * One partition led here (rack a) over a real log, follower 2 in rack b; its fetches are the test's.
 */
class PreferredReadReplicaTest {
    private static final TopicPartition TP = new TopicPartition("orders", 0);
    private static final long NOW = 1_000;

    @TempDir
    Path dataDir;
    private LogManager logs;
    private Partition partition;

    @BeforeEach
    void open() throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        partition = new Partition(TP, logs.getOrCreate(TP, LogConfig.defaultConfig()), 1, Partition.Role.FOLLOWER);
        partition.becomeLeader(1, 1, List.of(1, 2), List.of(1, 2), NOW);
        for (int i = 0; i < 10; i++) {
            SimpleRecord record = new SimpleRecord(NOW, null, ("v" + i).getBytes(StandardCharsets.UTF_8));
            assertThat(partition.appendAsLeader(MemoryRecords.withRecords(Compression.NONE, record).buffer(), NOW).ok()).isTrue();
        }
    }

    @AfterEach
    void close() {
        logs.close();
    }

    @Test
    void aConsumerIsSentToTheFollowerInItsRackOnlyForOffsetsTheFollowerAndTheLeaderHold() throws IOException {
        partition.onFollowerFetch(2, 10, 0, NOW, "b", true);
        assertThat(partition.preferredReadReplica("b", "a", 4)).isEqualTo(2);
        assertThat(partition.preferredReadReplica("a", "a", 4)).as("same rack as the leader").isEqualTo(-1);

        partition.log().deleteRecordsBefore(6);
        assertThat(partition.preferredReadReplica("b", "a", 4))
                .as("below the leader's log start: read here and answered out of range, so the consumer resets").isEqualTo(-1);
        assertThat(partition.preferredReadReplica("b", "a", 6)).as("the follower has not cut its log yet; it holds 6").isEqualTo(2);

        partition.onFollowerFetch(2, 10, 8, NOW, "b", true); // the follower's log now starts at 8
        assertThat(partition.preferredReadReplica("b", "a", 6)).as("the follower no longer holds 6").isEqualTo(-1);
        assertThat(partition.preferredReadReplica("b", "a", 8)).isEqualTo(2);
        assertThat(partition.preferredReadReplica("b", "a", 11)).as("past what the follower holds").isEqualTo(-1);
    }
}
