package io.spate.tables;

import io.spate.time.Time;

/**
 * A hybrid logical clock (Kulkarni et al., 2014): timestamps close to physical time that never go
 * back on this node and always pass every timestamp the node has seen, so a write that follows
 * another causally gets a larger timestamp whatever the clocks' skew.
 *
 * <p>A timestamp is one {@code long}: the physical part in milliseconds in the high 48 bits, a
 * logical counter in the low 16. "Next" is then just {@code max(physical << 16, last + 1)}; a
 * counter that overflows carries into the physical part, which stays monotonic (it borrows a
 * millisecond from the future rather than reusing a timestamp).
 *
 * <p>Not thread-safe: owned by the node's event thread.
 */
public final class HybridLogicalClock {
    public static final int LOGICAL_BITS = 16;

    private final Time time;
    /** Timestamps further ahead of our physical clock than this are not adopted: a broken clock elsewhere must not drag ours. */
    private final long maxForwardMs;
    private long last;
    private long refused;

    public HybridLogicalClock(Time time, long maxForwardMs) {
        this.time = time;
        this.maxForwardMs = maxForwardMs;
    }

    public static long physicalMs(long hlc) {
        return hlc >>> LOGICAL_BITS;
    }

    public static int logical(long hlc) {
        return (int) (hlc & ((1 << LOGICAL_BITS) - 1));
    }

    public static long of(long physicalMs, int logical) {
        return (physicalMs << LOGICAL_BITS) | logical;
    }

    /** A new timestamp, larger than any this clock issued or saw. */
    public long next() {
        last = Math.max(time.millis() << LOGICAL_BITS, last + 1);
        return last;
    }

    /**
     * A new timestamp larger than {@code after} too: what a client saw last (its previous write's
     * version), so its next write wins over it even through a node whose clock is behind.
     *
     * @throws AfterTooFarAheadException when {@code after} is too far ahead to adopt: a smaller
     *                                   timestamp would let the earlier write win
     */
    public long next(long after) {
        if (!observe(after)) {
            throw new AfterTooFarAheadException(after, time.millis(), maxForwardMs);
        }
        return next();
    }

    /**
     * Takes in the largest timestamp this node's stores hold when it opens them, however far ahead
     * of the physical clock: the clock's state is in memory only, and a restart on a clock that
     * stepped back would otherwise issue timestamps below writes already acknowledged, which every
     * replica then ignores (last writer wins) while acknowledging them.
     */
    public void seed(long stored) {
        last = Math.max(last, stored);
    }

    /** Takes in a timestamp seen on a message; returns false when it was too far ahead to adopt. */
    public boolean observe(long remote) {
        if (remote <= last) {
            return true;
        }
        if (physicalMs(remote) - time.millis() > maxForwardMs) {
            refused++;
            return false;
        }
        last = remote;
        return true;
    }

    /** The last timestamp issued or seen: what every message this node sends carries. */
    public long current() {
        return Math.max(last, time.millis() << LOGICAL_BITS);
    }

    public long refused() {
        return refused;
    }

    public Time time() {
        return time;
    }
}
