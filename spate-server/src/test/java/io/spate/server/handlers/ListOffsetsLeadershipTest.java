package io.spate.server.handlers;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ListOffsets on a leadership whose followers have not reported yet: its high watermark can
 * trail what the previous leader acknowledged, so the latest offset is not known and is not
 * answered (OFFSET_NOT_AVAILABLE, which clients retry) until it is.
 */
class ListOffsetsLeadershipTest {
    @TempDir
    Path dataDir;

    @Test
    void theLatestOffsetIsNotAnsweredUntilANewLeadershipsFollowersReachWhatItTookOverWith() throws Exception {
        try (LogManager logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000)) {
            Partition partition = new Partition(new TopicPartition("t", 0), logs.getOrCreate(new TopicPartition("t", 0),
                    LogConfig.defaultConfig()), 1, Partition.Role.FOLLOWER);
            partition.becomeLeader(1, 1, List.of(1, 2), List.of(1, 2), 1_000);
            long end = partition.appendAsLeader(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(5L, null, "a".getBytes()),
                    new SimpleRecord(6L, null, "b".getBytes())).buffer(), 1_000).nextOffset();
            partition.becomeLeader(2, 2, List.of(1, 2), List.of(1, 2), 1_000);   // a new term: follower 2 has not fetched since

            assertThat(latest(partition).errorCode()).isEqualTo(Errors.OFFSET_NOT_AVAILABLE.code());
            assertThat(byTime(partition, 6).errorCode()).isEqualTo(Errors.OFFSET_NOT_AVAILABLE.code());
            assertThat(earliest(partition).errorCode()).isEqualTo(Errors.NONE.code());

            partition.onFollowerFetch(2, end, 1_000, "");
            assertThat(latest(partition).errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(latest(partition).offset()).isEqualTo(end);
            assertThat(byTime(partition, 6).offset()).isEqualTo(1);
        }
    }

    @Test
    void anOffsetFoundCarriesTheEpochOfItsBatchAndTheLatestTheLeaders() throws Exception {
        try (LogManager logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000)) {
            Partition partition = new Partition(new TopicPartition("t", 0), logs.getOrCreate(new TopicPartition("t", 0),
                    LogConfig.defaultConfig()), 1, Partition.Role.FOLLOWER);
            partition.becomeLeader(1, 1, List.of(1), List.of(1), 1_000);
            partition.appendAsLeader(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(5L, null, "a".getBytes())).buffer(), 1_000);
            partition.becomeLeader(3, 2, List.of(1), List.of(1), 1_000);
            partition.appendAsLeader(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(9L, null, "b".getBytes())).buffer(), 1_000);
            partition.becomeLeader(4, 3, List.of(1), List.of(1), 1_000);

            assertThat(earliest(partition).leaderEpoch()).as("the log start's batch was written in epoch 1").isEqualTo(1);
            assertThat(byTime(partition, 5).leaderEpoch()).isEqualTo(1);
            assertThat(byTime(partition, 7).offset()).isEqualTo(1);
            assertThat(byTime(partition, 7).leaderEpoch()).isEqualTo(3);
            assertThat(byTime(partition, -3).leaderEpoch()).as("the largest timestamp's batch").isEqualTo(3);
            assertThat(byTime(partition, 99).offset()).isEqualTo(-1);
            assertThat(byTime(partition, 99).leaderEpoch()).as("nothing found").isEqualTo(-1);
            assertThat(latest(partition).leaderEpoch()).as("the leader's").isEqualTo(4);
        }
    }

    private static org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse latest(Partition partition) {
        return byTime(partition, -1);
    }

    private static org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse earliest(Partition partition) {
        return byTime(partition, -2);
    }

    private static org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse byTime(Partition partition, long timestamp) {
        return ListOffsetsHandler.lookup(partition, new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0)
                .setCurrentLeaderEpoch(-1).setTimestamp(timestamp), (short) 9, false);
    }
}
