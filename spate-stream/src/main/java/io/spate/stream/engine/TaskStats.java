package io.spate.stream.engine;

/**
 * A task's counters since it was created.
 *
 * @param recordsProcessed       input records processed
 * @param lateRecordsDropped     records that came too late for every window they belong to (by stream time)
 * @param nullKeyRecordsDropped  records dropped by an aggregation, join, repartition or table sink because their key was null
 * @param recordsSent            records sent to sinks, repartition and side topics
 * @param changelogRecordsSent   records sent to changelog topics
 * @param streamTimeMs           the largest record timestamp seen (or later, where {@code window.close.idle.ms} moved it with the
 *                               wall clock), or {@link Long#MIN_VALUE} before any record
 */
public record TaskStats(long recordsProcessed, long lateRecordsDropped, long nullKeyRecordsDropped, long recordsSent, long changelogRecordsSent,
                        long streamTimeMs) {
    public TaskStats plus(TaskStats o) {
        return new TaskStats(recordsProcessed + o.recordsProcessed, lateRecordsDropped + o.lateRecordsDropped,
                nullKeyRecordsDropped + o.nullKeyRecordsDropped, recordsSent + o.recordsSent, changelogRecordsSent + o.changelogRecordsSent,
                Math.max(streamTimeMs, o.streamTimeMs));
    }

    public static final TaskStats ZERO = new TaskStats(0, 0, 0, 0, 0, Long.MIN_VALUE);
}
