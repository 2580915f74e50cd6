package io.spate.chaos;

/**
 * What the clients of a run do beside the producers, which always write (their acknowledged
 * writes are what the plain checks judge, and they are the pipeline's input).
 */
public enum Workload {
    /** A consumer group reading the producers' topic, committing after every poll, members leaving and rejoining. */
    GROUP,
    /** An exactly-once consume-transform-produce pipeline from the producers' topic to {@code chaos-out}, in transactions. */
    TXN,
    /**
     * Two Spate pipelines deployed at the data, exactly-once and at-least-once, each copying the
     * producers' topic partition for partition into an output of its own; their tasks follow the
     * partitions' leaders through the faults.
     */
    PIPELINE;

    public String label() {
        return name().toLowerCase();
    }

    public static Workload parse(String label) {
        return valueOf(label.strip().toUpperCase());
    }
}
