package io.spate.replication.node;

/**
 * How long this node may still trust the leaderships its metadata names. The controller fences a
 * node only after a full session without a heartbeat from it, counted from when it received the
 * last one, which is after the node sent it; so a node whose heartbeat sent at {@code t} was
 * answered "not fenced" cannot have lost a leadership to fencing before {@code t + session}.
 *
 * <p>Past that point a node that was paused or cut off must not answer as leader, even before its
 * heartbeat thread notices and fences itself: a resumed leader answering a consumer's fetch beyond
 * its own (now stale) log end with OFFSET_OUT_OF_RANGE sent that consumer back to offset 0 (fault
 * campaign 4, seed 3014). A pure decision on the times it is given.
 */
public final class LeaderLease {
    private final long durationNanos;
    // Written by the heartbeat thread only, read on every leader request: volatile, no lock.
    private volatile boolean granted;
    private volatile long sentAtNanos;

    /** @param durationNanos how long a renewal lasts from the heartbeat's send time (a little under the session) */
    public LeaderLease(long durationNanos) {
        this.durationNanos = durationNanos;
    }

    /** The lease of a session of {@code sessionMs}: 90% of it, leaving room for the two clocks' rates to differ. */
    public static LeaderLease forSession(long sessionMs) {
        return new LeaderLease(sessionMs * 900_000L);
    }

    /**
     * The lease of a node that is its own, only controller (a standalone node): no other node can
     * be given its leaderships while it is paused, so once granted it lasts until revoked.
     */
    public static LeaderLease withoutExpiry() {
        return new LeaderLease(Long.MAX_VALUE);
    }

    /** The controller answered, unfenced, a heartbeat this node sent at {@code sentAtNanos}. */
    public void renew(long sentAtNanos) {
        if (!granted || sentAtNanos - this.sentAtNanos > 0) {
            this.sentAtNanos = sentAtNanos;
            granted = true;
        }
    }

    /** The controller said this node is fenced (or the node fenced itself): nothing is trusted until the next renewal. */
    public void revoke() {
        granted = false;
    }

    public boolean holds(long nowNanos) {
        return granted && nowNanos - sentAtNanos < durationNanos;
    }
}
