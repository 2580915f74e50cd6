package io.spate.time;

/**
 * What time it is, for code that decides on time (timeouts, leases, lag). Decision logic takes a
 * {@code Time} instead of calling {@link System#currentTimeMillis()} or {@link System#nanoTime()},
 * so that a test or the seeded simulation can move the clock itself.
 */
public interface Time {
    /** Milliseconds since the epoch: for timestamps that leave the process (records, metadata). */
    long millis();

    /** A monotonic counter in nanoseconds with an arbitrary origin: for measuring intervals. */
    long nanos();

    Time SYSTEM = new Time() {
        @Override
        public long millis() {
            return System.currentTimeMillis();
        }

        @Override
        public long nanos() {
            return System.nanoTime();
        }

        @Override
        public String toString() {
            return "Time.SYSTEM";
        }
    };
}
