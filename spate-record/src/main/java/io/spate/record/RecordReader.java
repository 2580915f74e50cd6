package io.spate.record;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Decodes the records of a stored batch, for the node's own scans of its logs (compaction, a
 * coordinator replaying its state), never on the produce or fetch path, which move batches whole.
 * A compressed batch is inflated through the {@link RecordsValidator.Decompressor} into a buffer
 * this reader keeps and reuses. One {@link Record} view is reused for every record.
 *
 * <p>Not thread-safe: one instance per thread.
 */
public final class RecordReader {
    private final RecordsValidator.Decompressor decompressor;
    private final ByteCursor in = new ByteCursor();
    private final Record record = new Record();
    private ByteBuffer inflated = ByteBuffer.allocate(0);
    private int remaining;
    private long baseOffset;
    private long baseTimestamp;
    private long logAppendTime = RecordBatch.NO_TIMESTAMP;

    /** @param decompressor null when only uncompressed batches will be read */
    public RecordReader(RecordsValidator.Decompressor decompressor) {
        this.decompressor = decompressor;
    }

    /**
     * Starts on the records of {@code batch}.
     *
     * @throws IOException when the batch is compressed and does not inflate, or no codec is at hand
     */
    public RecordReader open(RecordBatch batch) throws IOException {
        ByteBuffer buffer = batch.buffer();
        int from = batch.start() + RecordBatch.HEADER_SIZE;
        int to = batch.start() + batch.sizeInBytes();
        int codec = batch.compressionCodec();
        if (codec != 0) {
            if (decompressor == null) {
                throw new IOException("batch at offset " + batch.baseOffset() + " is compressed (codec " + codec + ") and no codec is at hand");
            }
            ByteBuffer records = decompressor.decompress(codec, buffer.duplicate().limit(to).position(from).slice(), inflated,
                    RecordsValidator.MAX_INFLATED_BYTES);
            inflated = records.capacity() <= RecordsValidator.MAX_KEPT_BYTES ? records : inflated;
            buffer = records;
            from = records.position();
            to = records.limit();
        }
        in.at(buffer, from, to);
        remaining = batch.recordCount();
        baseOffset = batch.baseOffset();
        baseTimestamp = batch.baseTimestamp();
        logAppendTime = batch.isLogAppendTime() ? batch.maxTimestamp() : RecordBatch.NO_TIMESTAMP;
        return this;
    }

    public boolean hasNext() {
        return remaining > 0;
    }

    /**
     * The next record of the open batch.
     *
     * @throws InvalidRecordBatchException when the records section is not what its header says
     */
    public Record next() {
        if (remaining <= 0) {
            throw new java.util.NoSuchElementException();
        }
        remaining--;
        int limit = in.end;
        try {
            Record r = record;
            r.buffer = in.buffer();
            r.start = in.position;
            int length = in.varint();
            if (length <= 0 || (long) in.position + length > limit) {
                throw new InvalidRecordBatchException("a record at offset " + baseOffset + "+ claims " + length + " bytes");
            }
            r.end = in.position + length;
            in.end = r.end;
            in.get(); // attributes: none defined for records
            long timestampDelta = in.varlong();
            r.offset = baseOffset + in.varint();
            r.timestamp = logAppendTime != RecordBatch.NO_TIMESTAMP ? logAppendTime : baseTimestamp + timestampDelta;
            r.keyLength = in.varint();
            r.keyStart = in.position;
            in.skip(Math.max(0, r.keyLength));
            r.valueLength = in.varint();
            r.valueStart = in.position;
            if (r.keyLength < -1 || r.valueLength < -1 || r.valueLength > r.end - r.valueStart) {
                throw new InvalidRecordBatchException("a record at offset " + r.offset + " has a key of " + r.keyLength
                        + " or a value of " + r.valueLength + " bytes, in " + length);
            }
            in.position = r.end; // headers are not read: nothing the node does with a record needs them
            return r;
        } catch (IndexOutOfBoundsException e) {
            throw new InvalidRecordBatchException("records of the batch at offset " + baseOffset + " end in the middle of a field");
        } finally {
            in.end = limit;
        }
    }

    /** Calls {@code visitor} with every record of {@code batch}, in order. */
    public void forEach(RecordBatch batch, Consumer<Record> visitor) throws IOException {
        open(batch);
        while (hasNext()) {
            visitor.accept(next());
        }
    }
}
