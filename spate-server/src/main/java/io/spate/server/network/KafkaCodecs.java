package io.spate.server.network;

import io.spate.record.Codecs;
import io.spate.record.RecordsValidator;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.apache.kafka.common.utils.internals.ByteBufferOutputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * The codecs of kafka-clients (gzip, snappy, lz4, zstd), at each codec's default level: they
 * inflate the records section of a compressed batch for produce validation and the node's own
 * scans, and deflate the records compaction keeps of a compressed batch.
 */
public final class KafkaCodecs implements Codecs {
    public static final KafkaCodecs INSTANCE = new KafkaCodecs();

    private static final ThreadLocal<BufferSupplier> BUFFERS = ThreadLocal.withInitial(BufferSupplier::create);

    private KafkaCodecs() {
    }

    @Override
    public ByteBuffer decompress(int codec, ByteBuffer compressed, ByteBuffer into, int maxBytes) throws IOException {
        Compression compression = Compression.of(CompressionType.forId(codec)).build();
        ByteBuffer out = into.clear();
        try (InputStream in = compression.wrapForInput(compressed, org.apache.kafka.common.record.internal.RecordBatch.MAGIC_VALUE_V2, BUFFERS.get())) {
            byte[] chunk = new byte[8192];
            int n;
            while ((n = in.read(chunk)) > 0) {
                if (out.remaining() < n) {
                    long needed = (long) out.position() + n;
                    if (needed > maxBytes) {
                        throw new RecordsValidator.InflatesTooFarException(maxBytes);
                    }
                    ByteBuffer bigger = ByteBuffer.allocate((int) Math.min(maxBytes, Math.max(2L * out.capacity(), needed + 4096)));
                    out.flip();
                    bigger.put(out);
                    out = bigger;
                }
                out.put(chunk, 0, n);
            }
        }
        return out.flip();
    }

    @Override
    public ByteBuffer compress(int codec, ByteBuffer records) throws IOException {
        Compression compression = Compression.of(CompressionType.forId(codec)).build();
        ByteBufferOutputStream out = new ByteBufferOutputStream(Math.max(64, records.remaining() / 2));
        try (OutputStream deflating = compression.wrapForOutput(out, org.apache.kafka.common.record.internal.RecordBatch.MAGIC_VALUE_V2)) {
            ByteBuffer in = records.duplicate();
            byte[] chunk = new byte[8192];
            while (in.hasRemaining()) {
                int n = Math.min(chunk.length, in.remaining());
                in.get(chunk, 0, n);
                deflating.write(chunk, 0, n);
            }
        }
        return out.buffer().flip();
    }
}
