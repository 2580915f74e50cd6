package io.spate.server.metadata;

import io.spate.log.LogManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import io.spate.cluster.CommandResult;

/**
 * Hands out producer ids that are never reused, even across crashes: ids are reserved in
 * blocks, and the end of the current block is persisted before any id of it is given out.
 */
public final class ProducerIdManager {
    private static final long BLOCK_SIZE = 1000;
    private final Path file;
    /** In a cluster, blocks come from the controller, so that no two nodes hand out the same id. */
    private final java.util.function.Supplier<CompletableFuture<Long>> clusterBlocks;
    private long next;
    private long blockEnd;
    /** The block being fetched from the controller, which every request that finds the block empty waits for. */
    private CompletableFuture<Void> refill;

    private ProducerIdManager(Path file, long next, java.util.function.Supplier<CompletableFuture<Long>> clusterBlocks) {
        this.file = file;
        this.next = next;
        this.blockEnd = next;
        this.clusterBlocks = clusterBlocks;
    }

    /** Ids in blocks of {@value #BLOCK_SIZE} reserved through the controller quorum. */
    public static ProducerIdManager clustered(ClusterControl control, int nodeId) {
        return new ProducerIdManager(null, 0, () -> control.allocateProducerIdsAsync(nodeId, (int) BLOCK_SIZE).thenApply(CommandResult::value));
    }

    public static ProducerIdManager load(Path dataDir) throws IOException {
        Path file = dataDir.resolve("meta").resolve("producer-id-block");
        Files.createDirectories(file.getParent());
        long next = Files.exists(file) ? Long.parseLong(Files.readString(file).trim()) : 0L;
        return new ProducerIdManager(file, next, null);
    }

    public long nextProducerId() {
        try {
            return nextProducerIdAsync().join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * The next id, without blocking the caller when a cluster node's block is used up: the request then completes
     * when the controller quorum has reserved the next block (one reservation, however many requests wait for it).
     * A standalone node persists its block end locally, which is quick.
     */
    public CompletableFuture<Long> nextProducerIdAsync() {
        CompletableFuture<Void> waitFor;
        synchronized (this) {
            if (next < blockEnd) {
                return CompletableFuture.completedFuture(next++);
            }
            if (clusterBlocks == null) {
                long newEnd = next + BLOCK_SIZE;
                try {
                    LogManager.writeAtomically(file, Long.toString(newEnd));
                } catch (IOException e) {
                    return CompletableFuture.failedFuture(new UncheckedIOException("could not reserve producer ids", e));
                }
                blockEnd = newEnd;
                return CompletableFuture.completedFuture(next++);
            }
            if (refill == null) {
                CompletableFuture<Void> fetching = clusterBlocks.get().thenAccept(first -> {
                    synchronized (this) {
                        next = first;
                        blockEnd = first + BLOCK_SIZE;
                    }
                });
                refill = fetching;
                fetching.whenComplete((ok, failure) -> {
                    synchronized (this) {
                        if (refill == fetching) {
                            refill = null;
                        }
                    }
                });
            }
            waitFor = refill;
        }
        return waitFor.thenCompose(ignored -> nextProducerIdAsync());
    }
}
