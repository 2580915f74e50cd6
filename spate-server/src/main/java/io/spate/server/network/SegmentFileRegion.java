package io.spate.server.network;

import io.netty.channel.FileRegion;
import io.netty.util.AbstractReferenceCounted;
import io.spate.log.FileSlice;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/**
 * A byte range of a segment file on its way to a socket. Unlike Netty's DefaultFileRegion it
 * does not close the shared segment channel when done: it releases its reference on the
 * segment, which closes (or deletes) the file only when nobody else needs it.
 */
final class SegmentFileRegion extends AbstractReferenceCounted implements FileRegion {
    private final FileSlice slice;
    private long transferred;

    SegmentFileRegion(FileSlice slice) {
        this.slice = slice;
    }

    @Override
    public long position() {
        return slice.position();
    }

    @Override
    @Deprecated
    public long transfered() {
        return transferred;
    }

    @Override
    public long transferred() {
        return transferred;
    }

    @Override
    public long count() {
        return slice.size();
    }

    @Override
    public long transferTo(WritableByteChannel target, long position) throws IOException {
        long remaining = count() - position;
        if (remaining <= 0) {
            return 0;
        }
        long written = slice.segment().channel().transferTo(slice.position() + position, remaining, target);
        if (written > 0) {
            transferred += written;
        } else if (written == 0 && slice.segment().channel().size() < slice.position() + count()) {
            throw new IOException("segment " + slice.segment() + " was truncated under a fetch in flight");
        }
        return written;
    }

    @Override
    protected void deallocate() {
        slice.release();
    }

    @Override
    public FileRegion retain() {
        super.retain();
        return this;
    }

    @Override
    public FileRegion retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public FileRegion touch() {
        return this;
    }

    @Override
    public FileRegion touch(Object hint) {
        return this;
    }
}
