package io.spate.stream.engine;

/**
 * The pipeline setting {@code window.close.idle.ms}: a task whose inputs bring nothing for that
 * long moves its stream time on with the wall clock, so that windows which emit when they close
 * do close once input stops, instead of waiting for a record that may never come.
 *
 * <p>The rule, for an idle time {@code I}: let {@code W} be the wall-clock time of the last
 * micro-batch that brought the task records and {@code S} its stream time right after it (before
 * any record, the first wall-clock time the task is given and the stream time it restored). At
 * wall-clock time {@code now} the task's stream time is at least {@code S + (now - W - I)}. While
 * records come at least every {@code I} ms that is never above {@code S}, so nothing changes;
 * after {@code I} ms without a record, stream time moves as fast as the wall clock, from
 * {@code S}. A window whose close is due at stream time {@code T} (end + grace) therefore closes
 * at wall-clock time {@code W + I + (T - S)} at the latest, and a record that arrives after that
 * and belongs only to closed windows is late, like any other late record.
 *
 * <p>Why from {@code S} and not {@code now - I} read as an event time: the rule then does not
 * depend on how far record timestamps are from the wall clock (a replay of last week's events
 * that pauses closes only the windows its own pace would have closed, not every window at once),
 * and a task that has seen no record never moves.
 *
 * <p>A decision only: the wall clock is whatever the caller passes (the runtime's clock, the test
 * driver's), so a test replays it exactly. Single-threaded, as its task.
 */
final class WallClockStreamTime {
    /** The setting's value when it is off (the default): stream time moves only with records. */
    static final long OFF = -1;

    private final long idleMs;
    private boolean anchored;
    private long anchorWallClockMs;
    private long anchorStreamTimeMs;

    WallClockStreamTime(long idleMs) {
        if (idleMs != OFF && idleMs < 1) {
            throw new IllegalArgumentException("idle " + idleMs + " ms");
        }
        this.idleMs = idleMs;
    }

    /** The setting: absent or {@code -1} is off; otherwise at least 1 ms. */
    static long parse(String text) {
        if (text == null) {
            return OFF;
        }
        long idleMs;
        try {
            idleMs = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(CompiledPipeline.WINDOW_CLOSE_IDLE_MS + " must be a whole number of ms, not '" + text + "'");
        }
        if (idleMs != OFF && idleMs < 1) {
            throw new IllegalArgumentException(CompiledPipeline.WINDOW_CLOSE_IDLE_MS + " must be 1 or more, or -1 (off, the default), not "
                    + idleMs);
        }
        return idleMs;
    }

    boolean enabled() {
        return idleMs != OFF;
    }

    /**
     * The stream time the wall clock has brought the task to by {@code wallClockMs}, or
     * {@link Long#MIN_VALUE} when it brings none. The first call anchors the rule at
     * {@code streamTimeMs}, the task's stream time then.
     */
    long streamTimeAt(long wallClockMs, long streamTimeMs) {
        if (!enabled()) {
            return Long.MIN_VALUE;
        }
        if (!anchored) {
            recordsArrived(wallClockMs, streamTimeMs);
            return Long.MIN_VALUE;
        }
        long flowingMs = wallClockMs - anchorWallClockMs - idleMs;     // negative when the clock went back: none
        if (anchorStreamTimeMs == Long.MIN_VALUE || flowingMs <= 0) {
            return Long.MIN_VALUE;
        }
        return saturatedPlus(anchorStreamTimeMs, flowingMs);
    }

    /** A micro-batch brought records at {@code wallClockMs}; the task's stream time after it is {@code streamTimeMs}. */
    void recordsArrived(long wallClockMs, long streamTimeMs) {
        anchored = true;
        anchorWallClockMs = wallClockMs;
        anchorStreamTimeMs = streamTimeMs;
    }

    /**
     * The wall-clock time at which the stream time this brings passes {@code streamTimeMs}: at
     * least 1 ms of flow past the anchor, so that a call then moves stream time (a due time at or
     * below the anchor's stream time, a window restored already closed, is handled at the first
     * ms). {@link Long#MIN_VALUE} before the first call, when something is due: a call now starts
     * the idle time (a restored task that gets no record still closes its windows).
     * {@link Long#MAX_VALUE} when it never does (off, nothing due, no stream time yet).
     */
    long wallClockTimeOf(long streamTimeMs) {
        if (!enabled() || streamTimeMs == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        if (!anchored) {
            return Long.MIN_VALUE;
        }
        if (anchorStreamTimeMs == Long.MIN_VALUE) {
            return Long.MAX_VALUE;
        }
        long aheadMs = streamTimeMs <= anchorStreamTimeMs ? 1 : saturatedMinus(streamTimeMs, anchorStreamTimeMs);
        return saturatedPlus(saturatedPlus(anchorWallClockMs, idleMs), aheadMs);
    }

    /** {@code a + b} for {@code b >= 0}, {@link Long#MAX_VALUE} when it overflows. */
    static long saturatedPlus(long a, long b) {
        return a > Long.MAX_VALUE - b ? Long.MAX_VALUE : a + b;
    }

    /** {@code a - b} for {@code a > b}, {@link Long#MAX_VALUE} when it overflows. */
    private static long saturatedMinus(long a, long b) {
        long d = a - b;
        return d < 0 ? Long.MAX_VALUE : d;
    }
}
