package io.spate.replication;

import io.spate.log.AppendResult;
import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A follower's side: what the leader's fetch responses carry beyond records (its log start
 * offset) and what a follower whose log ends below the leader's log start does.
 */
class FollowerPartitionTest {
    private static final TopicPartition TP = new TopicPartition("orders", 0);

    @TempDir
    Path dataDir;

    private LogManager logs;
    private Partition follower;

    @BeforeEach
    void open() throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        PartitionLog log = logs.getOrCreate(TP, LogConfig.from(Map.of("segment.bytes", "1024")));
        follower = new Partition(TP, log, 2, Partition.Role.FOLLOWER);
        follower.becomeFollower(1, 1, 1, List.of(1, 2), List.of(1, 2));
    }

    @AfterEach
    void close() {
        logs.close();
    }

    /** One batch of {@code count} records numbered from {@code baseOffset} at leader epoch 1, as the leader stored it. */
    private static ByteBuffer batch(long baseOffset, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(1_000L, null, ("value-" + (baseOffset + i) + "-" + "x".repeat(40)).getBytes(StandardCharsets.UTF_8));
        }
        MemoryRecords built = MemoryRecords.withRecords(baseOffset, Compression.NONE, 1, records);
        return built.buffer();
    }

    @Test
    void theLogStartFollowsTheLeadersFromTheFetchResponse() {
        long next = 0;
        for (int i = 0; i < 40; i++) {
            AppendResult result = follower.appendAsFollower(batch(next, 2), next + 2, -1, 1_000, 1);
            assertThat(result.ok()).isTrue();
            next += 2;
        }
        PartitionLog log = follower.log();
        assertThat(log.segmentCount()).isGreaterThan(2);
        assertThat(log.logStartOffset()).isZero();
        // Retention on the leader moved its log start to 30; the next response says so.
        follower.appendAsFollower(ByteBuffer.allocate(0), next, 30, 1_000, 1);
        assertThat(log.logStartOffset()).isEqualTo(30);
        assertThat(log.read(10, 1 << 20, next, true).error()).as("offsets below the log start are gone here too")
                .isEqualTo(io.spate.log.LogError.OFFSET_OUT_OF_RANGE);
    }

    @Test
    void aFollowerBelowTheLeadersLogStartStartsOverThere() throws IOException {
        follower.appendAsFollower(batch(0, 5), 5, 0, 1_000, 1);
        assertThat(follower.truncateFullyAsFollower(3, 1)).as("the log reaches the leader's start: nothing to do").isFalse();
        assertThat(follower.truncateFullyAsFollower(500, 0)).as("another epoch: nothing to do").isFalse();
        assertThat(follower.truncateFullyAsFollower(500, 1)).isTrue();
        assertThat(follower.log().logStartOffset()).isEqualTo(500);
        assertThat(follower.log().logEndOffset()).isEqualTo(500);
        assertThat(follower.appendAsFollower(batch(500, 3), 503, 500, 1_000, 1).ok()).isTrue();
        assertThat(follower.log().logEndOffset()).isEqualTo(503);
        assertThat(follower.log().highWatermark()).isEqualTo(503);
    }
}
