package io.spate.log;

/** A read of a partition log: the bytes found and where the log stood at that moment. */
public record LogReadResult(LogError error, FileSlice slice, long highWatermark, long logStartOffset, long logEndOffset) {
    public int sizeInBytes() {
        return slice.size();
    }
}
