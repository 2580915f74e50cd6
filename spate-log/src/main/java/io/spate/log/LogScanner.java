package io.spate.log;

import io.spate.record.InvalidRecordBatchException;
import io.spate.record.RecordBatch;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads a range of a partition log in bounded chunks of whole batches, for a node's own scans
 * (a coordinator rebuilding its state, compaction); not for the fetch path, which never copies.
 * Every batch is checked (header and CRC) before a visitor sees it: a bad read fails the scan.
 */
public final class LogScanner {
    private static final int CHUNK_BYTES = 1 << 20;

    /** Takes a buffer of whole batches; it may keep nothing of it after it returns. */
    @FunctionalInterface
    public interface ChunkVisitor {
        void visit(ByteBuffer batches) throws IOException;
    }

    /** Takes one batch, as a view that the scan re-points at the next batch after it returns. */
    @FunctionalInterface
    public interface BatchVisitor {
        void visit(RecordBatch batch) throws IOException;
    }

    private LogScanner() {
    }

    /** Where a scan's reads go: a log's reads, or what its segments store below its log start too. */
    @FunctionalInterface
    interface Reader {
        LogReadResult read(long offset, int maxBytes, long maxOffsetExclusive);
    }

    /** Calls {@code visitor} with buffers of whole batches covering [from, to), in order. */
    public static void forEachChunk(PartitionLog log, long from, long to, ChunkVisitor visitor) throws IOException {
        forEachChunk(log, (offset, maxBytes, bound) -> log.read(offset, maxBytes, bound, true), from, to, visitor);
    }

    static void forEachChunk(PartitionLog log, Reader reader, long from, long to, ChunkVisitor visitor) throws IOException {
        long offset = from;
        RecordBatch batch = new RecordBatch();
        while (offset < to) {
            LogReadResult read = reader.read(offset, CHUNK_BYTES, to);
            if (read.error() != LogError.NONE) {
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
            long next = offset;
            int end = 0;
            while (end + RecordBatch.LOG_OVERHEAD <= bytes.limit()) {
                batch.wrap(bytes, end);
                int size = batch.sizeInBytes();
                if (end + size > bytes.limit()) {
                    break;
                }
                try {
                    batch.validate(size);
                } catch (InvalidRecordBatchException e) {
                    // What the node makes of its own records (a compacted copy, a coordinator's state)
                    // would otherwise carry a bad read on as good data, under a new CRC.
                    throw new IOException("cannot read " + log.topicPartition() + " at offset " + batch.baseOffset()
                            + ": the batch read fails its check (" + e.getMessage() + ")", e);
                }
                next = batch.lastOffset() + 1;
                end += size;
            }
            if (end == 0) {
                // The read gives at least one whole batch; a scan that stopped here would pass
                // for a short log, as above.
                throw new IOException("cannot read " + log.topicPartition() + " at offset " + offset + ": the "
                        + bytes.limit() + " bytes read hold no whole batch");
            }
            visitor.visit(bytes.duplicate().limit(end).slice());
            offset = next;
        }
    }

    /** Calls {@code visitor} with every whole batch in [from, to), in order. */
    public static void forEachBatch(PartitionLog log, long from, long to, BatchVisitor visitor) throws IOException {
        forEachBatch(log, (offset, maxBytes, bound) -> log.read(offset, maxBytes, bound, true), from, to, visitor);
    }

    static void forEachBatch(PartitionLog log, Reader reader, long from, long to, BatchVisitor visitor) throws IOException {
        RecordBatch batch = new RecordBatch();
        forEachChunk(log, reader, from, to, chunk -> {
            int position = 0;
            while (position < chunk.limit()) {
                visitor.visit(batch.wrap(chunk, position));
                position += batch.sizeInBytes();
            }
        });
    }
}
