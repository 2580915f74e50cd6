package io.spate.processing;

/**
 * One task's last report, as `spate pipeline describe` shows it. Latencies are of the last
 * report's interval, from a record's timestamp to its micro-batch's outputs being acknowledged
 * (at-least-once) or committed (exactly-once), in microseconds.
 *
 * @param state        RUNNING, RESTORING, FAILED or STOPPED
 * @param inputLag     records in the task's input partitions past its position
 * @param recordsPerSecond over the last interval
 * @param error        the failure of a FAILED task, else empty
 * @param resultsInPlace results appended in place to partitions this node leads (no network), since the task started here
 * @param resultsSent  results that went through a producer (to another node's partitions, or in a transaction)
 * @param standbyRecords changelog records the task's stores already held, kept warm by a standby on this node, when it
 *                     last restored here ({@code restoredRecords} counts only those it read itself)
 */
public record TaskStatus(String pipeline, int subTopology, int partition, int node, String state, long generation,
                         long recordsProcessed, long inputLag, double recordsPerSecond, long latencyP50Us, long latencyP99Us,
                         long latencyP999Us, long lateRecords, int restores, long lastRestoreMs, long restoredRecords,
                         int failures, String error, long reportedAtMs, long resultsInPlace, long resultsSent,
                         long standbyRecords) {
}
