package io.spate.stream;

import java.time.Duration;

/**
 * The window of a stream-stream join: a record at {@code t} on this side joins the other side's
 * records of the same key with timestamps in {@code [t - before, t + after]} (and a record of the
 * other side at {@code t} joins this side's in {@code [t - after, t + before]}); a result carries
 * the later of the two timestamps. A record's window closes when stream time passes the window's
 * end plus grace. Each side buffers its records until stream time passes
 * {@code t + before + after + grace}, so a record whose window is open finds all its matches; a
 * record that arrives after that is expired: it is joined with what the other side still buffers,
 * counted late and not buffered (in a left or outer join, joined with null at once if nothing
 * matched). Grace defaults to zero; {@code of(Duration.ZERO)} joins records of equal timestamps.
 */
public record JoinWindows(long beforeMs, long afterMs, long graceMs) {
    public JoinWindows {
        if (beforeMs < 0 || afterMs < 0 || graceMs < 0) {
            throw new IllegalArgumentException("join window bounds must not be negative");
        }
    }

    /** Symmetric: records at most {@code timeDifference} apart join. */
    public static JoinWindows of(Duration timeDifference) {
        long ms = timeDifference.toMillis();
        return new JoinWindows(ms, ms, 0);
    }

    public JoinWindows before(Duration before) {
        return new JoinWindows(before.toMillis(), afterMs, graceMs);
    }

    public JoinWindows after(Duration after) {
        return new JoinWindows(beforeMs, after.toMillis(), graceMs);
    }

    public JoinWindows grace(Duration grace) {
        return new JoinWindows(beforeMs, afterMs, grace.toMillis());
    }
}
