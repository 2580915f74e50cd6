package io.spate.record;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Rewrites stored batches keeping only the records a {@link Retention} keeps, as compaction
 * does. A batch keeps its header (base offset, last offset, base timestamp, producer id, epoch
 * and sequence, leader epoch, attributes and codec), so offsets and a producer's last sequence
 * survive, as in Kafka; its record count, its max timestamp (unless stamped with log-append
 * time) and its CRC are set for what it keeps. Retained records are copied as encoded: their
 * offset and timestamp deltas still count from the unchanged base. A batch that keeps every
 * record is copied whole; one that keeps none is dropped, unless the retention asks to keep it
 * empty (a producer's last batch: Kafka's cleaner keeps its header so that the producer's last
 * sequence survives a replay of the log), and then only its header stays, with no records and no
 * codec; a control batch (a transaction marker) is kept whole.
 *
 * <p>Not thread-safe: one instance per thread.
 */
public final class RecordBatchFilter {
    /** Decides, record by record, what a rewrite keeps. */
    @FunctionalInterface
    public interface Retention {
        boolean retain(RecordBatch batch, Record record);

        /** Whether a data batch none of whose records is retained stays as an empty batch (its header alone). */
        default boolean keepWhenEmpty(RecordBatch batch) {
            return false;
        }
    }

    /** The rewritten batches (from position to limit), and what they hold. */
    public record Result(ByteBuffer output, int batchesKept, long recordsKept) {
    }

    private final Codecs codecs;
    private final RecordReader reader;
    private final RecordBatch in = new RecordBatch();
    private final RecordBatch written = new RecordBatch();
    private ByteBuffer kept = ByteBuffer.allocate(0);
    private long keptMaxTimestamp;

    /** @param codecs null when only uncompressed batches will be rewritten */
    public RecordBatchFilter(Codecs codecs) {
        this.codecs = codecs;
        this.reader = new RecordReader(codecs);
    }

    /**
     * Filters the whole batches of {@code batches} (position to limit) into {@code out}, cleared
     * first, or into a larger buffer when what is kept does not fit.
     *
     * @throws IOException when a compressed batch cannot be inflated or deflated again
     * @throws InvalidRecordBatchException when a batch's records are not what its header says
     */
    public Result filter(ByteBuffer batches, Retention retention, ByteBuffer out) throws IOException {
        out.clear();
        int batchesKept = 0;
        long recordsKept = 0;
        int position = batches.position();
        while (position + RecordBatch.LOG_OVERHEAD <= batches.limit()) {
            in.wrap(batches, position);
            int size = in.sizeInBytes();
            if (size < RecordBatch.HEADER_SIZE || position + size > batches.limit()) {
                throw new InvalidRecordBatchException("a batch of " + size + " bytes at offset " + in.baseOffset()
                        + " does not fit in the " + (batches.limit() - position) + " bytes left");
            }
            if (in.isControl()) {
                out = copy(batches, position, size, out);
                batchesKept++;
                recordsKept += in.recordCount();
            } else {
                int count = keep(retention);
                if (count > 0 && count == in.recordCount()) {
                    out = copy(batches, position, size, out);
                    batchesKept++;
                } else if (count > 0) {
                    out = rewrite(count, out);
                    batchesKept++;
                } else if (retention.keepWhenEmpty(in)) {
                    // An empty batch an earlier pass kept is copied as it is.
                    out = in.recordCount() == 0 ? copy(batches, position, size, out) : writeEmpty(out);
                    batchesKept++;
                }
                recordsKept += count;
            }
            position += size;
        }
        if (position != batches.limit()) {
            throw new InvalidRecordBatchException((batches.limit() - position) + " bytes after the last whole batch");
        }
        return new Result(out.flip(), batchesKept, recordsKept);
    }

    /** Reads the records of {@link #in} and copies those retained, as encoded, into {@link #kept}. */
    private int keep(Retention retention) throws IOException {
        kept.clear();
        int count = 0;
        long maxTimestamp = RecordBatch.NO_TIMESTAMP;
        reader.open(in);
        while (reader.hasNext()) {
            Record record = reader.next();
            if (retention.retain(in, record)) {
                if (kept.remaining() < record.sizeInBytes()) {
                    kept = grow(kept.flip(), record.sizeInBytes());
                }
                record.copyTo(kept);
                count++;
                maxTimestamp = Math.max(maxTimestamp, record.timestamp());
            }
        }
        keptMaxTimestamp = maxTimestamp;
        return count;
    }

    private ByteBuffer rewrite(int count, ByteBuffer out) throws IOException {
        ByteBuffer section = kept.duplicate().flip();
        int codec = in.compressionCodec();
        if (codec != 0) {
            section = codecs.compress(codec, section);
        }
        int size = RecordBatch.HEADER_SIZE + section.remaining();
        if (out.remaining() < size) {
            out = grow(out.flip(), size);
        }
        int start = out.position();
        out.put(in.buffer().duplicate().position(in.start()).limit(in.start() + RecordBatch.HEADER_SIZE));
        out.put(section);
        out.putInt(start + RecordBatch.RECORD_COUNT_OFFSET, count);
        if (!in.isLogAppendTime()) {
            out.putLong(start + RecordBatch.MAX_TIMESTAMP_OFFSET, keptMaxTimestamp);
        }
        written.wrap(out, start).seal(size);
        return out;
    }

    /**
     * The header of {@link #in} with no records: offsets, producer id, epoch and sequence and
     * leader epoch as they were, both timestamps the batch's max timestamp, the count 0 and the
     * codec bits cleared (there is nothing to inflate), as Kafka writes an empty batch.
     */
    private ByteBuffer writeEmpty(ByteBuffer out) {
        int size = RecordBatch.HEADER_SIZE;
        if (out.remaining() < size) {
            out = grow(out.flip(), size);
        }
        int start = out.position();
        out.put(in.buffer().duplicate().position(in.start()).limit(in.start() + size));
        out.putInt(start + RecordBatch.RECORD_COUNT_OFFSET, 0);
        out.putLong(start + RecordBatch.BASE_TIMESTAMP_OFFSET, in.maxTimestamp());
        out.putShort(start + RecordBatch.ATTRIBUTES_OFFSET, (short) (in.attributes() & ~RecordBatch.COMPRESSION_MASK));
        written.wrap(out, start).seal(size);
        return out;
    }

    private static ByteBuffer copy(ByteBuffer from, int position, int size, ByteBuffer out) {
        if (out.remaining() < size) {
            out = grow(out.flip(), size);
        }
        out.put(from.duplicate().limit(position + size).position(position));
        return out;
    }

    /** A larger buffer holding {@code filled} (flipped), with room for {@code more} bytes. */
    private static ByteBuffer grow(ByteBuffer filled, int more) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(filled.capacity() * 2, filled.remaining() + more));
        bigger.put(filled);
        return bigger;
    }
}
