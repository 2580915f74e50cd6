package io.spate.server.cluster;

/**
 * Notices that this process did not run for a while (SIGSTOP, a long collection, starved of CPU)
 * and tells the controller when its view of its own leadership may be stale. A Raft leader paused
 * past an election still believes it leads when it resumes, and the answers of its followers that
 * waited in its sockets meanwhile look like fresh contact; only contact heard well after the
 * pause ended proves that the quorum still follows it. A pure decision on the times it is given:
 * {@link #tick} is called every few milliseconds by a thread of its own.
 */
final class PauseWatch {
    /** After this long, contact with the quorum is certainly newer than the pause. */
    private static final long MEMORY_NANOS = 10_000_000_000L;

    private final long gapNanos;
    private final long marginNanos;
    private volatile long lastTickNanos;
    private volatile long pauseEndedNanos;
    private volatile boolean paused;

    /**
     * @param gapNanos    a gap between ticks this long counts as a pause
     * @param marginNanos how long after a pause's end contact must have been heard to count as new
     */
    PauseWatch(long gapNanos, long marginNanos, long nowNanos) {
        this.gapNanos = gapNanos;
        this.marginNanos = marginNanos;
        this.lastTickNanos = nowNanos;
    }

    void tick(long nowNanos) {
        if (nowNanos - lastTickNanos > gapNanos) {
            pauseEndedNanos = nowNanos;
            paused = true;
        }
        lastTickNanos = nowNanos;
    }

    /**
     * Whether a quorum contact {@code contactAgeNanos} old, looked at {@code nowNanos}, may date
     * from before (or just after) a pause: then this leader cannot vouch for anything yet. Also
     * true while the ticking thread itself has not run for longer than a pause: the process may
     * just have resumed, before the watch noticed.
     */
    boolean mayBeStale(long contactAgeNanos, long nowNanos) {
        if (nowNanos - lastTickNanos > gapNanos) {
            return true;
        }
        if (!paused) {
            return false;
        }
        long sincePause = nowNanos - pauseEndedNanos;
        return sincePause < MEMORY_NANOS && contactAgeNanos + marginNanos > sincePause;
    }
}
