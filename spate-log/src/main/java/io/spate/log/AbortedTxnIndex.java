package io.spate.log;

import java.util.Arrays;
import java.util.List;

/**
 * The aborted transactions whose abort marker lies in one segment, in marker order: what a
 * read_committed fetch returns with its records and what compaction drops. Kept in memory and
 * rebuilt at load from the markers in the segment (they are the durable record), like the
 * offset index.
 *
 * <p>One writer under the partition's append lock; readers take no lock. Entries are appended
 * to an array that readers see through a published (array, size) pair, so a reader never sees
 * an entry half written, and a cut publishes a copy rather than change what a reader holds.
 */
final class AbortedTxnIndex {
    private record Published(AbortedTxn[] items, int size) {
    }

    private static final Published EMPTY = new Published(new AbortedTxn[0], 0);

    private volatile Published published = EMPTY;

    void add(AbortedTxn txn) {
        Published current = published;
        AbortedTxn[] items = current.items;
        if (current.size == items.length) {
            items = Arrays.copyOf(items, Math.max(4, items.length * 2));
        }
        items[current.size] = txn;
        published = new Published(items, current.size + 1);
    }

    /** Drops the entries whose marker is at or after {@code offset} (the segment was cut there). */
    void cutFrom(long offset) {
        Published current = published;
        int keep = current.size;
        while (keep > 0 && current.items[keep - 1].lastOffset() >= offset) {
            keep--;
        }
        if (keep < current.size) {
            published = keep == 0 ? EMPTY : new Published(Arrays.copyOf(current.items, keep), keep);
        }
    }

    List<AbortedTxn> entries() {
        Published current = published;
        return List.of(Arrays.copyOf(current.items, current.size));
    }

    void addAll(List<AbortedTxn> txns) {
        txns.forEach(this::add);
    }

    /**
     * Adds to {@code out} the transactions whose records may lie in [{@code from}, {@code to});
     * true when no later marker can end one that began before {@code to} (Kafka's rule: the
     * last stable offset at an abort at or past {@code to} says every transaction that began
     * before it had ended by then).
     */
    boolean collect(long from, long to, List<AbortedTxn> out) {
        Published current = published;
        for (int i = 0; i < current.size; i++) {
            AbortedTxn txn = current.items[i];
            if (txn.lastOffset() >= from && txn.firstOffset() < to) {
                out.add(txn);
            }
            if (txn.lastStableOffset() >= to) {
                return true;
            }
        }
        return false;
    }

    boolean isEmpty() {
        return published.size == 0;
    }
}
