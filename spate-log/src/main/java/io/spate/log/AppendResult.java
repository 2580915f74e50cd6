package io.spate.log;

/**
 * What an append did: the offsets it assigned (or, for a retried batch, the offsets it had been
 * given before), or the error that kept it out of the log.
 */
public record AppendResult(LogError error, String message, long baseOffset, long lastOffset,
                           long logAppendTimeMs, long logStartOffset, boolean duplicate) {

    /** An append of nothing (an empty replicated fetch): nothing assigned, nothing wrong. */
    public static final AppendResult NOTHING = new AppendResult(LogError.NONE, null, -1, -2, -1, -1, false);

    public static AppendResult failed(LogError error, String message, long logStartOffset) {
        return new AppendResult(error, message, -1, -1, -1, logStartOffset, false);
    }

    public boolean ok() {
        return error == LogError.NONE;
    }

    /** Offset after the last record of this append: what a durable or replicated ack waits for. */
    public long nextOffset() {
        return lastOffset + 1;
    }
}
