package io.spate.stream;

import java.time.Duration;
import java.util.Objects;

/**
 * How a grouped stream is cut into windows by event time (the record timestamp), and what happens
 * around a window's close. A window closes when the task's stream time (the largest timestamp it
 * has seen) reaches its end plus the grace period; a record arriving for a closed window is late:
 * counted in the task's stats and dropped, or sent to {@link #lateRecordsTo(String) a side topic}.
 * Immutable: each setter returns a copy. Grace defaults to zero, the emit mode to
 * {@link EmitMode#ON_EVERY_UPDATE}.
 */
public abstract sealed class Windows permits TumblingWindows, HoppingWindows, SessionWindows {
    private final long graceMs;
    private final EmitMode emitMode;
    private final String lateRecordsTopic;

    Windows(long graceMs, EmitMode emitMode, String lateRecordsTopic) {
        if (graceMs < 0) {
            throw new IllegalArgumentException("grace must not be negative: " + graceMs + " ms");
        }
        this.graceMs = graceMs;
        this.emitMode = Objects.requireNonNull(emitMode, "emitMode");
        this.lateRecordsTopic = lateRecordsTopic;
    }

    public final long graceMs() {
        return graceMs;
    }

    public final EmitMode emitMode() {
        return emitMode;
    }

    /** The side topic late records go to, or null when they are only counted and dropped. */
    public final String lateRecordsTopic() {
        return lateRecordsTopic;
    }

    /** How long after its end a window still accepts records (by stream time). */
    public abstract Windows grace(Duration grace);

    public abstract Windows emit(EmitMode mode);

    /**
     * Sends late records to {@code topic} (serialized with the grouped stream's serdes, keyed by
     * the grouping key) besides counting them.
     */
    public abstract Windows lateRecordsTo(String topic);

    static long positiveMs(Duration d, String what) {
        long ms = Objects.requireNonNull(d, what).toMillis();
        if (ms <= 0) {
            throw new IllegalArgumentException(what + " must be positive: " + d);
        }
        return ms;
    }
}
