package io.spate.server.metadata;

import java.util.concurrent.CompletableFuture;
import io.spate.cluster.CommandResult;

/**
 * Hands out producer ids that are never reused, even across crashes: ids are reserved in blocks
 * through the controller quorum (whose metadata log persists the reservation), so that no two
 * nodes, and no two lives of one node, hand out the same id.
 */
public final class ProducerIdManager {
    static final int BLOCK_SIZE = 1000;
    private final java.util.function.Supplier<CompletableFuture<Long>> blocks;
    private long next;
    private long blockEnd;
    /** The block being reserved, which every request that finds the block empty waits for. */
    private CompletableFuture<Void> refill;

    public ProducerIdManager(ClusterControl control, int nodeId) {
        this.blocks = () -> control.allocateProducerIdsAsync(nodeId, BLOCK_SIZE).thenApply(CommandResult::value);
    }

    public long nextProducerId() {
        try {
            return nextProducerIdAsync().join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * The next id, without blocking the caller when the block is used up: the request then completes when the
     * controller quorum has reserved the next block (one reservation, however many requests wait for it).
     */
    public CompletableFuture<Long> nextProducerIdAsync() {
        CompletableFuture<Void> waitFor;
        synchronized (this) {
            if (next < blockEnd) {
                return CompletableFuture.completedFuture(next++);
            }
            waitFor = refill;
            if (waitFor == null) {
                CompletableFuture<Void> fetching = blocks.get().thenAccept(first -> {
                    synchronized (this) {
                        next = first;
                        blockEnd = first + BLOCK_SIZE;
                    }
                });
                refill = fetching;
                // May run at once (a block reserved synchronously): waitFor holds it regardless.
                fetching.whenComplete((ok, failure) -> {
                    synchronized (this) {
                        if (refill == fetching) {
                            refill = null;
                        }
                    }
                });
                waitFor = fetching;
            }
        }
        return waitFor.thenCompose(ignored -> nextProducerIdAsync());
    }
}
