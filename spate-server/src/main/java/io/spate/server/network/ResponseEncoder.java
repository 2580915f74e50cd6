package io.spate.server.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.spate.log.FileSlice;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.Writable;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a size-prefixed Kafka response with the generated message classes into Netty buffers.
 * Large record sets that live in segment files are not copied: the output is a list of buffers
 * and file regions, written to the socket in order.
 */
final class ResponseEncoder implements Writable {
    /** Record slices up to this size are copied into the response rather than sent from the file. */
    static final int COPY_MAX_BYTES = 32 * 1024;

    private final ByteBufAllocator allocator;
    private final List<Object> parts = new ArrayList<>(3);
    private ByteBuf current;

    private ResponseEncoder(ByteBufAllocator allocator, int initialCapacity) {
        this.allocator = allocator;
        this.current = allocator.buffer(initialCapacity);
    }

    /** Encodes header and body; returns the pieces to write, in order. */
    static List<Object> encode(ByteBufAllocator allocator, int correlationId, short headerVersion, ApiMessage body, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        int headerSize = header.size(cache, headerVersion);
        int bodySize = body.size(cache, version);
        ResponseEncoder encoder = new ResponseEncoder(allocator, Math.min(4 + headerSize + bodySize, 64 * 1024));
        try {
            encoder.writeInt(headerSize + bodySize);
            header.write(encoder, cache, headerVersion);
            body.write(encoder, cache, version);
            return encoder.finish();
        } catch (RuntimeException e) {
            encoder.discard();
            throw e;
        }
    }

    private List<Object> finish() {
        if (current.isReadable()) {
            parts.add(current);
        } else {
            current.release();
        }
        current = null;
        return parts;
    }

    private void discard() {
        for (Object part : parts) {
            io.netty.util.ReferenceCountUtil.release(part);
        }
        if (current != null) {
            current.release();
        }
    }

    @Override
    public void writeRecords(BaseRecords records) {
        if (records instanceof FileSliceRecords file) {
            if (file.sizeInBytes() > 0 && file.sizeInBytes() <= COPY_MAX_BYTES) {
                copyIntoResponse(file.slice());
            } else if (file.sizeInBytes() > 0) {
                parts.add(current);
                parts.add(new SegmentFileRegion(file.slice()));
                current = allocator.buffer(1024);
            }
        } else if (records instanceof MemoryRecords memory) {
            writeByteBuffer(memory.buffer());
        } else if (records != null) {
            throw new IllegalArgumentException("cannot encode records of type " + records.getClass().getName());
        }
    }

    /**
     * Copies a small slice into the response buffer and releases it. A reader at the tail (a
     * follower, a pipeline task's remote input, a consumer keeping up) fetches a few hundred bytes
     * at a time: sent as a file region, each took a write for the bytes before it, a size check
     * and a sendfile, and another write for the bytes after; copied, the whole response is one
     * positional read and one write. Larger slices (a reader catching up) still go by sendfile.
     * The batches are copied byte for byte, never re-encoded.
     */
    private void copyIntoResponse(FileSlice slice) {
        try {
            int size = slice.size();
            current.ensureWritable(size);
            int at = current.writerIndex();
            ByteBuffer into = current.nioBuffer(at, size);
            long position = slice.position();
            while (into.hasRemaining()) {
                int n = slice.segment().channel().read(into, position);
                if (n < 0) {
                    throw new IOException("segment " + slice.segment() + " was truncated under a fetch in flight");
                }
                position += n;
            }
            current.writerIndex(at + size);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            slice.release();
        }
    }

    @Override
    public void writeByte(byte val) {
        current.writeByte(val);
    }

    @Override
    public void writeShort(short val) {
        current.writeShort(val);
    }

    @Override
    public void writeInt(int val) {
        current.writeInt(val);
    }

    @Override
    public void writeLong(long val) {
        current.writeLong(val);
    }

    @Override
    public void writeDouble(double val) {
        current.writeDouble(val);
    }

    @Override
    public void writeByteArray(byte[] arr) {
        current.writeBytes(arr);
    }

    @Override
    public void writeUnsignedVarint(int i) {
        int value = i;
        while ((value & 0xffffff80) != 0) {
            current.writeByte((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        current.writeByte(value);
    }

    @Override
    public void writeByteBuffer(ByteBuffer buf) {
        current.writeBytes(buf.duplicate());
    }

    @Override
    public void writeVarint(int i) {
        writeUnsignedVarint((i << 1) ^ (i >> 31));
    }

    @Override
    public void writeVarlong(long i) {
        long value = (i << 1) ^ (i >> 63);
        while ((value & 0xffffffffffffff80L) != 0L) {
            current.writeByte(((int) value & 0x7f) | 0x80);
            value >>>= 7;
        }
        current.writeByte((int) value);
    }
}
