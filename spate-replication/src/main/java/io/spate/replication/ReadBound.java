package io.spate.replication;

/** How far a reader may read a partition: the offset it stops before depends on who it is. */
public enum ReadBound {
    /** A follower copying the leader: everything appended, committed or not. */
    LOG_END,
    /** A consumer reading uncommitted: what every in-sync replica holds. */
    HIGH_WATERMARK,
    /**
     * A consumer reading committed: below the first transaction not yet decided (open, or ended
     * by a marker the high watermark has not passed), at most the high watermark.
     */
    LAST_STABLE
}
