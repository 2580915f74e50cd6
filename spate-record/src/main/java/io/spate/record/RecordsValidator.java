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
         * @param maxBytes   the most the records may inflate to
         * @return the decompressed records, from position to limit (possibly {@code into})
         * @throws InflatesTooFarException when the records inflate past {@code maxBytes}
         */
        ByteBuffer decompress(int codec, ByteBuffer compressed, ByteBuffer into, int maxBytes) throws IOException;
    }

    /** A compressed records section that inflates past the bound it was given: a decompression bomb, or a mistake. */
    public static final class InflatesTooFarException extends IOException {
        public InflatesTooFarException(int maxBytes) {
            super("the records inflate to more than " + maxBytes + " bytes");
        }
    }

    /**
     * How far any batch's records may inflate. A small compressed batch can hold gigabytes of
     * zeros; inflated whole, that would take the node's heap (or, past 1 GiB, overflow the
     * buffer's growth). A producer's batches inflate to what its batch size and compression
     * ratio allow, megabytes at most; an eighth of the heap leaves room for several at once.
     */
    public static final int MAX_INFLATED_BYTES = (int) Math.min(256L << 20, Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 8));

    /** Inflated buffers larger than this are not kept between batches, so one big batch does not pin its buffer on a thread. */
    static final int MAX_KEPT_BYTES = 1 << 20;

    /** What kind of refusal: Kafka answers each with its own error code. */
    public enum Problem { INVALID_RECORD, INVALID_TIMESTAMP, CORRUPT, TOO_LARGE }

    /** What a topic asks of its records. */
    public record Rules(boolean keysRequired, boolean createTime, long minTimestamp, long maxTimestamp, int maxInflatedBytes) {
        public static Rules of(boolean compacted, boolean logAppendTime, long nowMs, long beforeMaxMs, long afterMaxMs) {
            long min = beforeMaxMs >= nowMs ? Long.MIN_VALUE : nowMs - beforeMaxMs;
            long max = afterMaxMs > Long.MAX_VALUE - nowMs ? Long.MAX_VALUE : nowMs + afterMaxMs;
            return new Rules(compacted, !logAppendTime, min, max, MAX_INFLATED_BYTES);
        }

        /**
         * These rules, with a compressed batch's records inflating to at most
         * {@link #INFLATION_ALLOWED} times the topic's {@code max.message.bytes} (and never past
         * {@link #MAX_INFLATED_BYTES}): generous for real data, which compresses a few times to a
         * few tens of times, and a bound for a batch of zeros.
         */
        public Rules inflatingAtMostFrom(int maxMessageBytes) {
            int bound = (int) Math.min(MAX_INFLATED_BYTES, Math.max(1L << 20, (long) INFLATION_ALLOWED * maxMessageBytes));
            return new Rules(keysRequired, createTime, minTimestamp, maxTimestamp, bound);
        }
    }

    /** How many times its stored size a batch's records may inflate to, relative to the topic's {@code max.message.bytes}. */
    public static final int INFLATION_ALLOWED = 128;

    private static final int MAX_CODEC = 4;

    private final Decompressor decompressor;
    private ByteBuffer inflated = ByteBuffer.allocate(0);
    private Problem problem;
    private String message;
    private final ByteCursor cursor = new ByteCursor();

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
        return validate(batch, rules, false);
    }

    /**
     * As above; {@code unsequencedProducer} lets a batch carry a producer id and epoch without a
     * sequence, which the broker's own writers do (a coordinator's transactional offsets, a task's
     * results in place) and clients may not.
     */
    public boolean validate(RecordBatch batch, Rules rules, boolean unsequencedProducer) {
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
        if (batch.hasProducerId() && batch.baseSequence() < 0 && !unsequencedProducer) {
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
            ByteBuffer records;
            try {
                ByteBuffer compressed = buffer.duplicate().limit(to).position(from).slice();
                records = decompressor.decompress(codec, compressed, inflated, rules.maxInflatedBytes());
            } catch (InflatesTooFarException e) {
                return fail(Problem.TOO_LARGE, "compressed batch refused: " + e.getMessage());
            } catch (IOException | RuntimeException e) {
                return fail(Problem.CORRUPT, "records do not decompress: " + e.getMessage());
            }
            inflated = records.capacity() <= MAX_KEPT_BYTES ? records : inflated;
            buffer = records;
            from = records.position();
            to = records.limit();
        }
        boolean checkTimestamps = rules.createTime() && !batch.isLogAppendTime()
                && (rules.minTimestamp() != Long.MIN_VALUE || rules.maxTimestamp() != Long.MAX_VALUE);
        return walk(buffer, from, to, count, batch.baseTimestamp(), rules, checkTimestamps);
    }

    private boolean walk(ByteBuffer buffer, int from, int to, int count, long baseTimestamp, Rules rules, boolean checkTimestamps) {
        ByteCursor in = cursor.at(buffer, from, to);
        try {
            for (int i = 0; i < count; i++) {
                in.end = to;
                int length = in.varint();
                int start = in.position;
                if (length <= 0 || (long) start + length > to) {
                    return fail(Problem.CORRUPT, "record " + i + " claims " + length + " bytes");
                }
                int end = start + length;
                in.end = end;
                in.get(); // attributes
                long timestampDelta = in.varlong();
                int offsetDelta = in.varint();
                if (offsetDelta != i) {
                    return fail(Problem.INVALID_RECORD, "record " + i + " has offset delta " + offsetDelta);
                }
                int keyLength = in.varint();
                if (keyLength < 0) {
                    if (keyLength != -1) {
                        return fail(Problem.CORRUPT, "record " + i + " has key length " + keyLength);
                    }
                    if (rules.keysRequired()) {
                        return fail(Problem.INVALID_RECORD, "a compacted topic only takes records with a key");
                    }
                } else {
                    in.skip(keyLength);
                }
                int valueLength = in.varint();
                if (valueLength < -1) {
                    return fail(Problem.CORRUPT, "record " + i + " has value length " + valueLength);
                }
                in.skip(Math.max(0, valueLength));
                int headers = in.varint();
                if (headers < 0) {
                    return fail(Problem.CORRUPT, "record " + i + " has " + headers + " headers");
                }
                for (int h = 0; h < headers; h++) {
                    int headerKeyLength = in.varint();
                    if (headerKeyLength < 0) {
                        return fail(Problem.CORRUPT, "record " + i + " has a header without a key");
                    }
                    in.skip(headerKeyLength);
                    int headerValueLength = in.varint();
                    if (headerValueLength < -1) {
                        return fail(Problem.CORRUPT, "record " + i + " has a header value length of " + headerValueLength);
                    }
                    in.skip(Math.max(0, headerValueLength));
                }
                if (in.position != end) {
                    return fail(Problem.CORRUPT, "record " + i + " is " + length + " bytes but its fields take " + (in.position - start));
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
        if (in.position != to) {
            return fail(Problem.CORRUPT, (to - in.position) + " bytes follow the last of " + count + " records");
        }
        return true;
    }

    private boolean fail(Problem kind, String why) {
        problem = kind;
        message = why;
        return false;
    }
}
