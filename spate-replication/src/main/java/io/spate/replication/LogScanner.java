package io.spate.replication;

import io.spate.log.LogReadResult;
import io.spate.log.PartitionLog;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Reads a range of a partition log in bounded chunks of whole batches, for a node's own scans
 * (a coordinator rebuilding its state, compaction); not for the fetch path, which never copies.
 */
public final class LogScanner {
    private static final int CHUNK_BYTES = 1 << 20;

    private LogScanner() {
    }

    /** Calls {@code visitor} with buffers of whole batches covering [from, to), in order. */
    public static void forEachChunk(PartitionLog log, long from, long to, Consumer<ByteBuffer> visitor) throws IOException {
        long offset = from;
        while (offset < to) {
            LogReadResult read = log.read(offset, CHUNK_BYTES, to, true);
            if (read.error() != io.spate.log.LogError.NONE) {
                // A scan that silently stopped early would look like a short log: compaction
                // would then replace segments with a partial copy.
                throw new IOException("cannot read " + log.topicPartition() + " at offset " + offset + ": " + read.error());
            }
            if (read.sizeInBytes() == 0) {
                return;
            }
            ByteBuffer bytes;
            try {
                bytes = read.slice().readIntoHeap();
            } finally {
                read.slice().release();
            }
            ByteBuffer whole = bytes.duplicate().limit(wholeBatchesEnd(bytes)).slice();
            if (!whole.hasRemaining()) {
                return;
            }
            long next = offset;
            for (RecordBatch batch : MemoryRecords.readableRecords(whole.duplicate()).batches()) {
                next = batch.lastOffset() + 1;
            }
            visitor.accept(whole);
            offset = next;
        }
    }

    /** Calls {@code visitor} with every whole batch in [from, to), in order. */
    public static void forEachBatch(PartitionLog log, long from, long to, Consumer<RecordBatch> visitor) throws IOException {
        forEachChunk(log, from, to, chunk -> MemoryRecords.readableRecords(chunk).batches().forEach(visitor));
    }

    private static int wholeBatchesEnd(ByteBuffer bytes) {
        int position = 0;
        while (position + io.spate.record.RecordBatch.LOG_OVERHEAD <= bytes.limit()) {
            int size = io.spate.record.RecordBatch.LOG_OVERHEAD + bytes.getInt(position + io.spate.record.RecordBatch.LENGTH_OFFSET);
            if (position + size > bytes.limit()) {
                break;
            }
            position += size;
        }
        return position;
    }
}
