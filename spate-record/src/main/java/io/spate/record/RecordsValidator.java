package io.spate.record;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Checks what a broker must check of a produced batch beyond its header and CRC, as Kafka's
 * broker does before it stores anything: the record count and the offset range agree, no
 * control batch comes from a client, a producer id comes with a sequence, the codec is known,
 * every record decodes (lengths, offset deltas 0..n-1, headers), keys are present when the
 * topic is compacted, and CreateTime timestamps lie within the topic's bounds around the
 * broker's clock.
 *
 * <p>An uncompressed batch is walked in place without allocating: only the varint lengths are
 * read and keys and values are skipped. A compressed one is first inflated into a buffer kept
 * by this validator (one per thread) through the {@link Decompressor} given by a module that
 * has the codecs; Kafka pays the same decompression on its produce path.
 *
 * <p>Not thread-safe: one instance per thread.
 */
public final class RecordsValidator {
    /** Inflates the records section of a compressed batch. */
    @FunctionalInterface
    public interface Decompressor {
        /**
         * @param codec      the batch's compression codec (1 gzip, 2 snappy, 3 lz4, 4 zstd)
         * @param compressed the compressed records section
         * @param into       a buffer that may be reused (cleared) when large enough
         * @return the decompressed records, from position to limit (possibly {@code into})
         */
        ByteBuffer decompress(int codec, ByteBuffer compressed, ByteBuffer into) throws IOException;
    }

    /** What kind of refusal: Kafka answers each with its own error code. */
    public enum Problem { INVALID_RECORD, INVALID_TIMESTAMP, CORRUPT }

    /** What a topic asks of its records. */
    public record Rules(boolean keysRequired, boolean createTime, long minTimestamp, long maxTimestamp) {
        public static Rules of(boolean compacted, boolean logAppendTime, long nowMs, long beforeMaxMs, long afterMaxMs) {
            long min = beforeMaxMs >= nowMs ? Long.MIN_VALUE : nowMs - beforeMaxMs;
            long max = afterMaxMs > Long.MAX_VALUE - nowMs ? Long.MAX_VALUE : nowMs + afterMaxMs;
            return new Rules(compacted, !logAppendTime, min, max);
        }
    }

    private static final int MAX_CODEC = 4;

    private final Decompressor decompressor;
    private ByteBuffer inflated = ByteBuffer.allocate(0);
    private Problem problem;
    private String message;
    private int position;

    /** @param decompressor null when no codec is at hand: compressed batches are then checked up to their header */
    public RecordsValidator(Decompressor decompressor) {
        this.decompressor = decompressor;
    }

    public Decompressor decompressor() {
        return decompressor;
    }

    public Problem problem() {
        return problem;
    }

    public String message() {
        return message;
    }

    /** @return true when {@code batch} may be stored; otherwise {@link #problem()} and {@link #message()} say why */
    public boolean validate(RecordBatch batch, Rules rules) {
        problem = null;
        message = null;
        int count = batch.recordCount();
        if (count <= 0) {
            return fail(Problem.INVALID_RECORD, "record batch reports " + count + " records");
        }
        if (batch.lastOffsetDelta() + 1 != count) {
            return fail(Problem.INVALID_RECORD, "record count " + count + " does not match the offset range (last offset delta "
                    + batch.lastOffsetDelta() + ")");
        }
        if (batch.isControl()) {
            return fail(Problem.INVALID_RECORD, "clients may not write control batches");
        }
        if (batch.hasProducerId() && batch.baseSequence() < 0) {
            return fail(Problem.INVALID_RECORD, "producer " + batch.producerId() + " sent a batch without a sequence number");
        }
        int codec = batch.compressionCodec();
        if (codec > MAX_CODEC) {
            return fail(Problem.INVALID_RECORD, "unknown compression codec " + codec);
        }
        ByteBuffer buffer = batch.buffer();
        int from = batch.start() + RecordBatch.HEADER_SIZE;
        int to = batch.start() + batch.sizeInBytes();
        if (codec != 0) {
            if (decompressor == null) {
                return true;
            }
            try {
                ByteBuffer compressed = buffer.duplicate().limit(to).position(from).slice();
                inflated = decompressor.decompress(codec, compressed, inflated);
            } catch (IOException | RuntimeException e) {
                return fail(Problem.CORRUPT, "records do not decompress: " + e.getMessage());
            }
            buffer = inflated;
            from = inflated.position();
            to = inflated.limit();
        }
        boolean checkTimestamps = rules.createTime() && !batch.isLogAppendTime()
                && (rules.minTimestamp() != Long.MIN_VALUE || rules.maxTimestamp() != Long.MAX_VALUE);
        return walk(buffer, from, to, count, batch.baseTimestamp(), rules, checkTimestamps);
    }

    private boolean walk(ByteBuffer buffer, int from, int to, int count, long baseTimestamp, Rules rules, boolean checkTimestamps) {
        position = from;
        try {
            for (int i = 0; i < count; i++) {
                int length = varint(buffer, to);
                int start = position;
                if (length <= 0 || (long) start + length > to) {
                    return fail(Problem.CORRUPT, "record " + i + " claims " + length + " bytes");
                }
                int end = start + length;
                position++; // attributes
                long timestampDelta = varlong(buffer, end);
                int offsetDelta = varint(buffer, end);
                if (offsetDelta != i) {
                    return fail(Problem.INVALID_RECORD, "record " + i + " has offset delta " + offsetDelta);
                }
                int keyLength = varint(buffer, end);
                if (keyLength < 0) {
                    if (keyLength != -1) {
                        return fail(Problem.CORRUPT, "record " + i + " has key length " + keyLength);
                    }
                    if (rules.keysRequired()) {
                        return fail(Problem.INVALID_RECORD, "a compacted topic only takes records with a key");
                    }
                } else {
                    skip(keyLength, end);
                }
                int valueLength = varint(buffer, end);
                if (valueLength < -1) {
                    return fail(Problem.CORRUPT, "record " + i + " has value length " + valueLength);
                }
                skip(Math.max(0, valueLength), end);
                int headers = varint(buffer, end);
                if (headers < 0) {
                    return fail(Problem.CORRUPT, "record " + i + " has " + headers + " headers");
                }
                for (int h = 0; h < headers; h++) {
                    int headerKeyLength = varint(buffer, end);
                    if (headerKeyLength < 0) {
                        return fail(Problem.CORRUPT, "record " + i + " has a header without a key");
                    }
                    skip(headerKeyLength, end);
                    int headerValueLength = varint(buffer, end);
                    if (headerValueLength < -1) {
                        return fail(Problem.CORRUPT, "record " + i + " has a header value length of " + headerValueLength);
                    }
                    skip(Math.max(0, headerValueLength), end);
                }
                if (position != end) {
                    return fail(Problem.CORRUPT, "record " + i + " is " + length + " bytes but its fields take " + (position - start));
                }
                if (checkTimestamps) {
                    long timestamp = baseTimestamp + timestampDelta;
                    if (timestamp != RecordBatch.NO_TIMESTAMP && (timestamp < rules.minTimestamp() || timestamp > rules.maxTimestamp())) {
                        return fail(Problem.INVALID_TIMESTAMP, "timestamp " + timestamp + " of record " + i
                                + " is out of the range the topic accepts [" + rules.minTimestamp() + ", " + rules.maxTimestamp() + "]");
                    }
                }
            }
        } catch (IndexOutOfBoundsException e) {
            return fail(Problem.CORRUPT, "records end in the middle of a field");
        }
        if (position != to) {
            return fail(Problem.CORRUPT, (to - position) + " bytes follow the last of " + count + " records");
        }
        return true;
    }

    private void skip(int bytes, int end) {
        if ((long) position + bytes > end) {
            throw new IndexOutOfBoundsException();
        }
        position += bytes;
    }

    private int varint(ByteBuffer buffer, int end) {
        return (int) zigzag(buffer, end, 28);
    }

    private long varlong(ByteBuffer buffer, int end) {
        return zigzag(buffer, end, 63);
    }

    /** A zigzag-encoded varint of at most {@code maxShift / 7 + 1} bytes, as Kafka's record fields are. */
    private long zigzag(ByteBuffer buffer, int end, int maxShift) {
        long raw = 0;
        int shift = 0;
        while (true) {
            if (position >= end) {
                throw new IndexOutOfBoundsException();
            }
            byte b = buffer.get(position++);
            raw |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
            if (shift > maxShift) {
                throw new IndexOutOfBoundsException();
            }
        }
        return (raw >>> 1) ^ -(raw & 1);
    }

    private boolean fail(Problem kind, String why) {
        problem = kind;
        message = why;
        return false;
    }
}
