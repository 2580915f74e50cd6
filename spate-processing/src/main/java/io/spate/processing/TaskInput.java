package io.spate.processing;

import io.spate.stream.engine.InputRecord;
import org.apache.kafka.common.TopicPartition;

import java.io.IOException;
import java.util.List;

/** One input partition of a task, read from a position the task keeps. */
interface TaskInput extends AutoCloseable {
    TopicPartition topicPartition();

    /**
     * Adds to {@code into} the records from {@code position} on, at most {@code maxRecords} and
     * about {@code maxBytes}, and returns the position after what it read (past skipped control
     * and aborted records too); {@code position} itself when there was nothing to read.
     */
    long poll(long position, int maxRecords, int maxBytes, List<InputRecord> into) throws IOException;

    /** The records readable past {@code position} now, as far as this input knows cheaply (for reports). */
    long lag(long position);

    /**
     * Whether nothing is known to be readable past {@code position}: false too while this input
     * does not know yet where its partition ends (a consumer before its first fetch answer). A
     * task with several inputs waits for one that read nothing until it is caught up.
     */
    default boolean caughtUp(long position) {
        return lag(position) == 0;
    }

    /** The offset readable data ends at now, asked of the partition's leader when not read in place (a restore's target). */
    long end();

    /** Where reading starts when no position was committed: the log start. */
    long earliest();

    @Override
    void close();
}
