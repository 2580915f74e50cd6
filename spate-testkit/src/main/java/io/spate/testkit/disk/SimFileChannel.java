package io.spate.testkit.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A channel on a {@link SimFile} (or, read-only, on a directory, which is how a directory is
 * fsynced). A channel belongs to the process that opened it: after a {@link SimDisk#kill()} it
 * refuses every operation, as a dead process's descriptors would.
 */
final class SimFileChannel extends FileChannel {
    private final SimDisk disk;
    private final SimFile file;
    private final SimDirectory directory;
    private final boolean readable;
    private final boolean writable;
    private final boolean append;
    private final long generation;
    private long position;

    SimFileChannel(SimDisk disk, SimFile file, SimDirectory directory, boolean readable, boolean writable, boolean append) {
        this.disk = disk;
        this.file = file;
        this.directory = directory;
        this.readable = readable;
        this.writable = writable;
        this.append = append;
        this.generation = disk.generation();
    }

    /** Holding the disk's monitor: the channel is open and its process alive. */
    private void checkLive() throws IOException {
        if (!isOpen() || generation != disk.generation()) {
            throw new ClosedChannelException();
        }
    }

    private SimFile fileForRead() throws IOException {
        checkLive();
        if (file == null) {
            throw new IOException("Is a directory");
        }
        if (!readable) {
            throw new NonReadableChannelException();
        }
        return file;
    }

    private SimFile fileForWrite() throws IOException {
        checkLive();
        if (file == null || !writable) {
            throw new NonWritableChannelException();
        }
        disk.checkSpace();
        return file;
    }

    private static int checkedPosition(long position) throws IOException {
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        if (position > Integer.MAX_VALUE - 8) {
            throw new IOException("a simulated file holds less than 2 GiB");
        }
        return (int) position;
    }

    private int readAt(SimFile f, ByteBuffer dst, long at) throws IOException {
        if (at >= f.size()) {
            return dst.hasRemaining() ? -1 : 0;
        }
        byte[] bytes = new byte[(int) Math.min(dst.remaining(), f.size() - at)];
        int n = f.read(checkedPosition(at), bytes, 0, bytes.length);
        disk.maybeFlip(f, at, bytes, 0, n);
        dst.put(bytes, 0, n);
        return n;
    }

    private int writeAt(SimFile f, ByteBuffer src, long at) throws IOException {
        int n = src.remaining();
        checkedPosition(at + n);
        byte[] bytes = new byte[n];
        src.get(bytes);
        f.write((int) at, bytes);
        return n;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        synchronized (disk) {
            int n = readAt(fileForRead(), dst, position);
            if (n > 0) {
                position += n;
            }
            return n;
        }
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            int n = read(dsts[i]);
            if (n < 0) {
                return total == 0 ? -1 : total;
            }
            total += n;
            if (dsts[i].hasRemaining()) {
                break;
            }
        }
        return total;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        synchronized (disk) {
            SimFile f = fileForWrite();
            if (append) {
                position = f.size();
            }
            int n = writeAt(f, src, position);
            position += n;
            return n;
        }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            total += write(srcs[i]);
        }
        return total;
    }

    @Override
    public long position() throws IOException {
        synchronized (disk) {
            checkLive();
            return position;
        }
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        synchronized (disk) {
            checkLive();
            position = checkedPosition(newPosition);
            return this;
        }
    }

    @Override
    public long size() throws IOException {
        synchronized (disk) {
            checkLive();
            return file == null ? 0 : file.size();
        }
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        synchronized (disk) {
            checkLive();
            if (file == null || !writable) {
                throw new NonWritableChannelException();
            }
            file.truncate(checkedPosition(size));
            position = Math.min(position, size);
            return this;
        }
    }

    @Override
    public void force(boolean metaData) throws IOException {
        synchronized (disk) {
            checkLive();
            if (file != null) {
                disk.syncFile(file);
            } else {
                disk.syncDirectory(directory);
            }
        }
    }

    @Override
    public long transferTo(long at, long count, WritableByteChannel target) throws IOException {
        ByteBuffer buffer;
        synchronized (disk) {
            SimFile f = fileForRead();
            if (at >= f.size()) {
                return 0;
            }
            buffer = ByteBuffer.allocate((int) Math.min(count, f.size() - at));
            readAt(f, buffer, at);
        }
        buffer.flip();
        long written = 0;
        while (buffer.hasRemaining()) {
            int n = target.write(buffer);
            if (n <= 0) {
                break;
            }
            written += n;
        }
        return written;
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long at, long count) throws IOException {
        synchronized (disk) {
            if (at > fileForWrite().size()) {
                return 0; // as FileChannel: nothing is transferred past the end
            }
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(count, 1 << 20));
        long total = 0;
        while (total < count) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), count - total));
            int n = src.read(buffer);
            if (n <= 0) {
                break;
            }
            buffer.flip();
            synchronized (disk) {
                total += writeAt(fileForWrite(), buffer, at + total);
            }
        }
        return total;
    }

    @Override
    public int read(ByteBuffer dst, long at) throws IOException {
        synchronized (disk) {
            return readAt(fileForRead(), dst, at);
        }
    }

    @Override
    public int write(ByteBuffer src, long at) throws IOException {
        synchronized (disk) {
            return writeAt(fileForWrite(), src, at);
        }
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long at, long size) {
        throw new UnsupportedOperationException("a simulated disk cannot be memory-mapped");
    }

    @Override
    public FileLock lock(long at, long size, boolean shared) throws IOException {
        FileLock lock = tryLock(at, size, shared);
        if (lock == null) {
            throw new IOException("the simulated file is locked by another channel (a simulation cannot wait for it)");
        }
        return lock;
    }

    @Override
    public FileLock tryLock(long at, long size, boolean shared) throws IOException {
        synchronized (disk) {
            checkLive();
            if (file == null) {
                throw new IOException("Is a directory");
            }
            if (!shared && !writable) {
                throw new NonWritableChannelException();
            }
            if (file.lockHolder != null) {
                return null;
            }
            file.lockHolder = this;
            return new FileLock(this, at, size, shared) {
                @Override
                public boolean isValid() {
                    synchronized (disk) {
                        return file.lockHolder == SimFileChannel.this && SimFileChannel.this.isOpen();
                    }
                }

                @Override
                public void release() {
                    synchronized (disk) {
                        if (file.lockHolder == SimFileChannel.this) {
                            file.lockHolder = null;
                        }
                    }
                }
            };
        }
    }

    @Override
    protected void implCloseChannel() {
        synchronized (disk) {
            if (file != null && file.lockHolder == this) {
                file.lockHolder = null;
            }
        }
    }
}
