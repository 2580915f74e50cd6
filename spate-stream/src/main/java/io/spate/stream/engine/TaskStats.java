package io.spate.stream.engine;

/**
 * A task's counters since it was created.
 *
 * @param recordsProcessed       input records processed
 * @param lateRecordsDropped     records that came too late for every window they belong to (by stream time)
 * @param nullRecordsDropped     records dropped because their key was null (by an aggregation, join, repartition or table
 *                               sink) or their value was (by count, reduce or aggregate, which skip tombstones as Kafka
 *                               Streams' do)
 * @param recordsSent            records sent to sinks, repartition and side topics
 * @param changelogRecordsSent   records sent to changelog topics
 * @param streamTimeMs           the largest timestamp of a stream record or restored store change seen (or later, where {@code window.close.idle.ms} moved it with the
 *                               wall clock), or {@link Long#MIN_VALUE} before any record
 */
public record TaskStats(long recordsProcessed, long lateRecordsDropped, long nullRecordsDropped, long recordsSent, long changelogRecordsSent,
                        long streamTimeMs) {
    public TaskStats plus(TaskStats o) {
        return new TaskStats(recordsProcessed + o.recordsProcessed, lateRecordsDropped + o.lateRecordsDropped,
                nullRecordsDropped + o.nullRecordsDropped, recordsSent + o.recordsSent, changelogRecordsSent + o.changelogRecordsSent,
                Math.max(streamTimeMs, o.streamTimeMs));
    }

    public static final TaskStats ZERO = new TaskStats(0, 0, 0, 0, 0, Long.MIN_VALUE);
}
