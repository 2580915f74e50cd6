package io.spate.processing;

import org.apache.kafka.common.TopicPartition;

import java.io.IOException;

/** A task's position fell below its input's log start (retention removed what it had not read yet). */
final class PositionOutOfRangeException extends IOException {
    final long logStartOffset;

    PositionOutOfRangeException(TopicPartition tp, long position, long logStartOffset, long logEndOffset) {
        super(tp + ": position " + position + " is below the log start " + logStartOffset + " (log end " + logEndOffset
                + "): retention removed records the task had not read");
        this.logStartOffset = logStartOffset;
    }
}
