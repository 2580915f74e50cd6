package io.spate.stream;

import java.time.Duration;

/** Fixed-size, non-overlapping windows {@code [n*size, (n+1)*size)}. */
public final class TumblingWindows extends Windows {
    private final long sizeMs;

    private TumblingWindows(long sizeMs, long graceMs, EmitMode emitMode, String lateTopic) {
        super(graceMs, emitMode, lateTopic);
        this.sizeMs = sizeMs;
    }

    public static TumblingWindows of(Duration size) {
        return new TumblingWindows(positiveMs(size, "window size"), 0, EmitMode.ON_EVERY_UPDATE, null);
    }

    public long sizeMs() {
        return sizeMs;
    }

    @Override
    public TumblingWindows grace(Duration grace) {
        return new TumblingWindows(sizeMs, grace.toMillis(), emitMode(), lateRecordsTopic());
    }

    @Override
    public TumblingWindows emit(EmitMode mode) {
        return new TumblingWindows(sizeMs, graceMs(), mode, lateRecordsTopic());
    }

    @Override
    public TumblingWindows lateRecordsTo(String topic) {
        return new TumblingWindows(sizeMs, graceMs(), emitMode(), topic);
    }

    @Override
    public String toString() {
        return "TumblingWindows(size=" + sizeMs + "ms, grace=" + graceMs() + "ms, " + emitMode() + ")";
    }
}
