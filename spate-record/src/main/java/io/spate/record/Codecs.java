package io.spate.record;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The compression codecs of record batches (1 gzip, 2 snappy, 3 lz4, 4 zstd), given by a module
 * that has them: this one is JDK only, and the codecs come with kafka-clients.
 */
public interface Codecs extends RecordsValidator.Decompressor {
    /**
     * @param codec   the codec to compress with
     * @param records an uncompressed records section, from position to limit (not modified)
     * @return the compressed section, from position to limit
     */
    ByteBuffer compress(int codec, ByteBuffer records) throws IOException;
}
