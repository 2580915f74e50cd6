package io.spate.log;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A byte range of one segment file, holding a reference on the segment until
 * {@link #release()}: a reader can send it to a socket with {@code transferTo} while retention
 * deletes the segment.
 */
public record FileSlice(LogSegment segment, int position, int size) {
    public static final FileSlice EMPTY = new FileSlice(null, 0, 0);

    public ByteBuffer readIntoHeap() throws IOException {
        return segment == null ? ByteBuffer.allocate(0) : segment.readBytes(position, size);
    }

    public void release() {
        if (segment != null) {
            segment.release();
        }
    }
}
