package io.spate.tables;

import java.util.Arrays;

/**
 * One version of a key's value: a hybrid-logical-clock timestamp and either a value or a
 * tombstone (a deletion, kept for the table's grace period so that replicas which missed the
 * deletion learn of it instead of bringing the value back).
 *
 * <p>Last writer wins: the larger timestamp; on equal timestamps (two coordinators can issue the
 * same one) the tombstone, then the larger value in unsigned byte order. Every replica breaks the tie
 * the same way with nothing but the two cells, so they converge whatever order they merge in.
 */
public record Cell(long hlc, boolean tombstone, byte[] value) {
    private static final byte[] NONE = new byte[0];

    public Cell {
        if (tombstone) {
            value = NONE;
        } else if (value == null) {
            throw new IllegalArgumentException("a live cell needs a value");
        }
    }

    public static Cell value(long hlc, byte[] value) {
        return new Cell(hlc, false, value);
    }

    public static Cell tombstone(long hlc) {
        return new Cell(hlc, true, NONE);
    }

    /** Positive when {@code a} wins over {@code b}; a null cell (nothing stored) loses to any cell. */
    public static int compare(Cell a, Cell b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : -1) : 1;
        }
        int byTime = Long.compare(a.hlc, b.hlc);
        if (byTime != 0) {
            return byTime;
        }
        if (a.tombstone != b.tombstone) {
            return a.tombstone ? 1 : -1;
        }
        return Arrays.compareUnsigned(a.value, b.value);
    }

    /** The winner of the two (either may be null). */
    public static Cell merge(Cell a, Cell b) {
        return compare(a, b) >= 0 ? a : b;
    }

    /** Whether this tombstone may be collected: written before {@code purgeBeforeMs} on the physical clock. */
    public boolean purgeable(long purgeBeforeMs) {
        return tombstone && HybridLogicalClock.physicalMs(hlc) < purgeBeforeMs;
    }

    /** A 64-bit digest of the whole cell, for Merkle leaves and key-by-key comparison. */
    public long digest() {
        long h = Hashing.mix(hlc ^ (tombstone ? 0x9E3779B97F4A7C15L : 0));
        return Hashing.mix(h ^ Hashing.hash64(value));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cell c && hlc == c.hlc && tombstone == c.tombstone && Arrays.equals(value, c.value);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(hlc) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return (tombstone ? "tombstone" : "value(" + value.length + "B)") + "@" + HybridLogicalClock.physicalMs(hlc)
                + "." + HybridLogicalClock.logical(hlc);
    }
}
