package io.spate.log;

import java.util.List;

/**
 * A read of a partition log: the bytes found and where the log stood at that moment, with the
 * last stable offset then and, for a read_committed read, the aborted transactions whose records
 * may lie in what was read (by first offset; empty otherwise).
 */
public record LogReadResult(LogError error, FileSlice slice, long highWatermark, long logStartOffset, long logEndOffset,
                            long lastStableOffset, List<AbortedTxn> abortedTransactions) {

    /** A read with no transaction information: the last stable offset is the high watermark. */
    public LogReadResult(LogError error, FileSlice slice, long highWatermark, long logStartOffset, long logEndOffset) {
        this(error, slice, highWatermark, logStartOffset, logEndOffset, highWatermark, List.of());
    }

    public int sizeInBytes() {
        return slice.size();
    }
}
