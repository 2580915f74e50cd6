package io.spate.log;

import io.spate.record.ControlBatches;
import io.spate.record.RecordBatch;
import io.spate.record.TestBatches;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static io.spate.log.LogTestSupport.CLOCK;
import static io.spate.log.LogTestSupport.HOUR;
import static io.spate.log.LogTestSupport.TP;
import static io.spate.log.LogTestSupport.append;
import static io.spate.log.LogTestSupport.copyTree;
import static io.spate.log.LogTestSupport.readAll;
import static io.spate.log.LogTestSupport.segmentFiles;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Transactions (KIP-98) in a real partition log: transactional batches, end markers, the last
 * stable offset, the aborted-transaction index, and what truncation, reloads, expiry and
 * retention make of them.
 */
class TransactionalLogTest {
    private static final long PID = 7;
    private static final long OTHER = 8;
    private static final short EPOCH = 0;
    private static final int TRANSACTIONAL = RecordBatch.TRANSACTIONAL_MASK;
    private static final LogConfig SMALL_SEGMENTS = LogConfig.from(java.util.Map.of(LogConfig.SEGMENT_BYTES, "1024"));

    @TempDir
    Path dir;

    private final List<PartitionLog> opened = new ArrayList<>();

    @AfterEach
    void closeLogs() {
        opened.forEach(PartitionLog::close);
    }

    private PartitionLog open() throws IOException {
        return open(dir, LogConfig.defaultConfig());
    }

    private PartitionLog open(Path logDir, LogConfig config) throws IOException {
        PartitionLog log = PartitionLog.open(TP, logDir, config, 0, 0);
        opened.add(log);
        return log;
    }

    /** A transactional batch of {@code producerId}, one record per value. */
    private static ByteBuffer txn(long producerId, short epoch, int baseSequence, String... values) {
        TestBatches.Builder builder = TestBatches.builder().attributes(TRANSACTIONAL).producer(producerId, epoch, baseSequence)
                .baseTimestamp(999_000);
        for (String value : values) {
            builder.record("k-" + value, value);
        }
        return builder.build();
    }

    private static ByteBuffer plain(String value) {
        return TestBatches.batch(999_000, value);
    }

    private static AppendResult marker(PartitionLog log, long producerId, short epoch, int coordinatorEpoch, boolean commit) {
        return log.appendControlAsLeader(producerId, epoch, coordinatorEpoch, commit, 0, CLOCK.millis());
    }

    private static void commit(PartitionLog log, long producerId) {
        assertThat(marker(log, producerId, EPOCH, 0, true).error()).isEqualTo(LogError.NONE);
    }

    private static void abort(PartitionLog log, long producerId) {
        assertThat(marker(log, producerId, EPOCH, 0, false).error()).isEqualTo(LogError.NONE);
    }

    private static void replicateAll(PartitionLog log) {
        log.updateHighWatermark(log.logEndOffset());
    }

    private static ProducerView view(PartitionLog log, long producerId) {
        return log.producerStates().stream().filter(v -> v.producerId() == producerId).findFirst().orElseThrow();
    }

    @Test
    void anOpenTransactionHoldsTheLastStableOffsetBelowTheHighWatermarkUntilItsMarkerIsReplicated() throws IOException {
        PartitionLog log = open();
        append(log, plain("before"), 0);                            // 0
        append(log, txn(PID, EPOCH, 0, "t1", "t2"), 0);            // 1..2
        append(log, plain("after"), 0);                             // 3
        replicateAll(log);
        assertThat(log.highWatermark()).isEqualTo(4);
        assertThat(log.lastStableOffset()).as("the transaction from offset 1 is open").isEqualTo(1);
        assertThat(view(log, PID).currentTxnStartOffset()).isEqualTo(1);

        commit(log, PID);                                           // marker at 4
        assertThat(log.lastStableOffset()).as("decided, but the marker is not below the high watermark").isEqualTo(1);
        replicateAll(log);
        assertThat(log.lastStableOffset()).isEqualTo(5).isEqualTo(log.highWatermark());
        assertThat(view(log, PID).currentTxnStartOffset()).isEqualTo(-1);
        assertThat(log.abortedTransactions(0, 5)).as("a commit aborts nothing").isEmpty();
    }

    @Test
    void anAbortIsIndexedWithItsRangeAndTheLastStableOffsetAtTheAbort() throws IOException {
        PartitionLog log = open();
        append(log, txn(PID, EPOCH, 0, "a1"), 0);                  // 0: PID opens
        append(log, txn(OTHER, EPOCH, 0, "b1"), 0);                // 1: OTHER opens
        append(log, txn(PID, EPOCH, 1, "a2"), 0);                  // 2
        abort(log, PID);                                            // 3: PID aborts; OTHER still open from 1
        append(log, plain("p"), 0);                                 // 4
        commit(log, OTHER);                                         // 5
        replicateAll(log);

        AbortedTxn aborted = new AbortedTxn(PID, 0, 3, 1);
        assertThat(log.abortedTransactions(0, 6)).containsExactly(aborted);
        assertThat(log.abortedTransactions(2, 3)).as("records 2 lie in it").containsExactly(aborted);
        assertThat(log.abortedTransactions(3, 6)).as("the marker itself is in range").containsExactly(aborted);
        assertThat(log.abortedTransactions(4, 6)).as("all of it lies before").isEmpty();
        assertThat(log.lastStableOffset()).isEqualTo(6);
    }

    @Test
    void aReadCommittedReadReturnsTheAbortedTransactionsOfWhatItReadAndTheLastStableOffset() throws IOException {
        PartitionLog log = open();
        append(log, txn(PID, EPOCH, 0, "a1"), 0);                  // 0
        abort(log, PID);                                            // 1
        append(log, txn(OTHER, EPOCH, 0, "b1"), 0);                // 2: open
        replicateAll(log);
        assertThat(log.lastStableOffset()).isEqualTo(2);

        LogReadResult committed = log.read(0, 1 << 20, log.lastStableOffset(), true, true);
        LogReadResult uncommitted = log.read(0, 1 << 20, log.highWatermark(), true, false);
        try {
            assertThat(committed.lastStableOffset()).isEqualTo(2);
            assertThat(committed.highWatermark()).isEqualTo(3);
            assertThat(committed.abortedTransactions()).containsExactly(new AbortedTxn(PID, 0, 1, 2));
            assertThat(uncommitted.abortedTransactions()).isEmpty();
            assertThat(uncommitted.lastStableOffset()).isEqualTo(2);
        } finally {
            committed.slice().release();
            uncommitted.slice().release();
        }
    }

    @Test
    void nonTransactionalDataFromAProducerWithAnOpenTransactionIsRefused() throws IOException {
        PartitionLog log = open();
        append(log, txn(PID, EPOCH, 0, "t"), 0);
        AppendResult idempotent = log.appendAsLeader(TestBatches.idempotent(PID, EPOCH, 1, 1), 0, 0);
        assertThat(idempotent.error()).isEqualTo(LogError.INVALID_TXN_STATE);

        AppendResult inOneRequest = log.appendAsLeader(TestBatches.concat(txn(OTHER, EPOCH, 0, "t"), TestBatches.idempotent(OTHER, EPOCH, 1, 1)), 0, 0);
        assertThat(inOneRequest.error()).as("a later batch of the same request follows the earlier one").isEqualTo(LogError.INVALID_TXN_STATE);
        assertThat(log.logEndOffset()).isEqualTo(1);

        commit(log, PID);
        append(log, TestBatches.idempotent(PID, EPOCH, 1, 1), 0);
    }

    @Test
    void aMarkerFromAnOlderProducerEpochOrAnOlderCoordinatorIsRefusedAndNothingIsWritten() throws IOException {
        PartitionLog log = open();
        append(log, txn(PID, (short) 3, 0, "t"), 0);
        assertThat(marker(log, PID, (short) 3, 5, false).error()).isEqualTo(LogError.NONE);
        append(log, txn(PID, (short) 3, 1, "u"), 0);
        long end = log.logEndOffset();

        AppendResult oldEpoch = marker(log, PID, (short) 2, 5, true);
        AppendResult oldCoordinator = marker(log, PID, (short) 3, 4, true);

        assertThat(oldEpoch.error()).isEqualTo(LogError.INVALID_PRODUCER_EPOCH);
        assertThat(oldCoordinator.error()).isEqualTo(LogError.TRANSACTION_COORDINATOR_FENCED);
        assertThat(log.logEndOffset()).isEqualTo(end);
        assertThat(view(log, PID).currentTxnStartOffset()).isEqualTo(2);
        assertThat(marker(log, PID, (short) 3, 6, true).error()).as("a newer coordinator").isEqualTo(LogError.NONE);
        assertThat(view(log, PID).coordinatorEpoch()).isEqualTo(6);
    }

    @Test
    void theCoordinatorAbortsAFencedProducersTransactionWithTheBumpedEpoch() throws IOException {
        PartitionLog log = open();
        append(log, txn(PID, (short) 0, 0, "zombie"), 0);         // 0
        AppendResult fenced = marker(log, PID, (short) 1, 0, false); // 1: written with the epoch the coordinator fenced with
        replicateAll(log);

        assertThat(fenced.error()).isEqualTo(LogError.NONE);
        assertThat(log.abortedTransactions(0, 2)).containsExactly(new AbortedTxn(PID, 0, 1, 2));
        assertThat(log.lastStableOffset()).isEqualTo(2);
        assertThat(view(log, PID).epoch()).isEqualTo((short) 1);
        assertThat(log.appendAsLeader(txn(PID, (short) 0, 1, "late"), 0, 0).error()).as("the zombie is fenced")
                .isEqualTo(LogError.INVALID_PRODUCER_EPOCH);
        append(log, txn(PID, (short) 1, 0, "new"), 0);
    }

    @Test
    void aRetriedMarkerForNoOpenTransactionIsWrittenAndDecidesNothing() throws IOException {
        PartitionLog log = open();
        append(log, txn(PID, EPOCH, 0, "t"), 0);
        commit(log, PID);
        append(log, txn(OTHER, EPOCH, 0, "o"), 0);                 // 2: open
        replicateAll(log);

        AppendResult retried = marker(log, PID, EPOCH, 0, false);
        replicateAll(log);

        assertThat(retried.error()).isEqualTo(LogError.NONE);
        assertThat(retried.baseOffset()).isEqualTo(3);
        assertThat(log.lastStableOffset()).as("OTHER is still open").isEqualTo(2);
        assertThat(log.abortedTransactions(0, 4)).as("an empty transaction: the marker alone")
                .containsExactly(new AbortedTxn(PID, 3, 3, 2));
    }

    /** A task's result in place: not transactional, with the task producer's id and epoch and no sequence. */
    private static ByteBuffer inPlace(long producerId, short epoch, String value) {
        return TestBatches.builder().producer(producerId, epoch, RecordBatch.NO_SEQUENCE).baseTimestamp(999_000)
                .record("k-" + value, value).build();
    }

    @Test
    void aTasksBatchInPlaceIsCheckedForItsEpochOnlyAndANewerEpochFencesIt() throws IOException {
        PartitionLog log = open();
        assertThat(log.appendAsLeader(inPlace(PID, EPOCH, "r"), 0, 0).error()).as("from a client").isEqualTo(LogError.INVALID_RECORD);
        assertThat(log.appendAsLeader(inPlace(PID, EPOCH, "r"), 0, 0, AppendOrigin.TASK_IN_PLACE).error())
                .as("nothing known of the producer here").isEqualTo(LogError.NONE);
        append(log, txn(PID, EPOCH, 0, "t"), 0);
        abort(log, PID);
        assertThat(log.appendAsLeader(inPlace(PID, EPOCH, "r"), 0, 0, AppendOrigin.TASK_IN_PLACE).error()).isEqualTo(LogError.NONE);
        append(log, txn(PID, EPOCH, 1, "u"), 0);
        assertThat(log.appendAsLeader(inPlace(PID, EPOCH, "r"), 0, 0, AppendOrigin.TASK_IN_PLACE).error())
                .as("its own transaction is open here").isEqualTo(LogError.INVALID_TXN_STATE);
        abort(log, PID);
        assertThat(view(log, PID).lastSequence()).as("the batches in place took no sequence").isEqualTo(1);

        // A newer instance of the task settles: a transactional write under the next epoch, aborted.
        short newer = (short) (EPOCH + 1);
        append(log, txn(PID, newer, 0, "settle"), 0);
        assertThat(marker(log, PID, newer, 0, false).error()).isEqualTo(LogError.NONE);
        long end = log.logEndOffset();
        assertThat(log.appendAsLeader(inPlace(PID, EPOCH, "late"), 0, 0, AppendOrigin.TASK_IN_PLACE).error())
                .isEqualTo(LogError.INVALID_PRODUCER_EPOCH);
        assertThat(log.logEndOffset()).isEqualTo(end);
        assertThat(log.appendAsLeader(inPlace(PID, newer, "r"), 0, 0, AppendOrigin.TASK_IN_PLACE).error()).isEqualTo(LogError.NONE);
        assertThat(log.appendAsLeader(TestBatches.concat(txn(OTHER, EPOCH, RecordBatch.NO_SEQUENCE, "x")), 0, 0, AppendOrigin.TASK_IN_PLACE)
                .error()).as("a transactional batch without a sequence is a coordinator's only").isEqualTo(LogError.INVALID_RECORD);
    }

    @Test
    void theCoordinatorsUnsequencedTransactionalBatchesOpenTheTransactionWithoutSequenceChecks() throws IOException {
        PartitionLog log = open();
        append(log, txn(PID, EPOCH, 0, "produced"), 0);            // 0
        ByteBuffer offsets = txn(PID, EPOCH, RecordBatch.NO_SEQUENCE, "offset-commit");
        assertThat(log.appendAsLeader(offsets.duplicate(), 0, 0).error()).as("from a client").isEqualTo(LogError.INVALID_RECORD);
        assertThat(log.appendAsLeader(offsets.duplicate(), 0, 0, AppendOrigin.COORDINATOR).error()).isEqualTo(LogError.NONE);
        assertThat(log.appendAsLeader(offsets.duplicate(), 0, 0, AppendOrigin.COORDINATOR).error()).as("not a duplicate: no sequence")
                .isEqualTo(LogError.NONE);
        append(log, txn(PID, EPOCH, 1, "produced-2"), 0);          // 3: the sequence goes on from 0
        ByteBuffer stale = txn(PID, (short) -1, RecordBatch.NO_SEQUENCE, "stale");
        assertThat(log.appendAsLeader(stale, 0, 0, AppendOrigin.COORDINATOR).error()).as("the epoch is still checked")
                .isEqualTo(LogError.INVALID_PRODUCER_EPOCH);

        ByteBuffer otherOffsets = txn(OTHER, EPOCH, RecordBatch.NO_SEQUENCE, "offset-commit");
        assertThat(log.appendAsLeader(otherOffsets, 0, 0, AppendOrigin.COORDINATOR).error()).isEqualTo(LogError.NONE); // 4
        replicateAll(log);
        assertThat(log.lastStableOffset()).isZero();
        assertThat(view(log, OTHER).currentTxnStartOffset()).as("an unsequenced batch opens a transaction").isEqualTo(4);
        assertThat(view(log, OTHER).lastSequence()).isEqualTo(RecordBatch.NO_SEQUENCE);
        commit(log, PID);
        commit(log, OTHER);
        replicateAll(log);
        assertThat(log.lastStableOffset()).isEqualTo(log.logEndOffset());
    }

    @Test
    void aTruncationThatCutsAMarkerOpensItsTransactionAgain() throws IOException {
        PartitionLog log = open();
        append(log, txn(PID, EPOCH, 0, "t1", "t2"), 0);            // 0..1
        log.updateHighWatermark(2);
        abort(log, PID);                                            // 2, not replicated
        assertThat(log.abortedTransactions(0, 3)).hasSize(1);

        log.truncateTo(2);

        assertThat(view(log, PID).currentTxnStartOffset()).isZero();
        assertThat(log.lastStableOffset()).isZero();
        assertThat(log.abortedTransactions(0, 3)).as("the abort went with its marker").isEmpty();
        assertThat(log.appendAsLeader(TestBatches.idempotent(PID, EPOCH, 2, 1), 0, 0).error()).isEqualTo(LogError.INVALID_TXN_STATE);
        commit(log, PID);                                           // the coordinator sends its marker again
        replicateAll(log);
        assertThat(log.lastStableOffset()).isEqualTo(3);
    }

    @Test
    void aTruncationBelowTheHighWatermarkThatCutsAMarkerReplaysTheLogToOpenItsTransactionAgain() throws IOException {
        // After an unclean election a replica may cut below its high watermark, where the table
        // no longer keeps decided transactions: the state is replayed from the segments.
        PartitionLog log = open();
        append(log, plain("p"), 0);                                 // 0
        append(log, txn(PID, EPOCH, 0, "t"), 0);                   // 1
        commit(log, PID);                                           // 2
        append(log, plain("q"), 0);                                 // 3
        replicateAll(log);
        assertThat(log.lastStableOffset()).isEqualTo(4);

        log.truncateTo(2);

        assertThat(log.highWatermark()).isEqualTo(2);
        assertThat(view(log, PID).currentTxnStartOffset()).isEqualTo(1);
        assertThat(log.lastStableOffset()).isEqualTo(1);
    }

    @Test
    void aTruncationThatTakesEveryKeptBatchOfAnOpenTransactionReplaysTheLog() throws IOException {
        // A leader wrote sequences 0..5 of a transaction and only offset 0 reached the replica that
        // took over. The transaction began before the cut and stays open, but the five batches kept
        // were all cut: the producer's retry of sequence 1 failed with an unknown server error.
        PartitionLog log = open();
        for (int i = 0; i < 6; i++) {
            append(log, txn(PID, EPOCH, i, "t" + i), 0);            // 0..5
        }
        log.updateHighWatermark(1);

        log.truncateTo(1);

        AppendResult retry = log.appendAsLeader(txn(PID, EPOCH, 1, "t1"), 0, 0);
        assertThat(retry.error()).as(retry.message()).isEqualTo(LogError.NONE);
        assertThat(retry.baseOffset()).isEqualTo(1);
        assertThat(view(log, PID).currentTxnStartOffset()).isZero();
        assertThat(view(log, PID).lastSequence()).isEqualTo(1);
        assertThat(log.appendAsLeader(txn(PID, EPOCH, 0, "t0"), 0, 0).duplicate()).isTrue();
        commit(log, PID);
        replicateAll(log);
        assertThat(log.lastStableOffset()).isEqualTo(log.logEndOffset());
    }

    @Test
    void aTruncationThatCutsATransactionsStartForgetsIt() throws IOException {
        PartitionLog log = open();
        append(log, plain("p"), 0);                                 // 0
        log.updateHighWatermark(1);
        append(log, txn(PID, EPOCH, 0, "t"), 0);                   // 1
        assertThat(log.lastStableOffset()).isEqualTo(1);

        log.truncateTo(1);
        replicateAll(log);

        assertThat(log.lastStableOffset()).isEqualTo(1).isEqualTo(log.logEndOffset());
        append(log, TestBatches.idempotent(PID, EPOCH, 0, 1), 0);
    }

    @Test
    void aCleanCloseAndReloadKeepsOpenTransactionsTheLastStableOffsetAndTheAbortedIndex() throws IOException {
        Path data = dir.resolve("data");
        List<AbortedTxn> before;
        try (LogManager manager = LogManager.open(data, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, LogConfig.defaultConfig());
            writeMixedTransactions(log, "");
            before = log.abortedTransactions(0, log.logEndOffset());
            assertThat(before).hasSize(2);
        }
        try (LogManager manager = LogManager.open(data, CLOCK, HOUR)) {
            assertThat(manager.wasCleanShutdown()).isTrue();
            PartitionLog log = manager.getOrCreate(TP, LogConfig.defaultConfig());
            assertReloaded(log, before);
        }
    }

    @Test
    void aReloadAfterACrashRebuildsOpenTransactionsTheLastStableOffsetAndTheAbortedIndexFromTheSegments() throws IOException {
        Path data = dir.resolve("data");
        Path crash = dir.resolve("crash");
        List<AbortedTxn> before;
        try (LogManager manager = LogManager.open(data, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            writeMixedTransactions(log, "x".repeat(300));
            assertThat(log.segmentCount()).as("markers and data spread over segments").isGreaterThan(2);
            before = log.abortedTransactions(0, log.logEndOffset());
            copyTree(data, crash);
        }
        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            assertThat(manager.wasCleanShutdown()).isFalse();
            PartitionLog log = manager.getOrCreate(TP, SMALL_SEGMENTS);
            assertReloaded(log, before);
        }
    }

    /** PID aborts twice, OTHER commits, then PID opens a third transaction at offset 9 and leaves it open. */
    private static void writeMixedTransactions(PartitionLog log, String pad) {
        append(log, txn(PID, EPOCH, 0, "a1" + pad), 0);            // 0
        append(log, txn(OTHER, EPOCH, 0, "b1" + pad), 0);          // 1
        abort(log, PID);                                            // 2
        append(log, plain("p" + pad), 0);                           // 3
        commit(log, OTHER);                                         // 4
        append(log, txn(PID, EPOCH, 1, "a2" + pad, "a3"), 0);      // 5..6
        abort(log, PID);                                            // 7
        append(log, plain("q" + pad), 0);                           // 8
        append(log, txn(PID, EPOCH, 3, "a4" + pad), 0);            // 9: open
        append(log, plain("r" + pad), 0);                           // 10
        replicateAll(log);
        assertThat(log.lastStableOffset()).isEqualTo(9);
    }

    private static void assertReloaded(PartitionLog log, List<AbortedTxn> before) {
        assertThat(log.isOffline()).isFalse();
        assertThat(log.logEndOffset()).isEqualTo(11);
        assertThat(log.lastStableOffset()).isEqualTo(9);
        assertThat(view(log, PID).currentTxnStartOffset()).isEqualTo(9);
        assertThat(log.abortedTransactions(0, 11)).isEqualTo(before)
                .containsExactly(new AbortedTxn(PID, 0, 2, 1), new AbortedTxn(PID, 5, 7, 8));
        assertThat(log.appendAsLeader(plain("s"), 0, 0).error()).isEqualTo(LogError.NONE);
        assertThat(log.appendAsLeader(TestBatches.idempotent(PID, EPOCH, 4, 1), 0, 0).error()).isEqualTo(LogError.INVALID_TXN_STATE);
        assertThat(marker(log, PID, EPOCH, 0, true).error()).isEqualTo(LogError.NONE);
        log.updateHighWatermark(log.logEndOffset());
        assertThat(log.lastStableOffset()).isEqualTo(log.logEndOffset());
    }

    @Test
    void aMarkerDamagedOnDiskIsFoundByItsCrcEvenAfterACleanStop() throws IOException {
        // After a clean stop only batch headers are read; a marker is read whole and checked, since
        // its type lies in its record: a flipped bit there would turn a commit into an abort.
        Path data = dir.resolve("data");
        try (LogManager manager = LogManager.open(data, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, LogConfig.defaultConfig());
            append(log, txn(PID, EPOCH, 0, "t"), 0);
            commit(log, PID);
        }
        Path segment = data.resolve(TP.dirName()).resolve(segmentFiles(data.resolve(TP.dirName())).get(0));
        flipMarkerType(segment);

        try (LogManager manager = LogManager.open(data, CLOCK, HOUR)) {
            assertThat(manager.wasCleanShutdown()).isTrue();
            PartitionLog log = manager.getOrCreate(TP, LogConfig.defaultConfig());
            assertThat(log.isOffline()).as("not an abort read from a damaged commit").isTrue();
            assertThat(log.offlineReason()).contains("CRC");
        }
    }

    /** Turns the last batch of {@code segment}, a commit marker, into an abort without fixing its CRC. */
    private static void flipMarkerType(Path segment) throws IOException {
        int markerSize = ControlBatches.endTxnMarker(PID, EPOCH, 0, true, 0).remaining();
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long start = channel.size() - markerSize;
            ByteBuffer batch = ByteBuffer.allocate(markerSize);
            channel.read(batch, start);
            assertThat(ControlBatches.readMarker(RecordBatch.of(batch.flip())).commit()).isTrue();
            // The record: length, attributes, timestamp delta, offset delta, key length, then the key's version and type.
            int typeLowByte = RecordBatch.HEADER_SIZE + 5 + 3;
            assertThat(batch.get(typeLowByte)).isEqualTo((byte) ControlBatches.COMMIT);
            channel.write(ByteBuffer.wrap(new byte[]{ControlBatches.ABORT}), start + typeLowByte);
        }
    }

    @Test
    void expiryNeverRemovesAProducerWithAnOpenTransaction() throws IOException {
        PartitionLog log = open();
        append(log, txn(PID, EPOCH, 0, "t"), 0);
        append(log, TestBatches.idempotent(OTHER, EPOCH, 0, 1), 0);

        assertThat(log.removeExpiredProducers(Long.MAX_VALUE / 2, 1)).as("OTHER only").isEqualTo(1);
        assertThat(log.producerStates()).extracting(ProducerView::producerId).containsExactly(PID);
        commit(log, PID);
        assertThat(log.removeExpiredProducers(Long.MAX_VALUE / 2, 1)).isEqualTo(1);
        assertThat(log.producerCount()).isZero();
    }

    @Test
    void deleteRecordsPastAnOpenTransactionsStartMovesTheLastStableOffsetToTheLogStart() throws IOException {
        PartitionLog log = open(dir, SMALL_SEGMENTS);
        append(log, txn(PID, EPOCH, 0, "t"), 0);                   // 0: open
        for (int i = 0; i < 8; i++) {
            append(log, LogTestSupport.sized(400), 0);              // 1..8
        }
        replicateAll(log);
        assertThat(log.lastStableOffset()).isZero();
        List<Long> woken = new ArrayList<>();
        log.onLastStableOffsetAdvanced(woken::add);
        int segments = log.segmentCount();

        log.deleteRecordsBefore(5);

        assertThat(log.logStartOffset()).isEqualTo(5);
        assertThat(log.segmentCount()).as("the segment with the transaction's start is gone").isLessThan(segments);
        assertThat(log.lastStableOffset()).isEqualTo(5);
        assertThat(woken).as("read_committed readers are told").hasSize(1);
        assertThat(view(log, PID).currentTxnStartOffset()).as("still open: its marker will come").isZero();
        commit(log, PID);
        replicateAll(log);
        assertThat(log.lastStableOffset()).isEqualTo(log.logEndOffset());
    }

    @Test
    void aFollowerTakesTransactionsAndMarkersAsTheLeaderWroteThem() throws IOException {
        PartitionLog leader = open(dir.resolve("leader"), LogConfig.defaultConfig());
        PartitionLog follower = open(dir.resolve("follower"), LogConfig.defaultConfig());
        writeMixedTransactions(leader, "");

        AppendResult copied = follower.appendAsFollower(readAll(leader, 0), 0, 0);
        follower.updateHighWatermark(leader.highWatermark());

        assertThat(copied.error()).isEqualTo(LogError.NONE);
        assertThat(follower.lastStableOffset()).isEqualTo(leader.lastStableOffset()).isEqualTo(9);
        assertThat(follower.abortedTransactions(0, 11)).isEqualTo(leader.abortedTransactions(0, 11));
        assertThat(view(follower, PID).currentTxnStartOffset()).isEqualTo(9);
    }

    @Test
    void abortedTransactionsAreFoundAcrossSegmentsUntilNoLaterMarkerCanMatter() throws IOException {
        PartitionLog log = open(dir, SMALL_SEGMENTS);
        append(log, txn(PID, EPOCH, 0, "long"), 0);                // 0: PID's transaction runs long
        for (int i = 0; i < 4; i++) {
            append(log, LogTestSupport.sized(400), 0);              // 1..4
        }
        append(log, txn(OTHER, EPOCH, 0, "short"), 0);             // 5
        abort(log, OTHER);                                          // 6
        for (int i = 0; i < 4; i++) {
            append(log, LogTestSupport.sized(400), 0);              // 7..10
        }
        abort(log, PID);                                            // 11
        replicateAll(log);
        assertThat(log.segmentCount()).isGreaterThan(3);

        assertThat(log.abortedTransactions(0, 1)).as("PID's abort lies segments later")
                .containsExactly(new AbortedTxn(PID, 0, 11, 12));
        assertThat(log.abortedTransactions(2, 8)).containsExactly(new AbortedTxn(PID, 0, 11, 12), new AbortedTxn(OTHER, 5, 6, 0));
        assertThat(log.abortedTransactions(12, 20)).isEmpty();
    }

    /** KIP-890 part 1: a transaction's first write here needs the producer's current verification guard. */
    @Test
    void aVerifiedWriteOpensItsTransactionAndOneWhoseTransactionEndedMeanwhileIsRefused() throws IOException {
        PartitionLog log = open();
        TxnVerificationGuard guard = log.beginTransactionVerification(PID, EPOCH, CLOCK.millis());
        assertThat(guard).isNotSameAs(TxnVerificationGuard.ALREADY_OPEN);
        assertThat(log.beginTransactionVerification(PID, EPOCH, CLOCK.millis())).as("verifications in flight together share the guard").isSameAs(guard);
        assertThat(log.appendAsLeader(txn(PID, EPOCH, 0, "a"), 0, CLOCK.millis(), AppendOrigin.CLIENT, guard).error()).isEqualTo(LogError.NONE);
        assertThat(log.beginTransactionVerification(PID, EPOCH, CLOCK.millis())).isSameAs(TxnVerificationGuard.ALREADY_OPEN);
        assertThat(log.appendAsLeader(txn(PID, EPOCH, 1, "b"), 0, CLOCK.millis(), AppendOrigin.CLIENT, TxnVerificationGuard.ALREADY_OPEN).error())
                .isEqualTo(LogError.NONE);

        // The transaction ends while the next one's verification is in flight: that verification's write is refused...
        TxnVerificationGuard late = TxnVerificationGuard.ALREADY_OPEN;
        TxnVerificationGuard pending = log.beginTransactionVerification(OTHER, EPOCH, CLOCK.millis());
        abort(log, OTHER);
        long end = log.logEndOffset();
        assertThat(log.appendAsLeader(txn(OTHER, EPOCH, 0, "late"), 0, CLOCK.millis(), AppendOrigin.CLIENT, pending).error())
                .isEqualTo(LogError.INVALID_TXN_STATE);
        // ...as is one that found the transaction open before its marker came.
        commit(log, PID);
        assertThat(log.appendAsLeader(txn(PID, EPOCH, 2, "after-commit"), 0, CLOCK.millis(), AppendOrigin.CLIENT, late).error())
                .isEqualTo(LogError.INVALID_TXN_STATE);
        assertThat(log.logEndOffset()).as("the commit marker only").isEqualTo(end + 1);
        assertThat(view(log, OTHER).currentTxnStartOffset()).isEqualTo(-1);
        assertThat(view(log, PID).currentTxnStartOffset()).isEqualTo(-1);
    }

    /**
     * A replica that copied from another leader meanwhile (a marker may have been among what it
     * copied) takes no write under a guard of its own earlier leadership.
     */
    @Test
    void aGuardFromAnEarlierLeadershipIsVoidOnceTheReplicaHasFollowed() throws IOException {
        PartitionLog other = open(dir.resolve("other-leader"), LogConfig.defaultConfig());
        PartitionLog log = open(dir.resolve("this"), LogConfig.defaultConfig());
        TxnVerificationGuard guard = log.beginTransactionVerification(PID, EPOCH, CLOCK.millis());
        assertThat(other.appendAsLeader(plain("from the other leader"), 1, CLOCK.millis()).error()).isEqualTo(LogError.NONE);
        assertThat(log.appendAsFollower(readAll(other, 0), 0, 1).error()).isEqualTo(LogError.NONE);
        assertThat(log.appendAsLeader(txn(PID, EPOCH, 0, "delayed"), 2, CLOCK.millis(), AppendOrigin.CLIENT, guard).error())
                .isEqualTo(LogError.INVALID_TXN_STATE);
    }

    @Test
    void aGuardWhoseWriteNeverCameExpiresWithIdleProducers() throws IOException {
        PartitionLog log = open();
        TxnVerificationGuard guard = log.beginTransactionVerification(PID, EPOCH, 1_000);
        log.removeExpiredProducers(1_000 + 60_000, 60_000);
        assertThat(log.beginTransactionVerification(PID, EPOCH, 70_000)).isNotSameAs(guard);
        assertThat(log.appendAsLeader(txn(PID, EPOCH, 0, "late"), 0, CLOCK.millis(), AppendOrigin.CLIENT, guard).error())
                .isEqualTo(LogError.INVALID_TXN_STATE);
    }
}
