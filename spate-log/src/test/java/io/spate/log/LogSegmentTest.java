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
            assertThat(loaded.load(validate, 1 << 20, b -> visited.add(b.baseOffset()))).isZero();
            assertThat(visited).containsExactly(100L, 101L, 103L);
            assertThat(loaded.baseOffset()).isEqualTo(100);
            assertThat(loaded.size()).isEqualTo(size);
            assertThat(loaded.nextOffset()).isEqualTo(104);
            assertThat(loaded.positionOf(103, size)).isEqualTo(positionOf103);
            loaded.close();
        }
    }

    @Test
    void loadWithValidationCutsACorruptTailAndReportsTheBytesCut() throws IOException {
        LogSegment segment = LogSegment.create(dir, 0, 4096);
        segment.append(numbered(0, "a"), 0);
        int good = segment.size();
        segment.close();
        ByteBuffer bad = numbered(1, "b");
        bad.put(bad.limit() - 1, (byte) 0x42);
        Files.write(dir.resolve(LogSegment.fileName(0)), TestBatches.bytes(bad), StandardOpenOption.APPEND);

        LogSegment loaded = LogSegment.open(dir.resolve(LogSegment.fileName(0)), 4096);
        assertThat(loaded.load(true, 1 << 20, null)).isEqualTo(bad.remaining());
        assertThat(loaded.size()).isEqualTo(good);
        assertThat(loaded.nextOffset()).isEqualTo(1);
        assertThat(Files.size(dir.resolve(LogSegment.fileName(0)))).isEqualTo(good);
        loaded.close();
    }

    @Test
    void loadCutsABatchLargerThanTheLimit() throws IOException {
        LogSegment segment = LogSegment.create(dir, 0, 4096);
        segment.append(numbered(0, "a"), 0);
        int first = segment.size();
        segment.append(numbered(1, "b".repeat(500)), 0);
        segment.close();
        LogSegment loaded = LogSegment.open(dir.resolve(LogSegment.fileName(0)), 4096);
        assertThat(loaded.load(false, 200, null)).isPositive();
        assertThat(loaded.size()).isEqualTo(first);
        loaded.close();
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
