package io.spate.replication;

import io.spate.log.PartitionLog;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Makes what a log holds durable before a write that needs it is acknowledged (the topic's
 * flush.messages policy). A node shares one fsync among many writers (spate-log's
 * {@code FlushCoordinator}); {@link #IN_PLACE} fsyncs on the caller's thread, for tests and the
 * single-threaded simulation.
 */
@FunctionalInterface
public interface GroupCommit {
    /** Completes once everything appended to {@code log} before the call is on disk; fails if the fsync fails. */
    CompletableFuture<Void> flush(PartitionLog log, long nowMs);

    GroupCommit IN_PLACE = (log, nowMs) -> {
        try {
            log.flush(nowMs);
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    };
}
