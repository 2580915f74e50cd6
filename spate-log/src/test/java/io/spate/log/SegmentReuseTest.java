package io.spate.log;

import io.spate.record.TestBatches;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import static io.spate.log.LogTestSupport.TP;
import static io.spate.log.LogTestSupport.append;
import static io.spate.log.LogTestSupport.baseOffsets;
import static io.spate.log.LogTestSupport.config;
import static io.spate.log.LogTestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;

/** A segment removed while a reader still holds it must not take a later segment of the same name with it. */
class SegmentReuseTest {
    @TempDir
    Path dir;

    @Test
    void truncatedSegmentHeldByAReaderDoesNotDeleteItsSuccessor() throws IOException {
        LogConfig cfg = config(LogConfig.SEGMENT_BYTES, "1024");
        PartitionLog log = PartitionLog.open(TP, dir, cfg, 0, 0);
        append(log, TestBatches.builder().recordOfSize(900).build(), 0); // segment 0
        append(log, TestBatches.builder().record(null, "old").build(), 0); // segment 1
        assertThat(log.segmentCount()).isEqualTo(2);

        LogReadResult inFlight = log.read(1, 10_000, Long.MAX_VALUE, false);
        ByteBuffer held = inFlight.slice().readIntoHeap();
        assertThat(TestBatches.values(held)).containsExactly("old");

        log.truncateTo(1);
        // segment 0 is nearly full, so this append rolls and creates a segment named 1 again
        AppendResult fresh = append(log, TestBatches.builder().record(null, "new").build(), 0);
        assertThat(fresh.baseOffset()).isEqualTo(1);
        assertThat(log.segmentCount()).isEqualTo(2);

        // the reader still sees the bytes it was given
        assertThat(TestBatches.values(inFlight.slice().readIntoHeap())).containsExactly("old");
        inFlight.slice().release();
        assertThat(LogTestSupport.segmentFiles(dir)).containsExactly(LogSegment.fileName(0), LogSegment.fileName(1));
        try (var files = java.nio.file.Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".deleted"));
        }

        assertThat(TestBatches.values(readAll(log, 1))).containsExactly("new");
        log.close();

        PartitionLog reopened = PartitionLog.open(TP, dir, cfg, 0, 0);
        try {
            assertThat(reopened.logEndOffset()).isEqualTo(2);
            assertThat(baseOffsets(readAll(reopened, 1))).containsExactly(1L);
            assertThat(TestBatches.values(readAll(reopened, 1))).containsExactly("new");
        } finally {
            reopened.close();
        }
    }
}
