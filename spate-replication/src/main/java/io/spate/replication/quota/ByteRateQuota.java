package io.spate.replication.quota;

import io.spate.time.Time;

/**
 * A limit in bytes per second on replication traffic, as a token bucket: it holds at most one
 * second's worth of bytes, refills at the rate, and each transfer takes its size out once it is
 * done. Over the quota means the bucket is in debt; the traffic it governs waits until the refill
 * has paid it back, so over any long stretch the bytes moved are the rate times the time plus at
 * most one second's worth and one transfer.
 */
public final class ByteRateQuota {
    /** No limit. */
    public static final long UNLIMITED = Long.MAX_VALUE;

    private final Time time;
    private long bytesPerSecond = UNLIMITED;
    private double tokens;
    private long refilledAtNanos;

    public ByteRateQuota(Time time) {
        this.time = time;
        this.refilledAtNanos = time.nanos();
    }

    /** Sets the rate ({@link #UNLIMITED}: none); a new limit starts with a full second's worth. */
    public synchronized void setRate(long bytesPerSecond) {
        if (bytesPerSecond == this.bytesPerSecond) {
            return;
        }
        this.bytesPerSecond = bytesPerSecond;
        this.tokens = bytesPerSecond == UNLIMITED ? 0 : bytesPerSecond;
        this.refilledAtNanos = time.nanos();
    }

    public synchronized long rate() {
        return bytesPerSecond;
    }

    public synchronized boolean limited() {
        return bytesPerSecond != UNLIMITED;
    }

    /** Whether the traffic this quota governs must wait. */
    public synchronized boolean exceeded() {
        if (bytesPerSecond == UNLIMITED) {
            return false;
        }
        refill();
        return tokens < 0;
    }

    /** Counts {@code bytes} moved. */
    public synchronized void record(long bytes) {
        if (bytesPerSecond == UNLIMITED || bytes <= 0) {
            return;
        }
        refill();
        tokens -= bytes;
    }

    private void refill() {
        long now = time.nanos();
        long elapsed = now - refilledAtNanos;
        if (elapsed <= 0) {
            return;
        }
        refilledAtNanos = now;
        tokens = Math.min(bytesPerSecond, tokens + (double) bytesPerSecond * elapsed / 1_000_000_000.0);
    }
}
