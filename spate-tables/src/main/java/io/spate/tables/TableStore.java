package io.spate.tables;

import java.util.function.BiConsumer;

/**
 * One replica's cells of one table (or a node's hints), ordered by token then key bytes so that a
 * token range is one contiguous scan (what a Merkle tree and a range stream read).
 *
 * <p>Writes merge last-writer-wins and report durability through a callback: at once, after
 * the write's own fsync, or after the next group fsync, per the store's {@link Durability}. A
 * replica acknowledges a write only from that callback. Used from the node's event thread only;
 * the callback runs on it too.
 */
public interface TableStore extends AutoCloseable {
    /** The stored cell (a tombstone included), or null. */
    Cell get(byte[] key);

    /**
     * Merges {@code cell} into the key's stored cell, last writer wins. {@code whenDurable} runs once
     * the result (the stored cell, whichever won) is as durable as the store's setting makes it.
     *
     * @return whether the stored cell changed
     */
    boolean merge(byte[] key, Cell cell, Runnable whenDurable);

    /** Deletes the key outright if it still holds {@code expected} (a delivered hint, a collected tombstone). */
    boolean removeIf(byte[] key, Cell expected);

    /** Every key in the range with its cell, in token order. The visitor must not write to the store. */
    void scan(TokenRange range, BiConsumer<byte[], Cell> visitor);

    /** Every key, in token order. */
    void scanAll(BiConsumer<byte[], Cell> visitor);

    /** A stored cell's header, its value left in the store. */
    @FunctionalInterface
    interface HeaderVisitor {
        /** @return whether to go on to the next key */
        boolean visit(byte[] key, long hlc, boolean tombstone);
    }

    /**
     * The keys after {@code afterKey} (null: from the first), in store order, each with its cell's
     * timestamp and tombstone flag, until the visitor returns false. Values are not read: a pass
     * that judges cells by age alone (the hints' expiry) then holds keys, not values of up to a
     * MiB each. The visitor must not write to the store; a caller resumes after the last key it
     * saw, writes done meanwhile.
     */
    void scanHeaders(byte[] afterKey, HeaderVisitor visitor);

    /**
     * Deletes the key outright if its cell still has this timestamp and kind: for what is judged by
     * its header alone (a hint's age), a cell with the same header is judged the same.
     */
    boolean removeIfHeader(byte[] key, long hlc, boolean tombstone);

    /** Collects tombstones written before {@code purgeBeforeMs} (physical clock); returns how many. */
    int purgeTombstones(long purgeBeforeMs);

    /**
     * As {@link #purgeTombstones(long)}, for the keys of one token range only: the node collects a
     * table slice by slice, so that no single task reads the whole store.
     */
    int purgeTombstones(TokenRange range, long purgeBeforeMs);

    /** Removes each of {@code keys} whose cell is still the one beside it in {@code cells}; returns how many went. */
    default int removeEach(java.util.List<byte[]> keys, java.util.List<Cell> cells) {
        int removed = 0;
        for (int i = 0; i < keys.size(); i++) {
            removed += removeIf(keys.get(i), cells.get(i)) ? 1 : 0;
        }
        return removed;
    }

    /**
     * The largest timestamp of a cell stored since the store was opened, at least the largest it
     * held then: a restarted node's clock starts above it ({@link HybridLogicalClock#seed}).
     */
    long maxHlc();

    /** Keys stored, tombstones included. */
    long size();

    /** Makes everything written so far durable now and runs the waiting callbacks. */
    void flush();

    @Override
    void close();
}
