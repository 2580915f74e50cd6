package io.spate.stream;

import java.time.Duration;

/**
 * Fixed-size windows that start every {@code advance}: {@code [n*advance, n*advance+size)}; a
 * record falls into {@code size/advance} windows (those starting at or after 0).
 */
public final class HoppingWindows extends Windows {
    private final long sizeMs;
    private final long advanceMs;

    private HoppingWindows(long sizeMs, long advanceMs, long graceMs, EmitMode emitMode, String lateTopic) {
        super(graceMs, emitMode, lateTopic);
        if (advanceMs > sizeMs) {
            throw new IllegalArgumentException("advance " + advanceMs + " ms is larger than the window size " + sizeMs + " ms");
        }
        this.sizeMs = sizeMs;
        this.advanceMs = advanceMs;
    }

    public static HoppingWindows of(Duration size, Duration advance) {
        return new HoppingWindows(positiveMs(size, "window size"), positiveMs(advance, "advance"), 0, EmitMode.ON_EVERY_UPDATE, null);
    }

    public long sizeMs() {
        return sizeMs;
    }

    public long advanceMs() {
        return advanceMs;
    }

    @Override
    public HoppingWindows grace(Duration grace) {
        return new HoppingWindows(sizeMs, advanceMs, grace.toMillis(), emitMode(), lateRecordsTopic());
    }

    @Override
    public HoppingWindows emit(EmitMode mode) {
        return new HoppingWindows(sizeMs, advanceMs, graceMs(), mode, lateRecordsTopic());
    }

    @Override
    public HoppingWindows lateRecordsTo(String topic) {
        return new HoppingWindows(sizeMs, advanceMs, graceMs(), emitMode(), topic);
    }

    @Override
    public String toString() {
        return "HoppingWindows(size=" + sizeMs + "ms, advance=" + advanceMs + "ms, grace=" + graceMs() + "ms, " + emitMode() + ")";
    }
}
