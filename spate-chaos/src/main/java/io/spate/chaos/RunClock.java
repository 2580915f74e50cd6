package io.spate.chaos;

/** Microseconds since the run began, from the monotonic clock: every history time uses it. */
public final class RunClock {
    private final long originNanos = System.nanoTime();

    public long nowUs() {
        return (System.nanoTime() - originNanos) / 1_000;
    }
}
