package io.spate.record;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Encodes Kafka v2 record batches by hand (uncompressed), so that tests need no Kafka client.
 * Records: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 * keyLength varint + key, valueLength varint + value, header count varint (always 0 here).
 */
public final class TestBatches {
    private TestBatches() {
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A plain batch (no producer id) with one record per value, all stamped {@code timestamp}. */
    public static ByteBuffer batch(long timestamp, String... values) {
        Builder b = builder().baseTimestamp(timestamp);
        for (String v : values) {
            b.record(null, v);
        }
        return b.build();
    }

    /** An idempotent batch of {@code count} records. */
    public static ByteBuffer idempotent(long producerId, short epoch, int baseSequence, int count) {
        Builder b = builder().producer(producerId, epoch, baseSequence).baseTimestamp(1_000);
        for (int i = 0; i < count; i++) {
            b.record(null, "p" + producerId + "-e" + epoch + "-s" + (baseSequence + i));
        }
        return b.build();
    }

    /** The batches laid end to end in a fresh buffer. */
    public static ByteBuffer concat(ByteBuffer... batches) {
        int total = 0;
        for (ByteBuffer b : batches) {
            total += b.remaining();
        }
        ByteBuffer out = ByteBuffer.allocate(total);
        for (ByteBuffer b : batches) {
            out.put(b.duplicate());
        }
        return out.flip();
    }

    public static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    /** Decodes the values of every record of every whole batch in {@code batches}. */
    public static List<String> values(ByteBuffer batches) {
        List<String> values = new ArrayList<>();
        ByteBuffer buf = batches.duplicate();
        int pos = buf.position();
        while (pos + RecordBatch.LOG_OVERHEAD <= buf.limit()) {
            int size = RecordBatch.LOG_OVERHEAD + buf.getInt(pos + RecordBatch.LENGTH_OFFSET);
            if (pos + size > buf.limit()) {
                break;
            }
            int count = buf.getInt(pos + RecordBatch.RECORD_COUNT_OFFSET);
            ByteBuffer r = buf.duplicate().position(pos + RecordBatch.HEADER_SIZE).limit(pos + size);
            for (int i = 0; i < count; i++) {
                readVarint(r); // length
                r.get(); // attributes
                readVarlong(r); // timestamp delta
                readVarint(r); // offset delta
                int keyLength = readVarint(r);
                if (keyLength > 0) {
                    r.position(r.position() + keyLength);
                }
                int valueLength = readVarint(r);
                byte[] value = new byte[Math.max(0, valueLength)];
                r.get(value);
                values.add(valueLength < 0 ? null : new String(value, StandardCharsets.UTF_8));
                int headers = readVarint(r);
                if (headers != 0) {
                    throw new IllegalStateException("headers not supported by this decoder");
                }
            }
            pos += size;
        }
        return values;
    }

    public static final class Builder {
        private long baseOffset = 0;
        private int partitionLeaderEpoch = -1;
        private short attributes = 0;
        private long baseTimestamp = 1_000;
        private long producerId = RecordBatch.NO_PRODUCER_ID;
        private short producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
        private int baseSequence = RecordBatch.NO_SEQUENCE;
        private final List<byte[]> keys = new ArrayList<>();
        private final List<byte[]> values = new ArrayList<>();
        private final List<Long> timestampDeltas = new ArrayList<>();

        public Builder baseOffset(long baseOffset) {
            this.baseOffset = baseOffset;
            return this;
        }

        public Builder partitionLeaderEpoch(int epoch) {
            this.partitionLeaderEpoch = epoch;
            return this;
        }

        public Builder attributes(int attributes) {
            this.attributes = (short) attributes;
            return this;
        }

        public Builder baseTimestamp(long baseTimestamp) {
            this.baseTimestamp = baseTimestamp;
            return this;
        }

        public Builder producer(long producerId, short epoch, int baseSequence) {
            this.producerId = producerId;
            this.producerEpoch = epoch;
            this.baseSequence = baseSequence;
            return this;
        }

        public Builder record(String key, String value) {
            return record(key, value, 0);
        }

        public Builder record(String key, String value, long timestampDelta) {
            keys.add(key == null ? null : key.getBytes(StandardCharsets.UTF_8));
            values.add(value == null ? null : value.getBytes(StandardCharsets.UTF_8));
            timestampDeltas.add(timestampDelta);
            return this;
        }

        /** A record whose value is {@code size} bytes, to make batches of a chosen size. */
        public Builder recordOfSize(int size) {
            keys.add(null);
            values.add(new byte[size]);
            timestampDeltas.add(0L);
            return this;
        }

        public ByteBuffer build() {
            ByteArrayOutputStream records = new ByteArrayOutputStream();
            long maxDelta = 0;
            for (int i = 0; i < values.size(); i++) {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                body.write(0); // attributes
                writeVarlong(body, timestampDeltas.get(i));
                writeVarint(body, i);
                writeBytes(body, keys.get(i));
                writeBytes(body, values.get(i));
                writeVarint(body, 0); // headers
                writeVarint(records, body.size());
                records.writeBytes(body.toByteArray());
                maxDelta = Math.max(maxDelta, timestampDeltas.get(i));
            }
            byte[] recordBytes = records.toByteArray();
            int size = RecordBatch.HEADER_SIZE + recordBytes.length;
            ByteBuffer buf = ByteBuffer.allocate(size);
            buf.putLong(baseOffset);
            buf.putInt(size - RecordBatch.LOG_OVERHEAD);
            buf.putInt(partitionLeaderEpoch);
            buf.put(RecordBatch.MAGIC_V2);
            buf.putInt(0); // CRC, filled below
            buf.putShort(attributes);
            buf.putInt(Math.max(0, values.size() - 1));
            buf.putLong(baseTimestamp);
            buf.putLong(values.isEmpty() ? baseTimestamp : baseTimestamp + maxDelta);
            buf.putLong(producerId);
            buf.putShort(producerEpoch);
            buf.putInt(baseSequence);
            buf.putInt(values.size());
            buf.put(recordBytes);
            CRC32C crc = new CRC32C();
            crc.update(buf.array(), RecordBatch.ATTRIBUTES_OFFSET, size - RecordBatch.ATTRIBUTES_OFFSET);
            buf.putInt(RecordBatch.CRC_OFFSET, (int) crc.getValue());
            return buf.flip();
        }
    }

    private static void writeBytes(ByteArrayOutputStream out, byte[] bytes) {
        if (bytes == null) {
            writeVarint(out, -1);
        } else {
            writeVarint(out, bytes.length);
            out.writeBytes(bytes);
        }
    }

    static void writeVarint(ByteArrayOutputStream out, int value) {
        int v = (value << 1) ^ (value >> 31);
        while ((v & 0xFFFFFF80) != 0) {
            out.write((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write(v);
    }

    static void writeVarlong(ByteArrayOutputStream out, long value) {
        long v = (value << 1) ^ (value >> 63);
        while ((v & 0xFFFFFFFFFFFFFF80L) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    static int readVarint(ByteBuffer in) {
        int raw = 0;
        int shift = 0;
        byte b;
        do {
            b = in.get();
            raw |= (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return (raw >>> 1) ^ -(raw & 1);
    }

    static long readVarlong(ByteBuffer in) {
        long raw = 0;
        int shift = 0;
        byte b;
        do {
            b = in.get();
            raw |= (long) (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return (raw >>> 1) ^ -(raw & 1);
    }
}
