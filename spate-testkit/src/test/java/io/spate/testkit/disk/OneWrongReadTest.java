package io.spate.testkit.disk;

import io.spate.log.LogConfig;
import io.spate.log.LogError;
import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import io.spate.record.RecordBatchBuilder;
import io.spate.testkit.sim.LogValues;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A disk that reads back one wrong bit, once, while the bytes on it are good: recovery must not
 * take the read for damage (cut or set aside good data), and a read that walks batch headers
 * must not serve from a wrong place.
 */
class OneWrongReadTest {
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochMilli(1_000_000), ZoneOffset.UTC);
    private static final TopicPartition TP = new TopicPartition("t", 0);
    private static final LogConfig CONFIG = LogConfig.from(Map.of());

    @Test
    void recoveryAfterAKillReadsAWrongBitOnceAndKeepsEveryRecord() throws IOException {
        // A byte of the fifth batch's record: the scan that checks every batch after a kill reads it wrong once.
        assertRecoveryKeepsEveryRecordAfterOneWrongReadAt(positionOfBatch(4) + 63);
    }

    @Test
    void recoveryThatReadsABatchLengthOneTooLargeOnceKeepsEveryRecord() throws IOException {
        // The low byte of the fifth batch's length (outside the CRC): the header read says one byte
        // more, the whole batch read after it is right and passes its CRC.
        assertRecoveryKeepsEveryRecordAfterOneWrongReadAt(positionOfBatch(4) + 11);
    }

    /** Twenty batches, a kill, then recovery reads the segment's byte {@code position} wrong once. */
    private static void assertRecoveryKeepsEveryRecordAfterOneWrongReadAt(long position) throws IOException {
        SimDisk disk = SimDisk.create("recovery");
        Path data = disk.root().resolve("data");
        List<String> written = writeAndKill(disk, data, 20);
        disk.flipNextReadAt(data.resolve("t-0").resolve("00000000000000000000.log"), position);

        LogManager logs = LogManager.openWithoutDuties(data, CLOCK);
        PartitionLog log = logs.getOrCreate(TP, CONFIG);

        assertThat(disk.stats().bitFlips()).as("the wrong read happened").isEqualTo(1);
        assertThat(log.isOffline()).as("offline: %s", log.offlineReason()).isFalse();
        assertThat(new ArrayList<>(LogValues.read(log).values())).isEqualTo(written);
        logs.close();
    }

    @Test
    void aReadWhoseHeaderWalkReadsAWrongLengthOnceServesFromTheRightPlace() throws IOException {
        // A read from offset 10 walks the headers from the start of the segment: its length field
        // of batch 2 reads back with a high bit set once.
        assertAReadFromOffsetTenServesFromTheRightPlaceAfterOneWrongReadAt(positionOfBatch(2) + 8);
    }

    @Test
    void aReadWhoseHeaderWalkReadsALengthOneOffOnceServesFromTheRightPlace() throws IOException {
        // The low byte of batch 2's length: the walk then lands one byte off, where every read finds
        // no header; the wrong read was the length before it, so only a new walk finds the way.
        assertAReadFromOffsetTenServesFromTheRightPlaceAfterOneWrongReadAt(positionOfBatch(2) + 11);
    }

    private static void assertAReadFromOffsetTenServesFromTheRightPlaceAfterOneWrongReadAt(long position) throws IOException {
        SimDisk disk = SimDisk.create("fetch");
        Path data = disk.root().resolve("data");
        // More batches than a segment remembers the places of (its last 64): offset 10 is found
        // by walking the headers in the file, as any read of older data is.
        writeAndKill(disk, data, 100);
        LogManager logs = LogManager.openWithoutDuties(data, CLOCK);
        PartitionLog log = logs.getOrCreate(TP, CONFIG);
        disk.flipNextReadAt(segment(data), position);

        var read = log.read(10, Integer.MAX_VALUE, Long.MAX_VALUE, true);

        assertThat(disk.stats().bitFlips()).as("the wrong read happened").isEqualTo(1);
        assertThat(read.error()).isEqualTo(LogError.NONE);
        ByteBuffer bytes = read.slice().readIntoHeap();
        read.slice().release();
        assertThat(bytes.getLong(0)).as("base offset of the first batch served").isEqualTo(10);
        logs.close();
    }

    @Test
    void aTruncationThatReadsABatchsLastOffsetWrongOnceCutsWhereItShould() throws IOException {
        SimDisk disk = SimDisk.create("truncate");
        Path data = disk.root().resolve("data");
        List<String> written = writeAndKill(disk, data, 20);
        LogManager logs = LogManager.openWithoutDuties(data, CLOCK);
        PartitionLog log = logs.getOrCreate(TP, CONFIG);
        // The low byte of batch 9's last offset delta: read once, batch 9 seems to hold offset 10 too.
        disk.flipNextReadAt(segment(data), positionOfBatch(9) + 26);

        log.truncateTo(10);

        assertThat(disk.stats().bitFlips()).as("the wrong read happened").isEqualTo(1);
        assertThat(log.logEndOffset()).isEqualTo(10);
        assertThat(new ArrayList<>(LogValues.read(log).values())).isEqualTo(written.subList(0, 10));
        logs.close();
    }

    @Test
    void aCleanStopsRecoveryReadsAHeaderLengthWrongOnceAndKeepsEveryRecord() throws IOException {
        SimDisk disk = SimDisk.create("clean-stop");
        Path data = disk.root().resolve("data");
        List<String> written = write(data, 20, null);
        // After a clean stop only batch headers are read (no CRC): batch 4's length reads one off, once.
        disk.flipNextReadAt(segment(data), positionOfBatch(4) + 11);

        LogManager logs = LogManager.openWithoutDuties(data, CLOCK);
        PartitionLog log = logs.getOrCreate(TP, CONFIG);

        assertThat(disk.stats().bitFlips()).as("the wrong read happened").isEqualTo(1);
        assertThat(log.isOffline()).as("offline: %s", log.offlineReason()).isFalse();
        assertThat(log.logEndOffset()).isEqualTo(20);
        assertThat(new ArrayList<>(LogValues.read(log).values())).isEqualTo(written);
        logs.close();
    }

    @Test
    void anEpochCheckpointReadWrongOnceKeepsTheEpochBoundaries() throws IOException {
        SimDisk disk = SimDisk.create("epochs");
        Path data = disk.root().resolve("data");
        write(data, 20, 10);
        // "0\n2\n0 0\n1 10\n": the last '0' of "1 10" reads as '1' once, epoch 1 would begin at 11.
        disk.flipNextReadAt(data.resolve("t-0").resolve("leader-epoch-checkpoint"), "0\n2\n0 0\n1 1".length());

        LogManager logs = LogManager.openWithoutDuties(data, CLOCK);
        PartitionLog log = logs.getOrCreate(TP, CONFIG);

        assertThat(disk.stats().bitFlips()).as("the wrong read happened").isEqualTo(1);
        assertThat(log.endOffsetForEpoch(0)).containsExactly(0, 10);
        assertThat(log.endOffsetForEpoch(1)).containsExactly(1, 20);
        logs.close();
    }

    private static Path segment(Path data) {
        return data.resolve("t-0").resolve("00000000000000000000.log");
    }

    /** Writes {@code batches} one-record batches (epoch 0, and 1 from {@code epochOneFrom} when not null) and stops cleanly. */
    private static List<String> write(Path data, int batches, Integer epochOneFrom) throws IOException {
        LogManager logs = LogManager.openWithoutDuties(data, CLOCK);
        List<String> written = append(logs.getOrCreate(TP, CONFIG), batches, epochOneFrom);
        logs.close();
        return written;
    }

    /** Appends {@code batches} one-record batches, flushed; epoch 1 from {@code epochOneFrom} when not null, else 0. */
    private static List<String> append(PartitionLog log, int batches, Integer epochOneFrom) throws IOException {
        List<String> written = new ArrayList<>();
        for (int i = 0; i < batches; i++) {
            String value = String.format("value-%04d", i);
            ByteBuffer batch = new RecordBatchBuilder(CLOCK.millis())
                    .append(CLOCK.millis(), null, ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8))).build();
            int epoch = epochOneFrom != null && i >= epochOneFrom ? 1 : 0;
            assertThat(log.appendAsLeader(batch, epoch, CLOCK.millis()).ok()).isTrue();
            written.add(value);
        }
        log.flush(CLOCK.millis());
        return written;
    }

    /** One record per batch, each the same size, so a batch's position is known; then a kill. */
    private static List<String> writeAndKill(SimDisk disk, Path data, int batches) throws IOException {
        LogManager logs = LogManager.openWithoutDuties(data, CLOCK);
        List<String> written = append(logs.getOrCreate(TP, CONFIG), batches, null);
        logs.halt();
        disk.kill();
        return written;
    }

    private static long positionOfBatch(int index) {
        int size = new RecordBatchBuilder(0).append(0, null, ByteBuffer.wrap("value-0000".getBytes(StandardCharsets.UTF_8))).build().remaining();
        return (long) index * size;
    }
}
