package io.spate.log;

import io.spate.record.RecordBatch;
import io.spate.record.TestBatches;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ProducerSnapshot}: version 2 carries transactions; version 1 files still load. */
class ProducerSnapshotTest {
    @TempDir
    Path dir;

    private static RecordBatch at(java.nio.ByteBuffer bytes, long offset) {
        RecordBatch batch = RecordBatch.of(bytes);
        batch.assign(offset, 0);
        return batch;
    }

    private static RecordBatch transactional(long producerId, int sequence, long offset) {
        return at(TestBatches.builder().attributes(RecordBatch.TRANSACTIONAL_MASK).producer(producerId, (short) 2, sequence)
                .baseTimestamp(5_000).record("k", "v").build(), offset);
    }

    @Test
    void versionTwoKeepsOpenTransactionsCoordinatorEpochsTimesAndTheTransactionsNotYetBelowTheHighWatermark() throws IOException {
        ProducerStateTable table = new ProducerStateTable();
        table.update(transactional(1, 0, 0));
        table.completeTxn(1, (short) 2, 9, false, 1, 6_000);       // decided, marker not replicated
        table.update(transactional(1, 1, 2));                        // 1 opens again at 2
        table.update(transactional(3, 0, 3));                        // 3 opens at 3
        table.update(at(TestBatches.idempotent(4, (short) 0, 0, 2), 4));
        table.onHighWatermark(1);

        ProducerSnapshot.write(dir, 6, table);
        ProducerSnapshot.Contents read = ProducerSnapshot.newest(dir, 0);
        ProducerStateTable restored = new ProducerStateTable();
        read.restoreInto(restored);

        assertThat(Files.readAllLines(ProducerSnapshot.fileFor(dir, 6)).get(0)).isEqualTo("2");
        assertThat(read.offset()).isEqualTo(6);
        assertThat(restored.views()).containsExactlyInAnyOrderElementsOf(table.views());
        assertThat(restored.views()).contains(new ProducerView(1, (short) 2, 1, 5_000, 9, 2), new ProducerView(3, (short) 2, 0, 5_000, -1, 3));
        assertThat(restored.unreplicatedTxns()).containsExactly(new ProducerStateTable.CompletedTxn(1, (short) 2, 0, 1));
        assertThat(restored.completedKnownFrom()).isEqualTo(1);
        assertThat(restored.firstUnstableOffset(1)).as("the marker at 1 is not below the high watermark").isZero();
        assertThat(restored.check(transactional(1, 1, 6))).isInstanceOf(ProducerStateTable.Duplicate.class);
        assertThat(restored.checkMarker(1, (short) 2, 8)).isInstanceOf(ProducerStateTable.Reject.class);
    }

    @Test
    void aVersionOneSnapshotStillLoads() throws IOException {
        // Written by a build that refused transactional data: id, epoch, then per batch its
        // sequences, offsets and timestamp.
        // Written, as every snapshot before 2026-12-07, in the log's one snapshot file.
        Files.writeString(dir.resolve(ProducerSnapshot.LEGACY_FILE_NAME), "1\n12\n2\n42 3 0 4 0 4 7000 5 6 5 6 8000\n43 0 0 0 7 7 9000\n");

        ProducerSnapshot.migrateLegacy(dir);
        ProducerSnapshot.Contents read = ProducerSnapshot.newest(dir, 0);
        ProducerStateTable table = new ProducerStateTable();
        read.restoreInto(table);

        assertThat(read.offset()).isEqualTo(12);
        assertThat(ProducerSnapshot.offsets(dir)).as("renamed to its offset").containsExactly(12L);
        assertThat(dir.resolve(ProducerSnapshot.LEGACY_FILE_NAME)).doesNotExist();
        assertThat(table.views()).containsExactlyInAnyOrder(new ProducerView(42, (short) 3, 6, 8_000, -1, -1),
                new ProducerView(43, (short) 0, 0, 9_000, -1, -1));
        assertThat(table.firstUnstableOffset(0)).isEqualTo(Long.MAX_VALUE);
        assertThat(table.check(at(TestBatches.idempotent(42, (short) 3, 5, 2), 12))).as("a retry of the batch at 5..6")
                .isInstanceOf(ProducerStateTable.Duplicate.class);
    }
}
