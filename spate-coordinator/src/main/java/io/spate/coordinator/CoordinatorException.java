package io.spate.coordinator;

import io.spate.replication.Written;

/**
 * Why the runtime did not run an operation, or could not commit what it wrote. The protocol edge
 * maps these to its own error codes (a Kafka group coordinator's NOT_COORDINATOR,
 * COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE).
 */
public final class CoordinatorException extends RuntimeException {
    public enum Reason {
        /** This node does not lead the shard's partition: the client should look the coordinator up again. */
        NOT_COORDINATOR,
        /** This node leads it but is still replaying its log. */
        LOADING,
        /** The runtime is stopping, or the shard's log does not exist yet. */
        NOT_AVAILABLE,
        /** The records were not committed; {@link #written()} says why. */
        WRITE_FAILED
    }

    private final Reason reason;
    private final transient Written written;

    public CoordinatorException(Reason reason, String message) {
        this(reason, message, null);
    }

    private CoordinatorException(Reason reason, String message, Written written) {
        super(message, null, false, false);
        this.reason = reason;
        this.written = written;
    }

    static CoordinatorException writeFailed(Written written) {
        return new CoordinatorException(Reason.WRITE_FAILED, written.error() + ": " + written.message(), written);
    }

    public Reason reason() {
        return reason;
    }

    /** The partition's answer to a failed write; null for the other reasons. */
    public Written written() {
        return written;
    }
}
