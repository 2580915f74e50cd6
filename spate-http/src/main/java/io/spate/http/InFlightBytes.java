package io.spate.http;

import java.util.concurrent.atomic.AtomicLong;

/** Request bytes admitted and not yet answered, over all connections, held under a limit. */
final class InFlightBytes {
    private final long limitBytes;
    private final AtomicLong usedBytes = new AtomicLong();

    InFlightBytes(long limitBytes) {
        assert limitBytes > 0;
        this.limitBytes = limitBytes;
    }

    /** Takes {@code bytes} if they fit under the limit; false (taking nothing) if not. */
    boolean tryReserve(long bytes) {
        assert bytes >= 0;
        while (true) {
            long used = usedBytes.get();
            if (used + bytes > limitBytes) {
                return false;
            }
            if (usedBytes.compareAndSet(used, used + bytes)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        long after = usedBytes.addAndGet(-bytes);
        assert after >= 0 : "released more than reserved: " + after;
    }

    long usedBytes() {
        return usedBytes.get();
    }
}
