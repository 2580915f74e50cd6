package io.spate.tables;

/**
 * How a put or delete ended. {@code version} is the timestamp the write was given, also when it
 * failed: a write that timed out may still be applied on some replica, and a client passing
 * {@code version} as the next request's {@code after} makes sure its next write wins over it.
 */
public record WriteResult(Status status, long version) {
    public enum Status {
        /** W replicas acknowledged it. */
        OK,
        /** Fewer than W acknowledged within the request timeout; it may still be applied on some. */
        TIMEOUT,
        /** Fewer than W replicas were live; nothing was sent. */
        UNAVAILABLE,
        /** Too many requests in flight on this coordinator; nothing was sent. */
        OVERLOADED
    }

    public boolean ok() {
        return status == Status.OK;
    }
}
