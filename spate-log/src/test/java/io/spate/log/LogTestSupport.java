package io.spate.log;

import io.spate.record.RecordBatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Helpers shared by the log tests. */
public final class LogTestSupport {
    static final TopicPartition TP = new TopicPartition("orders", 0);
    /** A retention check interval that never fires during a test. */
    static final long HOUR = 3_600_000;
    static final java.time.Clock CLOCK = java.time.Clock.fixed(java.time.Instant.ofEpochMilli(1_000_000), java.time.ZoneOffset.UTC);

    private LogTestSupport() {
    }

    static LogConfig config(String... keyValues) {
        Map<String, String> overrides = new java.util.HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            overrides.put(keyValues[i], keyValues[i + 1]);
        }
        return LogConfig.from(overrides);
    }

    /** One record of {@code valueBytes}, timestamped just before {@link #CLOCK}'s time. */
    static ByteBuffer sized(int valueBytes) {
        return io.spate.record.TestBatches.builder().baseTimestamp(999_000).recordOfSize(valueBytes).build();
    }

    /** Appends and asserts that the append succeeded. */
    static AppendResult append(PartitionLog log, ByteBuffer records, long nowMs) {
        AppendResult result = log.appendAsLeader(records, 0, nowMs);
        assertThat(result.error()).as("append error: %s", result.message()).isEqualTo(LogError.NONE);
        return result;
    }

    /** Reads and copies the bytes, releasing the slice. */
    static ByteBuffer readBytes(PartitionLog log, long offset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        LogReadResult result = log.read(offset, maxBytes, maxOffsetExclusive, minOneBatch);
        assertThat(result.error()).isEqualTo(LogError.NONE);
        try {
            return result.slice().readIntoHeap();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            result.slice().release();
        }
    }

    /** Everything from {@code offset} to the log end. */
    static ByteBuffer readAll(PartitionLog log, long offset) {
        return readBytes(log, offset, Integer.MAX_VALUE, Long.MAX_VALUE, false);
    }

    /** Base offsets of the whole batches in {@code bytes}. */
    static List<Long> baseOffsets(ByteBuffer bytes) {
        List<Long> offsets = new ArrayList<>();
        RecordBatch view = new RecordBatch();
        int pos = bytes.position();
        while (pos + RecordBatch.LOG_OVERHEAD <= bytes.limit()) {
            view.wrap(bytes, pos);
            if (pos + view.sizeInBytes() > bytes.limit()) {
                break;
            }
            offsets.add(view.baseOffset());
            pos += view.sizeInBytes();
        }
        return offsets;
    }

    static List<String> segmentFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log")).sorted().toList();
        }
    }

    /** Copies a directory tree: a snapshot of a data directory as a crash would leave it. */
    public static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
