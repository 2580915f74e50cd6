package io.spate.replication;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node forwarding records to a partition's leader sends them again only when the leader
 * answered before appending anything: NOT_LEADER_OR_FOLLOWER without a log start offset. With
 * one, the leader appended and its leadership ended before the in-sync replicas held the
 * records: they may live on at the next leader, and sending them again would write them twice.
 */
class LeaderProduceTest {
    @TempDir
    Path dataDir;

    @Test
    void onlyARefusalBeforeTheAppendIsSentAgain() {
        short notLeader = Errors.NOT_LEADER_OR_FOLLOWER.code();
        assertThat(new LeaderProduce.Answer(notLeader, "NOT_LEADER_OR_FOLLOWER", "", -1, -1).nothingWritten()).isTrue();
        assertThat(new LeaderProduce.Answer(notLeader, "NOT_LEADER_OR_FOLLOWER", "", -1, 0).nothingWritten()).isFalse();
        assertThat(new LeaderProduce.Answer(Errors.FENCED_LEADER_EPOCH.code(), "FENCED_LEADER_EPOCH", "", -1, -1).nothingWritten()).isTrue();
        assertThat(new LeaderProduce.Answer(Errors.REQUEST_TIMED_OUT.code(), "REQUEST_TIMED_OUT", "", -1, 0).nothingWritten()).isFalse();
    }

    /** The leader's side of that signal: its write, appended, loses its leadership while it waits for the in-sync replicas. */
    @Test
    void aWriteWhoseLeadershipEndsAfterItsAppendIsRefusedWithTheLogStartAndOneBeforeWithout() throws Exception {
        try (LogManager logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000)) {
            TopicPartition tp = new TopicPartition("t", 0);
            Partition partition = new Partition(tp, logs.getOrCreate(tp, LogConfig.defaultConfig()), 1, Partition.Role.FOLLOWER);
            partition.becomeLeader(1, 1, List.of(1, 2), List.of(1, 2), System.currentTimeMillis());
            var appended = partition.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("x".getBytes())).buffer(), Acks.ALL,
                    30_000, System.currentTimeMillis());
            partition.becomeFollower(2, 2, 2, List.of(1, 2), List.of(1, 2));
            Written afterAppend = appended.get(10, TimeUnit.SECONDS);
            assertThat(afterAppend.error()).isEqualTo(WriteError.NOT_LEADER);
            assertThat(afterAppend.logStartOffset()).isNotNegative();

            Written before = partition.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("y".getBytes())).buffer(), Acks.ALL,
                    30_000, System.currentTimeMillis()).get(10, TimeUnit.SECONDS);
            assertThat(before.error()).isEqualTo(WriteError.NOT_LEADER);
            assertThat(before.logStartOffset()).isNegative();
        }
    }
}
