package io.spate.chaos.cluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A node's disk: a small tmpfs of its own when the run may mount (root), so that filling it is a
 * real ENOSPC for the node and for nobody else; otherwise a plain directory and no disk faults.
 */
public final class NodeDisk implements AutoCloseable {
    private final Path mountPoint;
    private final boolean mounted;

    private NodeDisk(Path mountPoint, boolean mounted) {
        this.mountPoint = mountPoint;
        this.mounted = mounted;
    }

    static NodeDisk create(Path mountPoint, long sizeBytes) throws IOException {
        Files.createDirectories(mountPoint);
        if (!"root".equals(System.getProperty("user.name"))) {
            return new NodeDisk(mountPoint, false);
        }
        Shell.Result r = Shell.attempt("mount", "-t", "tmpfs", "-o", "size=" + sizeBytes, "tmpfs", mountPoint.toString());
        return new NodeDisk(mountPoint, r.exit() == 0);
    }

    public boolean canFill() {
        return mounted;
    }

    public Path dataDir() {
        return mountPoint.resolve("data");
    }

    private Path filler() {
        return mountPoint.resolve("filler");
    }

    /** Writes zeros until the file system refuses: the node's next write gets ENOSPC. */
    public void fill() throws IOException {
        if (!mounted) {
            throw new IllegalStateException("the node's disk is a plain directory: filling it would fill the host's disk");
        }
        ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
        try (FileChannel ch = FileChannel.open(filler(), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            while (true) {
                zeros.clear();
                ch.write(zeros);
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
        }
        // the last megabyte may have landed in part: fill the remaining bytes one page at a time
        ByteBuffer page = ByteBuffer.allocate(4096);
        try (FileChannel ch = FileChannel.open(filler(), StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            while (true) {
                page.clear();
                ch.write(page);
            }
        } catch (IOException expected) {
            // full
        }
    }

    public void free() throws IOException {
        Files.deleteIfExists(filler());
    }

    @Override
    public void close() {
        if (mounted) {
            Shell.attempt("umount", "-l", mountPoint.toString());
        }
    }
}
