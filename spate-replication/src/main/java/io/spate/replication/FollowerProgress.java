package io.spate.replication;

/**
 * What the leader knows of one follower: the log end offset it reported with its last fetch,
 * its log start offset (-1 until it reported one), and when it was last caught up. Kafka's rule: a follower fetching at the leader's log end
 * is caught up now; one fetching at what was the log end at its previous fetch was caught up
 * then. A follower that has not been caught up for {@code replica.lag.time.max.ms} falls out of
 * the in-sync set.
 */
final class FollowerProgress {
    private long logEndOffset;
    private long logStartOffset = -1;
    private long lastCaughtUpMs;
    private long lastFetchMs;
    private long leaderEndAtLastFetch;
    private String rack = "";

    FollowerProgress(long nowMs) {
        this.lastCaughtUpMs = nowMs;
        this.lastFetchMs = nowMs;
    }

    synchronized void onFetch(long fetchOffset, long followerLogStart, long leaderEnd, long nowMs, String followerRack) {
        logEndOffset = fetchOffset;
        if (followerLogStart >= 0) {
            logStartOffset = followerLogStart;
        }
        rack = followerRack == null ? "" : followerRack;
        if (fetchOffset >= leaderEnd) {
            lastCaughtUpMs = nowMs;
        } else if (fetchOffset >= leaderEndAtLastFetch) {
            lastCaughtUpMs = Math.max(lastCaughtUpMs, lastFetchMs);
        }
        leaderEndAtLastFetch = leaderEnd;
        lastFetchMs = nowMs;
    }

    synchronized String rack() {
        return rack;
    }

    synchronized long logStartOffset() {
        return logStartOffset;
    }

    synchronized long logEndOffset() {
        return logEndOffset;
    }

    /** How long since this follower was last caught up; 0 while it is. */
    synchronized long lagMs(long leaderEnd, long nowMs) {
        return logEndOffset >= leaderEnd ? 0 : nowMs - lastCaughtUpMs;
    }
}
