package io.spate.log;

import io.spate.record.RecordBatch;
import io.spate.record.TestBatches;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.spate.log.LogTestSupport.CLOCK;
import static io.spate.log.LogTestSupport.HOUR;
import static io.spate.log.LogTestSupport.TP;
import static io.spate.log.LogTestSupport.sized;
import static io.spate.log.LogTestSupport.append;
import static io.spate.log.LogTestSupport.baseOffsets;
import static io.spate.log.LogTestSupport.config;
import static io.spate.log.LogTestSupport.copyTree;
import static io.spate.log.LogTestSupport.readAll;
import static io.spate.log.LogTestSupport.segmentFiles;
import static org.assertj.core.api.Assertions.assertThat;

/** A compaction's output replaces segments in one step, bounded in size, and a crash at any point leaves one whole version. */
class CompactionSwapTest {
    private static final LogConfig SMALL = config(LogConfig.SEGMENT_BYTES, "2048");
    /**
     * The same log as a compacted topic, for reopening after a crash: recovery takes a gap past
     * the recovery point for a torn write unless the topic is compacted.
     */
    private static final LogConfig SMALL_COMPACTED = config(LogConfig.SEGMENT_BYTES, "2048", LogConfig.CLEANUP_POLICY, "compact");

    @TempDir
    Path tmp;

    /** Writes 40 one-record batches, then "compacts" the sealed segments keeping the even offsets. */
    private CleanedSegments writeAndCleanEvenOffsets(PartitionLog log) throws IOException {
        writeFortyBatches(log);
        long end = log.cleanableEndOffset();
        assertThat(end).isGreaterThan(20);
        CleanedSegments output = log.beginCleaning(0, end);
        long offset = 0;
        while (offset < end) {
            ByteBuffer batches = readAll(log, offset);
            RecordBatch view = new RecordBatch();
            for (int pos = 0; pos < batches.limit() && offset < end; pos += view.sizeInBytes()) {
                view.wrap(batches, pos);
                if (view.baseOffset() >= end) {
                    offset = end;
                    break;
                }
                if (view.baseOffset() % 2 == 0) {
                    output.append(batches.duplicate().limit(pos + view.sizeInBytes()).position(pos).slice());
                }
                offset = view.lastOffset() + 1;
            }
        }
        return output;
    }

    /** Forty one-record batches of about 150 bytes, all committed. */
    private static void writeFortyBatches(PartitionLog log) {
        for (int i = 0; i < 40; i++) {
            append(log, sized(150), 0);
        }
        log.updateHighWatermark(log.logEndOffset());
    }

    private static void assertNothingEndingWith(PartitionLog log, String suffix) throws IOException {
        try (var files = Files.list(log.dir())) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(suffix));
        }
    }

    private static List<Long> allBaseOffsets(PartitionLog log) {
        List<Long> offsets = new ArrayList<>();
        long next = log.logStartOffset();
        while (next < log.logEndOffset()) {
            List<Long> read = baseOffsets(readAll(log, next));
            if (read.isEmpty()) {
                break;
            }
            offsets.addAll(read);
            next = read.get(read.size() - 1) + 1;
        }
        return offsets;
    }

    @Test
    void aScanOfTheLogWhileCompactionsSwapItsSegmentsSeesEveryBatch() throws Exception {
        try (LogManager manager = LogManager.open(tmp.resolve("data"), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL);
            writeFortyBatches(log);
            long end = log.cleanableEndOffset();
            java.util.concurrent.atomic.AtomicBoolean swapping = new java.util.concurrent.atomic.AtomicBoolean(true);
            List<String> shortScans = java.util.Collections.synchronizedList(new ArrayList<>());
            int[] scans = {0};
            // A coordinator's load, a replay: LogScanner from the start to the end, over and over,
            // while the sealed segments are replaced by copies of themselves (the same batches).
            Thread scanner = Thread.ofPlatform().start(() -> {
                while (swapping.get()) {
                    int[] batches = {0};
                    try {
                        LogScanner.forEachBatch(log, 0, 40, batch -> batches[0]++);
                    } catch (IOException e) {
                        shortScans.add(e.toString());
                    }
                    if (batches[0] != 40) {
                        shortScans.add(batches[0] + " batches");
                    }
                    scans[0]++;
                }
            });
            try {
                for (int swap = 0; swap < 150; swap++) {
                    try (CleanedSegments output = log.beginCleaning(0, end)) {
                        output.append(readRange(log, 0, end));
                        assertThat(output.commit()).isTrue();
                    }
                }
            } finally {
                swapping.set(false);
                scanner.join();
            }
            assertThat(scans[0]).isPositive();
            assertThat(shortScans).as("scans cut short by a swap, of %s", scans[0]).isEmpty();
        }
    }

    /** The batches of [from, to), whole, in one buffer. */
    private static ByteBuffer readRange(PartitionLog log, long from, long to) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        LogScanner.forEachChunk(log, from, to, chunk -> bytes.write(chunk.array(), chunk.arrayOffset() + chunk.position(), chunk.remaining()));
        return ByteBuffer.wrap(bytes.toByteArray());
    }

    @Test
    void theOutputIsSplitIntoSegmentsNoLargerThanSegmentBytesAndSwappedIn() throws IOException {
        try (LogManager manager = LogManager.open(tmp.resolve("data"), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL);
            long end;
            try (CleanedSegments output = writeAndCleanEvenOffsets(log)) {
                end = output.to();
                assertThat(output.commit()).isTrue();
                assertThat(output.segmentCount()).isGreaterThan(1);
            }
            for (String file : segmentFiles(log.dir())) {
                assertThat(Files.size(log.dir().resolve(file))).isLessThanOrEqualTo(2048);
            }
            List<Long> offsets = allBaseOffsets(log);
            assertThat(offsets.stream().filter(o -> o < end)).allMatch(o -> o % 2 == 0).hasSize((int) ((end + 1) / 2));
            assertThat(offsets.stream().filter(o -> o >= end)).hasSize((int) (40 - end));
            assertThat(log.logStartOffset()).isZero();
            assertThat(segmentFiles(log.dir()).get(0)).isEqualTo(LogSegment.fileName(0));
        }
    }

    @Test
    void aCrashBeforeTheCommitKeepsTheOldSegmentsAndOneAfterItCompletesTheSwap() throws IOException {
        Path before = tmp.resolve("crash-before-commit");
        Path after = tmp.resolve("crash-after-commit");
        List<Long> original;
        long end;
        try (LogManager manager = LogManager.open(tmp.resolve("data"), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL);
            try (CleanedSegments output = writeAndCleanEvenOffsets(log)) {
                end = output.to();
                original = allBaseOffsets(log);
                Path folder = output.prepare();
                copyTree(tmp.resolve("data"), before);
                // What swapIn records before its commit point: the output's gaps are deliberate.
                SealedThrough.write(log.dir(), end);
                // The commit point, and a crash right after it: the swap is not applied yet.
                Files.move(folder, log.dir().resolve("0-" + end + CleanedSegments.SWAP_SUFFIX));
                copyTree(tmp.resolve("data"), after);
                Files.move(log.dir().resolve("0-" + end + CleanedSegments.SWAP_SUFFIX), folder);
            }
        }
        try (LogManager manager = LogManager.open(before, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_COMPACTED);
            assertThat(allBaseOffsets(log)).isEqualTo(original);
            assertNothingEndingWith(log, CleanedSegments.CLEANING_SUFFIX);
        }
        try (LogManager manager = LogManager.open(after, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_COMPACTED);
            List<Long> offsets = allBaseOffsets(log);
            long cut = end;
            assertThat(offsets.stream().filter(o -> o < cut)).allMatch(o -> o % 2 == 0).hasSize((int) ((end + 1) / 2));
            assertThat(offsets.stream().filter(o -> o >= cut)).hasSize((int) (40 - end));
            assertThat(log.logEndOffset()).isEqualTo(40);
            assertNothingEndingWith(log, CleanedSegments.SWAP_SUFFIX);
        }
    }

    /**
     * A crash while the completed swap's folder was being deleted, after its manifest went: the
     * folder is what is left of a swap already in place (the moves were fsynced before the
     * deletion began). It used to keep the log from opening at all (found by the replication
     * simulation with compaction).
     */
    @Test
    void aSwapFolderLeftWithoutItsManifestIsWhatRemainsOfACompletedSwap() throws IOException {
        Path crash = tmp.resolve("crash-while-deleting-the-folder");
        List<Long> compacted;
        long end;
        try (LogManager manager = LogManager.open(tmp.resolve("data"), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL);
            try (CleanedSegments output = writeAndCleanEvenOffsets(log)) {
                end = output.to();
                assertThat(output.commit()).isTrue();
            }
            compacted = allBaseOffsets(log);
            copyTree(tmp.resolve("data"), crash);
        }
        // What the cut-short deletion left: the folder, emptied of its manifest.
        Files.createDirectories(crash.resolve(TP.topic() + "-" + TP.partition()).resolve("0-" + end + CleanedSegments.SWAP_SUFFIX));
        try (LogManager manager = LogManager.open(crash, CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_COMPACTED);
            assertThat(log.isOffline()).isFalse();
            assertThat(allBaseOffsets(log)).isEqualTo(compacted);
            assertThat(log.logEndOffset()).isEqualTo(40);
            assertNothingEndingWith(log, CleanedSegments.SWAP_SUFFIX);
        }
    }

    /**
     * A batch to keep whose base offset (outside the CRC) reads back wrong fails the pass before
     * anything is swapped in: the log is unchanged (found by the replication simulation with
     * compaction and wrong reads, where a kept batch's offset jumped by 2^53 for good).
     */
    @Test
    void aKeptBatchReadBackAtAnOffsetOutsideTheRangeFailsThePassAndChangesNothing() throws IOException {
        try (LogManager manager = LogManager.open(tmp.resolve("data"), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL);
            writeFortyBatches(log);
            List<Long> before = allBaseOffsets(log);
            long end = log.cleanableEndOffset();
            ByteBuffer wrong = readAll(log, 3);
            wrong.putLong(0, (1L << 53) + 3); // the base offset of the batch at 3, one bit read wrong
            try (CleanedSegments output = log.beginCleaning(0, end)) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> output.append(wrong.duplicate().limit(
                                new RecordBatch().wrap(wrong, 0).sizeInBytes())))
                        .isInstanceOf(IOException.class).hasMessageContaining("read wrong");
            }
            assertThat(allBaseOffsets(log)).isEqualTo(before);
            assertNothingEndingWith(log, CleanedSegments.CLEANING_SUFFIX);
        }
    }

    /**
     * A follower's cut that falls in a gap compaction left where a segment ends leaves the log
     * ending at the cut, its high watermark with it, not at the batch before the gap (found by
     * the replication simulation with compaction: the high watermark went back).
     */
    @Test
    void aCutInAGapAtTheEndOfASegmentEndsTheLogAtTheCut() throws IOException {
        try (LogManager manager = LogManager.open(tmp.resolve("data"), CLOCK, HOUR)) {
            PartitionLog log = manager.getOrCreate(TP, SMALL_COMPACTED);
            append(log, io.spate.record.TestBatches.builder().baseTimestamp(999_000).record("k0", "x".repeat(1960)).build(), 0); // most of the first segment
            ByteBuffer afterGap = io.spate.record.TestBatches.builder().baseOffset(11).partitionLeaderEpoch(0).baseTimestamp(999_000)
                    .record("k", "v").build();
            assertThat(log.appendAsFollower(afterGap, 0).ok()).isTrue(); // offsets 1-10 compacted away at the leader
            assertThat(segmentFiles(log.dir())).as("the batch after the gap begins a segment").contains(LogSegment.fileName(11));
            log.updateHighWatermark(11);
            log.truncateTo(11);
            assertThat(log.logEndOffset()).isEqualTo(11);
            assertThat(log.highWatermark()).as("never back past the gap").isEqualTo(11);
            assertThat(log.appendAsFollower(io.spate.record.TestBatches.builder().baseOffset(11).partitionLeaderEpoch(0).baseTimestamp(999_000)
                    .record("k", "w").build(), 0).ok()).as("the leader's batch at the cut follows").isTrue();
        }
    }
}
