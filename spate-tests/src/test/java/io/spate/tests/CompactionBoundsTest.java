package io.spate.tests;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.log.LogScanner;
import io.spate.log.compaction.LogCompactor;
import io.spate.server.network.KafkaCodecs;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Compaction within bounds: a key map that holds a fraction of the keys (several passes, each
 * correct on its own) and output segments no larger than segment.bytes, whatever the size of
 * the partition. The bounds are set small here so that a small log behaves as a multi-GiB one.
 * Batches are written, and the compacted log read back, with kafka-clients' own record classes,
 * so that Spate's record decoding and rewriting are checked against Kafka's, for every codec.
 */
class CompactionBoundsTest {
    private static final int KEYS = 400;
    private static final int SEGMENT_BYTES = 8192;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void aLogWhoseKeysOverflowTheKeyMapCompactsInSeveralBoundedPasses(CompressionType codec) throws Exception {
        Clock clock = Clock.systemUTC();
        LogConfig config = LogConfig.from(Map.of("cleanup.policy", "compact", "segment.bytes", String.valueOf(SEGMENT_BYTES)));
        Map<String, String> latest = new HashMap<>();
        try (LogManager manager = LogManager.open(tmp.resolve("data"), clock, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new io.spate.log.TopicPartition("bounded", 0), config);
            int written = 0;
            for (int round = 0; round < 12; round++) {
                for (int b = 0; b < KEYS / 10; b++) {
                    SimpleRecord[] records = new SimpleRecord[10];
                    for (int r = 0; r < 10; r++) {
                        String key = "key-" + ((b * 10 + r) * 7 + round) % KEYS;
                        String value = key + "@" + written++;
                        latest.put(key, value);
                        records[r] = new SimpleRecord(clock.millis(), key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
                    }
                    assertThat(log.appendAsLeader(MemoryRecords.withRecords(Compression.of(codec).build(), records).buffer(), 0, clock.millis()).ok()).isTrue();
                }
            }
            log.updateHighWatermark(log.logEndOffset());
            long sizeBefore = log.sizeInBytes();
            boolean compressed = codec != CompressionType.NONE;
            assertThat(sizeBefore).isGreaterThan((compressed ? 6L : 15L) * SEGMENT_BYTES);

            // Room for about 200 of the 400 keys (7-byte keys) (one window of 4,800 records needs ~24 passes to sweep).
            LogCompactor compactor = new LogCompactor(clock, 200L * (LogCompactor.ENTRY_OVERHEAD_BYTES + 7), KafkaCodecs.INSTANCE);
            int passes = 0;
            while (duplicatesBelow(log, log.activeSegmentBaseOffset()) > 0) {
                assertThat(compactor.compact(log)).isTrue();
                passes++;
                assertThat(passes).as("compaction converges").isLessThan(100);
                for (Path segment : segmentFiles(log.dir())) {
                    assertThat(Files.size(segment)).as(segment.toString()).isLessThanOrEqualTo(SEGMENT_BYTES);
                }
                assertLatestValuesKept(log, latest);
            }
            assertThat(passes).as("the key map bound forced several passes").isGreaterThan(3);
            // Kept records recompress in small batches: less gain than without a codec.
            assertThat(log.sizeInBytes()).isLessThan(sizeBefore / (compressed ? 3 : 4));
            assertThat(log.logStartOffset()).isZero();
        }
        try (LogManager manager = LogManager.open(tmp.resolve("data"), clock, 3_600_000)) {
            PartitionLog log = manager.getOrCreate(new io.spate.log.TopicPartition("bounded", 0), config);
            assertThat(log.isOffline()).isFalse();
            assertLatestValuesKept(log, latest);
        }
    }

    /** Every key's last value is readable, and every offset read is larger than the one before. */
    private static void assertLatestValuesKept(PartitionLog log, Map<String, String> latest) throws Exception {
        Map<String, String> seen = new HashMap<>();
        long[] previous = {-1};
        forEachKafkaBatch(log, log.logStartOffset(), log.logEndOffset(), batch -> {
            batch.ensureValid();
            for (Record record : batch) {
                assertThat(record.offset()).isGreaterThan(previous[0]);
                previous[0] = record.offset();
                seen.put(utf8(record.key()), utf8(record.value()));
            }
        });
        assertThat(seen).isEqualTo(latest);
    }

    private static int duplicatesBelow(PartitionLog log, long end) throws Exception {
        List<String> keys = new ArrayList<>();
        forEachKafkaBatch(log, log.logStartOffset(), end, batch -> {
            for (Record record : batch) {
                keys.add(utf8(record.key()));
            }
        });
        return keys.size() - (int) keys.stream().distinct().count();
    }

    /** The log's batches as kafka-clients reads them. */
    private static void forEachKafkaBatch(PartitionLog log, long from, long to, java.util.function.Consumer<RecordBatch> visitor)
            throws Exception {
        LogScanner.forEachChunk(log, from, to, chunk -> MemoryRecords.readableRecords(chunk).batches().forEach(visitor));
    }

    private static List<Path> segmentFiles(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
        }
    }

    private static String utf8(java.nio.ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
