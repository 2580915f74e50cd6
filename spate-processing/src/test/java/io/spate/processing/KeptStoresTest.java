package io.spate.processing;

import io.spate.replication.Partition;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whether a task's stores may be kept at a clean stop, and with which offsets: a changelog
 * partition that moved since the attempt began may already hold the next owner's changes, which
 * a checkpoint at its end would make the next start here skip. A real partition over a real log,
 * its roles the test's.
 */
class KeptStoresTest {
    private static final TopicPartition CHANGELOG = new TopicPartition("counts-changelog", 0);
    private static final TopicPartition SOURCE_TABLE = new TopicPartition("users", 0);
    private static final String CHANGELOG_KEY = io.spate.processing.store.StateCheckpoint.partitionKey("counts-changelog", 0);

    @RegisterExtension
    final OnDiskPartition replica = new OnDiskPartition("counts-changelog", 1);
    private Partition changelog;

    @BeforeEach
    void led() {
        changelog = replica.partition();
        changelog.becomeLeader(3, 1, List.of(1, 2), List.of(1), System.currentTimeMillis());
        for (int i = 0; i < 3; i++) {
            changelog.appendAsLeader(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(1L, ("k" + i).getBytes(), "1".getBytes()))
                    .buffer(), System.currentTimeMillis());
        }
    }

    private Map<String, Long> offsets(Map<TopicPartition, Integer> ledAtStart) {
        return KeptStores.checkpointOffsets(List.of("counts-changelog", "users"), 0, Map.of(SOURCE_TABLE, 7L), ledAtStart,
                tp -> tp.equals(CHANGELOG) ? changelog : null, false);
    }

    @Test
    void storesAreKeptAtTheChangelogsEndWhileItIsLedHereAsWhenTheTaskStarted() {
        assertThat(offsets(Map.of(CHANGELOG, 3))).containsEntry(CHANGELOG_KEY, 3L)
                .containsEntry(io.spate.processing.store.StateCheckpoint.partitionKey("users", 0), 7L);
    }

    @Test
    void storesAreNotKeptOnceTheChangelogMovedEvenAwayAndBack() {
        changelog.becomeFollower(4, 2, 2, List.of(1, 2), List.of(2));
        assertThat(offsets(Map.of(CHANGELOG, 3))).as("a follower's end may hold the next owner's changes").isNull();
        changelog.becomeLeader(5, 3, List.of(1, 2), List.of(1), System.currentTimeMillis());
        assertThat(offsets(Map.of(CHANGELOG, 3))).as("led here again, at another epoch").isNull();
        assertThat(offsets(Map.of())).as("not led here when the task started").isNull();
    }
}
