package io.spate.processing;

import java.util.Map;

/**
 * The runtime's settings of one pipeline (the rest of a pipeline's settings belong to its code).
 *
 * @param commitIntervalMs how often a task commits its positions (and, exactly-once, its transaction)
 * @param batchMaxRecords  at most this many input records in one micro-batch
 * @param batchMaxBytes    at most about this many input bytes in one micro-batch (one whole batch at least)
 * @param idleWaitMs       how long an idle task waits for its inputs to grow before it looks again
 * @param taskTimeoutMs    a micro-batch that runs longer fails its task (user code that loops)
 * @param stateStore       where tasks keep their stores (in memory, or RocksDB under the node's data directory)
 * @param maxTaskIdleMs    how long a task with several inputs waits for one that has nothing to give before it processes
 *                         the others without it (Kafka Streams' {@code max.task.idle.ms}; 0: not at all once that input is caught up)
 * @param inPlaceExactlyOnce exactly-once, a task whose results of each micro-batch all go to one partition its node leads
 *                         commits them without a transaction ({@link AnchoredOutput}); false: always a transaction
 * @param deliveryTimeoutMs how long a batch of results appended in place that failed for a passing reason (too few in-sync
 *                         replicas, a timeout) is retried before the task goes back to its last commit ({@link AppendRetry};
 *                         as a producer's {@code delivery.timeout.ms}, 120 s by default)
 * @param requestTimeoutMs  how long one append in place waits for the in-sync replicas before it counts as timed out (and is
 *                         waited for further by the retry, up to {@code deliveryTimeoutMs}; a producer's {@code request.timeout.ms},
 *                         30 s by default)
 * @param standbyReplicas   how many nodes besides the one running a stateful task keep a warm copy of its stores (in memory or RocksDB),
 *                         applying its changelogs from their own replicas ({@link StandbyTask}; Kafka Streams'
 *                         {@code num.standby.replicas}, 0 by default): the task then takes over on one of them without
 *                         reading its changelogs from the start
 */
public record PipelineSettings(Guarantee guarantee, long commitIntervalMs, int batchMaxRecords, int batchMaxBytes, long idleWaitMs,
                               long taskTimeoutMs, StateStoreType stateStore, long maxTaskIdleMs, boolean inPlaceExactlyOnce,
                               long deliveryTimeoutMs, long requestTimeoutMs, int standbyReplicas) {
    public static final String GUARANTEE = "processing.guarantee";
    public static final String COMMIT_INTERVAL_MS = "commit.interval.ms";
    public static final String BATCH_MAX_RECORDS = "batch.max.records";
    public static final String BATCH_MAX_BYTES = "batch.max.bytes";
    public static final String IDLE_WAIT_MS = "idle.wait.ms";
    public static final String TASK_TIMEOUT_MS = "task.timeout.ms";
    public static final String STATE_STORE = "state.store";
    public static final String MAX_TASK_IDLE_MS = "max.task.idle.ms";
    /** {@code in_place} (the default: where a task qualifies) or {@code transaction}. */
    public static final String EXACTLY_ONCE_COMMIT = "exactly.once.commit";
    public static final String DELIVERY_TIMEOUT_MS = "delivery.timeout.ms";
    public static final String REQUEST_TIMEOUT_MS = "request.timeout.ms";
    public static final String NUM_STANDBY_REPLICAS = "num.standby.replicas";
    /** Under the transaction timeout of the tasks' producers (60 s), with room: a longer transaction would be aborted by its coordinator. */
    public static final long MAX_EXACTLY_ONCE_COMMIT_INTERVAL_MS = 30_000;

    public PipelineSettings {
        if (guarantee == Guarantee.EXACTLY_ONCE && commitIntervalMs > MAX_EXACTLY_ONCE_COMMIT_INTERVAL_MS) {
            throw new IllegalArgumentException(COMMIT_INTERVAL_MS + " is at most " + MAX_EXACTLY_ONCE_COMMIT_INTERVAL_MS
                    + " with exactly_once: each interval is one transaction, and the coordinator aborts those older than 60 s");
        }
        if (maxTaskIdleMs < 0) {
            throw new IllegalArgumentException(MAX_TASK_IDLE_MS + " must be 0 or more (Kafka Streams' -1, never waiting even for an input"
                    + " that is behind, is not offered: a task always takes what an input behind has to give)");
        }
        if (deliveryTimeoutMs < 0) {
            throw new IllegalArgumentException(DELIVERY_TIMEOUT_MS + " must be 0 (no retry) or more");
        }
        if (standbyReplicas < 0) {
            throw new IllegalArgumentException(NUM_STANDBY_REPLICAS + " must be 0 or more");
        }
        if (requestTimeoutMs < 1) {
            throw new IllegalArgumentException(REQUEST_TIMEOUT_MS + " must be 1 or more");
        }
        if (commitIntervalMs < 1 || batchMaxRecords < 1 || batchMaxBytes < 1024 || idleWaitMs < 1 || taskTimeoutMs < 100) {
            throw new IllegalArgumentException("pipeline settings out of range: " + COMMIT_INTERVAL_MS + " >= 1, " + BATCH_MAX_RECORDS
                    + " >= 1, " + BATCH_MAX_BYTES + " >= 1024, " + IDLE_WAIT_MS + " >= 1, " + TASK_TIMEOUT_MS + " >= 100");
        }
    }

    public static PipelineSettings of(Map<String, String> settings) {
        Guarantee guarantee = Guarantee.parse(settings.getOrDefault(GUARANTEE, "at_least_once"));
        // Exactly-once results become readable when the transaction commits: its interval is the
        // latency floor, so it is shorter than Kafka Streams' 100 ms by default.
        long commitDefault = guarantee == Guarantee.EXACTLY_ONCE ? 20 : 100;
        return new PipelineSettings(guarantee,
                number(settings, COMMIT_INTERVAL_MS, commitDefault),
                (int) number(settings, BATCH_MAX_RECORDS, 10_000),
                (int) number(settings, BATCH_MAX_BYTES, 1 << 20),
                number(settings, IDLE_WAIT_MS, 100),
                number(settings, TASK_TIMEOUT_MS, 30_000),
                StateStoreType.parse(settings.getOrDefault(STATE_STORE, "in_memory")),
                number(settings, MAX_TASK_IDLE_MS, 0),
                inPlace(settings.getOrDefault(EXACTLY_ONCE_COMMIT, "in_place")),
                number(settings, DELIVERY_TIMEOUT_MS, 120_000),
                number(settings, REQUEST_TIMEOUT_MS, TaskOutput.REPLICATION_WAIT_MS),
                (int) number(settings, NUM_STANDBY_REPLICAS, 0));
    }

    private static boolean inPlace(String text) {
        return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "in_place", "in-place" -> true;
            case "transaction", "transactions" -> false;
            default -> throw new IllegalArgumentException(EXACTLY_ONCE_COMMIT + " must be in_place or transaction, not '" + text + "'");
        };
    }

    private static long number(Map<String, String> settings, String key, long defaultValue) {
        String text = settings.get(key);
        if (text == null) {
            return defaultValue;
        }
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, not '" + text + "'");
        }
    }
}
