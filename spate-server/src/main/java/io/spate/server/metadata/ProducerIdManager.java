package io.spate.server.metadata;

import io.spate.log.LogManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Hands out producer ids that are never reused, even across crashes: ids are reserved in
 * blocks, and the end of the current block is persisted before any id of it is given out.
 */
public final class ProducerIdManager {
    private static final long BLOCK_SIZE = 1000;
    private final Path file;
    /** In a cluster, blocks come from the controller, so that no two nodes hand out the same id. */
    private final java.util.function.LongSupplier clusterBlocks;
    private long next;
    private long blockEnd;

    private ProducerIdManager(Path file, long next, java.util.function.LongSupplier clusterBlocks) {
        this.file = file;
        this.next = next;
        this.blockEnd = next;
        this.clusterBlocks = clusterBlocks;
    }

    /** Ids in blocks of {@value #BLOCK_SIZE} reserved through the controller quorum. */
    public static ProducerIdManager clustered(ClusterControl control, int nodeId) {
        return new ProducerIdManager(null, 0, () -> control.allocateProducerIds(nodeId, (int) BLOCK_SIZE));
    }

    public static ProducerIdManager load(Path dataDir) throws IOException {
        Path file = dataDir.resolve("meta").resolve("producer-id-block");
        Files.createDirectories(file.getParent());
        long next = Files.exists(file) ? Long.parseLong(Files.readString(file).trim()) : 0L;
        return new ProducerIdManager(file, next, null);
    }

    public synchronized long nextProducerId() {
        if (next >= blockEnd && clusterBlocks != null) {
            next = clusterBlocks.getAsLong();
            blockEnd = next + BLOCK_SIZE;
        }
        if (next >= blockEnd) {
            long newEnd = next + BLOCK_SIZE;
            try {
                LogManager.writeAtomically(file, Long.toString(newEnd));
            } catch (IOException e) {
                throw new UncheckedIOException("could not reserve producer ids", e);
            }
            blockEnd = newEnd;
        }
        return next++;
    }
}
