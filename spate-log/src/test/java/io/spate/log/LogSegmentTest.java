package io.spate.log;

import io.spate.record.TestBatches;

import io.spate.record.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LogSegmentTest {
    @TempDir
    Path dir;

    private static ByteBuffer numbered(long base, String... values) {
        ByteBuffer b = TestBatches.batch(base * 10, values);
        RecordBatch.of(b).assign(base, 0);
        return b;
    }

    @Test
    void fileNameIsTheZeroPaddedBaseOffset() {
        assertThat(LogSegment.fileName(0)).isEqualTo("00000000000000000000.log");
        assertThat(LogSegment.fileName(1234)).isEqualTo("00000000000000001234.log");
    }

    @Test
    void appendThenLoadRebuildsTheSameState() throws IOException {
        LogSegment segment = LogSegment.create(dir, 100, 0);
        segment.append(TestBatches.concat(numbered(100, "a"), numbered(101, "b", "c")), 0);
        segment.append(numbered(103, "d"), 0);
        int size = segment.size();
        assertThat(segment.nextOffset()).isEqualTo(104);
        assertThat(segment.maxTimestamp()).isEqualTo(1030);
        assertThat(segment.positionOf(102, size)).isEqualTo(numbered(100, "a").remaining());
        assertThat(segment.positionOf(104, size)).isEqualTo(-1);
        int positionOf103 = segment.positionOf(103, size);
        assertThat(positionOf103).isPositive();
        segment.close();

        for (boolean validate : new boolean[]{true, false}) {
            LogSegment loaded = LogSegment.open(dir.resolve(LogSegment.fileName(100)), 0);
            List<Long> visited = new ArrayList<>();
            assertThat(loaded.load(validate, b -> visited.add(b.baseOffset())).clean()).isTrue();
            assertThat(visited).containsExactly(100L, 101L, 103L);
            assertThat(loaded.baseOffset()).isEqualTo(100);
            assertThat(loaded.size()).isEqualTo(size);
            assertThat(loaded.nextOffset()).isEqualTo(104);
            assertThat(loaded.positionOf(103, size)).isEqualTo(positionOf103);
            loaded.close();
        }
    }

    @Test
    void loadReportsABadLastBatchAsATornTailWithoutChangingTheFile() throws IOException {
        LogSegment segment = LogSegment.create(dir, 0, 4096);
        segment.append(numbered(0, "a"), 0);
        int good = segment.size();
        segment.close();
        ByteBuffer bad = numbered(1, "b");
        bad.put(bad.limit() - 1, (byte) 0x42);
        Files.write(dir.resolve(LogSegment.fileName(0)), TestBatches.bytes(bad), StandardOpenOption.APPEND);
        long fileSize = Files.size(dir.resolve(LogSegment.fileName(0)));

        LogSegment loaded = LogSegment.open(dir.resolve(LogSegment.fileName(0)), 4096);
        LogSegment.LoadOutcome outcome = loaded.load(true, null);
        assertThat(outcome.validBytes()).isEqualTo(good);
        assertThat(outcome.tornTail()).isTrue();
        assertThat(outcome.problem()).contains("CRC");
        assertThat(loaded.nextOffset()).isEqualTo(1);
        assertThat(Files.size(dir.resolve(LogSegment.fileName(0)))).as("the scan never changes the file").isEqualTo(fileSize);
        loaded.cutTail(outcome.validBytes());
        assertThat(Files.size(dir.resolve(LogSegment.fileName(0)))).isEqualTo(good);
        loaded.close();
    }

    @Test
    void aBadBatchFollowedByAGoodOneIsCorruptionNotATornTail() throws IOException {
        LogSegment segment = LogSegment.create(dir, 0, 4096);
        segment.append(numbered(0, "a"), 0);
        int first = segment.size();
        segment.append(numbered(1, "b"), 0);
        segment.append(numbered(2, "c"), 0);
        segment.close();
        flipByte(dir.resolve(LogSegment.fileName(0)), first + RecordBatch.HEADER_SIZE + 2);

        LogSegment loaded = LogSegment.open(dir.resolve(LogSegment.fileName(0)), 4096);
        LogSegment.LoadOutcome outcome = loaded.load(true, null);
        assertThat(outcome.validBytes()).isEqualTo(first);
        assertThat(outcome.tornTail()).isFalse();
        loaded.close();
    }

    @Test
    void storedBatchesAreNeverJudgedAgainstASizeLimit() throws IOException {
        LogSegment segment = LogSegment.create(dir, 0, 4096);
        segment.append(numbered(0, "a"), 0);
        segment.append(numbered(1, "b".repeat(500_000)), 0);
        int size = segment.size();
        segment.close();
        for (boolean validate : new boolean[]{true, false}) {
            LogSegment loaded = LogSegment.open(dir.resolve(LogSegment.fileName(0)), 4096);
            assertThat(loaded.load(validate, null).clean()).isTrue();
            assertThat(loaded.size()).isEqualTo(size);
            assertThat(loaded.nextOffset()).isEqualTo(2);
            loaded.close();
        }
    }

    static void flipByte(Path file, long position) throws IOException {
        try (var channel = java.nio.channels.FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
            channel.write(one, position);
        }
    }

    @Test
    void truncateToCutsAtABatchBoundary() throws IOException {
        LogSegment segment = LogSegment.create(dir, 0, 0);
        segment.append(numbered(0, "a"), 0);
        int first = segment.size();
        segment.append(numbered(1, "b"), 0);
        segment.append(numbered(2, "c"), 0);
        assertThat(segment.truncateTo(1)).isEqualTo(first);
        assertThat(segment.size()).isEqualTo(first);
        assertThat(segment.nextOffset()).isEqualTo(1);
        assertThat(segment.positionOf(1, segment.size())).isEqualTo(-1);
        segment.append(numbered(1, "b2"), 0);
        assertThat(TestBatches.values(segment.readBytes(0, segment.size()))).containsExactly("a", "b2");
        segment.close();
    }
}
