package io.spate.server.network;

import io.spate.record.RecordsValidator;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.utils.internals.BufferSupplier;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * The codecs of kafka-clients (gzip, snappy, lz4, zstd) for produce validation: inflates the
 * records section of a compressed batch into a buffer reused by the calling thread.
 */
public final class KafkaDecompressor implements RecordsValidator.Decompressor {
    public static final KafkaDecompressor INSTANCE = new KafkaDecompressor();

    private static final ThreadLocal<BufferSupplier> BUFFERS = ThreadLocal.withInitial(BufferSupplier::create);

    private KafkaDecompressor() {
    }

    @Override
    public ByteBuffer decompress(int codec, ByteBuffer compressed, ByteBuffer into) throws IOException {
        Compression compression = Compression.of(CompressionType.forId(codec)).build();
        ByteBuffer out = into.clear();
        try (InputStream in = compression.wrapForInput(compressed, org.apache.kafka.common.record.internal.RecordBatch.MAGIC_VALUE_V2, BUFFERS.get())) {
            byte[] chunk = new byte[8192];
            int n;
            while ((n = in.read(chunk)) > 0) {
                if (out.remaining() < n) {
                    ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + n + 4096));
                    out.flip();
                    bigger.put(out);
                    out = bigger;
                }
                out.put(chunk, 0, n);
            }
        }
        return out.flip();
    }
}
