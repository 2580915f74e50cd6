package io.spate.record;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** Kafka's codec 1 (gzip) from the JDK, so that this module's tests need no codec library. */
final class GzipCodecs implements Codecs {
    static final int GZIP = 1;

    @Override
    public ByteBuffer decompress(int codec, ByteBuffer compressed, ByteBuffer into, int maxBytes) throws IOException {
        require(codec);
        byte[] bytes = new byte[compressed.remaining()];
        compressed.duplicate().get(bytes);
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(bytes))) {
            byte[] inflated = in.readNBytes(maxBytes);
            if (in.read() >= 0) {
                throw new RecordsValidator.InflatesTooFarException(maxBytes);
            }
            return ByteBuffer.wrap(inflated);
        }
    }

    @Override
    public ByteBuffer compress(int codec, ByteBuffer records) throws IOException {
        require(codec);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            byte[] bytes = new byte[records.remaining()];
            records.duplicate().get(bytes);
            gzip.write(bytes);
        }
        return ByteBuffer.wrap(out.toByteArray());
    }

    private static void require(int codec) throws IOException {
        if (codec != GZIP) {
            throw new IOException("only gzip here, not codec " + codec);
        }
    }
}
