package io.spate.tests.support;

import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The batches of one replica's on-disk log, for logs that need not be contiguous from offset 0
 * (compacted topics have gaps, retention moves the start): base and last offsets, raw bytes,
 * and the latest record of each key, which every replica of a compacted topic must agree on
 * whatever its own compaction has removed.
 */
public final class ReplicaBatches {
    /** One stored batch. */
    public record Batch(long baseOffset, long lastOffset, byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Batch b && b.baseOffset == baseOffset && b.lastOffset == lastOffset && Arrays.equals(b.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(baseOffset) * 31 + Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Batch[" + baseOffset + ".." + lastOffset + ", " + bytes.length + " B]";
        }
    }

    /** A key's latest record: its offset and value (null for a tombstone). */
    public record Latest(long offset, String value) {
    }

    private ReplicaBatches() {
    }

    public static List<Batch> read(Path dataDir, String topic, int partition) throws IOException {
        byte[] log = ReplicaFiles.read(dataDir, topic, partition);
        ByteBuffer buf = ByteBuffer.wrap(log);
        List<Batch> batches = new ArrayList<>();
        int pos = 0;
        while (pos + 61 <= log.length) {
            int size = 12 + buf.getInt(pos + 8);
            if (pos + size > log.length) {
                break;
            }
            long base = buf.getLong(pos);
            long last = base + buf.getInt(pos + 23);
            batches.add(new Batch(base, last, Arrays.copyOfRange(log, pos, pos + size)));
            pos += size;
        }
        return batches;
    }

    /** The offset after the last batch; 0 for an empty log. */
    public static long endOffset(List<Batch> batches) {
        return batches.isEmpty() ? 0 : batches.getLast().lastOffset() + 1;
    }

    /** The batches at or after {@code offset}. */
    public static List<Batch> from(List<Batch> batches, long offset) {
        return batches.stream().filter(b -> b.baseOffset() >= offset).toList();
    }

    /** Each key's latest record below {@code endOffset}. */
    public static Map<String, Latest> latestByKey(List<Batch> batches, long endOffset) {
        Map<String, Latest> latest = new TreeMap<>();
        for (Batch b : batches) {
            for (RecordBatch batch : MemoryRecords.readableRecords(ByteBuffer.wrap(b.bytes())).batches()) {
                for (Record record : batch) {
                    if (record.offset() >= endOffset || !record.hasKey()) {
                        continue;
                    }
                    String key = StandardCharsets.UTF_8.decode(record.key()).toString();
                    String value = record.hasValue() ? StandardCharsets.UTF_8.decode(record.value()).toString() : null;
                    latest.put(key, new Latest(record.offset(), value));
                }
            }
        }
        return latest;
    }

    /** True when some offset in [from, to) is held by no batch: the log has a gap there. */
    public static boolean hasGapBetween(List<Batch> batches, long from, long to) {
        long expected = from;
        for (Batch b : batches) {
            if (b.lastOffset() < from) {
                continue;
            }
            if (b.baseOffset() > expected && expected < to) {
                return true;
            }
            expected = b.lastOffset() + 1;
            if (expected >= to) {
                return false;
            }
        }
        return expected < to;
    }
}
