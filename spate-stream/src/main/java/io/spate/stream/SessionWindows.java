package io.spate.stream;

import java.time.Duration;

/**
 * Sessions per key: records closer than {@code gap} to each other belong to one session
 * {@code [first timestamp, last timestamp]}; a record that bridges two sessions merges them. A
 * session closes when stream time passes its last timestamp plus gap plus grace. Keys of session
 * results are {@code Windowed(key, start, end)} with {@code end} the last record's timestamp.
 */
public final class SessionWindows extends Windows {
    private final long gapMs;

    private SessionWindows(long gapMs, long graceMs, EmitMode emitMode, String lateTopic) {
        super(graceMs, emitMode, lateTopic);
        this.gapMs = gapMs;
    }

    public static SessionWindows withGap(Duration gap) {
        return new SessionWindows(positiveMs(gap, "session gap"), 0, EmitMode.ON_EVERY_UPDATE, null);
    }

    public long gapMs() {
        return gapMs;
    }

    @Override
    public SessionWindows grace(Duration grace) {
        return new SessionWindows(gapMs, grace.toMillis(), emitMode(), lateRecordsTopic());
    }

    @Override
    public SessionWindows emit(EmitMode mode) {
        return new SessionWindows(gapMs, graceMs(), mode, lateRecordsTopic());
    }

    @Override
    public SessionWindows lateRecordsTo(String topic) {
        return new SessionWindows(gapMs, graceMs(), emitMode(), topic);
    }

    @Override
    public String toString() {
        return "SessionWindows(gap=" + gapMs + "ms, grace=" + graceMs() + "ms, " + emitMode() + ")";
    }
}
