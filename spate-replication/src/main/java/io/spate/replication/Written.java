package io.spate.replication;

import io.spate.log.AppendResult;
import io.spate.log.LogError;

/**
 * The answer to a write: where the records went, or why the write is not acknowledged.
 *
 * @param error           NONE when the write is as safe as its acks asked
 * @param logError        the log's reason when {@code error} is REFUSED; for an acknowledged
 *                        retry whose first offsets the log no longer remembers, DUPLICATE_SEQUENCE
 *                        (the write is acknowledged, without an offset)
 * @param baseOffset      the first record's offset, -1 when unknown or not acknowledged
 * @param logAppendTimeMs the broker timestamp when the topic uses LogAppendTime, else -1
 * @param logStartOffset  the log's start offset at the append, -1 when nothing was appended
 */
public record Written(WriteError error, LogError logError, String message, long baseOffset, long logAppendTimeMs,
                      long logStartOffset) {

    static Written refused(WriteError error, String message) {
        return new Written(error, LogError.NONE, message, -1, -1, -1);
    }

    static Written of(AppendResult result) {
        if (result.error() == LogError.DUPLICATE_SEQUENCE) {
            return new Written(WriteError.NONE, LogError.DUPLICATE_SEQUENCE, result.message(), -1, -1, result.logStartOffset());
        }
        if (!result.ok()) {
            return new Written(WriteError.REFUSED, result.error(), result.message(), -1, -1, result.logStartOffset());
        }
        return new Written(WriteError.NONE, LogError.NONE, null, result.baseOffset(), result.logAppendTimeMs(), result.logStartOffset());
    }

    /** The same append, not acknowledged after all: the offset is withheld, the log start offset kept. */
    Written failed(WriteError why, String reason) {
        return new Written(why, logError == LogError.DUPLICATE_SEQUENCE ? LogError.NONE : logError, reason, -1, -1, logStartOffset);
    }

    public boolean ok() {
        return error == WriteError.NONE;
    }
}
