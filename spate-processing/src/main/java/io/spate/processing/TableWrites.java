package io.spate.processing;

import java.util.concurrent.CompletableFuture;

/**
 * Where a pipeline's {@code toTable} writes go: the node's Spate tables, this node coordinating
 * each write (tables are placed by key hash on their ring, not by partition, so there is no
 * locality to keep). Implemented by the node over its table service.
 */
public interface TableWrites {
    /**
     * Writes {@code value} (null: deletes) as {@code key}'s latest value in {@code table} at the
     * table's default write consistency. Completes once that many replicas acknowledged it;
     * fails with the reason otherwise (no such table, too few replicas, timed out).
     */
    CompletableFuture<Void> write(String table, byte[] key, byte[] value);

    /** A node without tables: every write fails saying so. */
    TableWrites NONE = (table, key, value) -> CompletableFuture.failedFuture(
            new IllegalStateException("this node serves no tables; table " + table + " cannot be written"));
}
