package io.spate.replication;

/** Why a write to a partition was not acknowledged; the protocol edge maps each to its own error code. */
public enum WriteError {
    NONE,
    /** This replica does not lead the partition (or no longer holds the lease to say so); nothing was appended. */
    NOT_LEADER,
    /** acks=all and the in-sync set is below min.insync.replicas; nothing was appended. */
    NOT_ENOUGH_REPLICAS,
    /** Appended, but the in-sync set shrank below min.insync.replicas before the replicas caught up. */
    NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    /** Appended, but the in-sync replicas did not all hold it within the wait the writer gave. */
    TIMED_OUT,
    /** Appended, but the fsync the topic's flush policy asks for failed (the log is now offline). */
    NOT_DURABLE,
    /** The log refused the records; {@link Written#logError()} says why. */
    REFUSED
}
