package io.spate.stream;

/**
 * Which partition of an output topic a result goes to.
 *
 * <ul>
 *   <li>{@link #KEY}: the key's, as Kafka's default partitioner picks it (what Kafka Streams
 *       does); a result without a key goes to the task's partition.</li>
 *   <li>{@link #TASK}: the task's own partition, the input partition whose records produced it.
 *       With an output the pipeline created (co-located with its inputs) that partition is led by
 *       the node running the task, so the result is written where it was computed, with no
 *       network hop; after a re-key the task's partition is the new key's, so results of one key
 *       still share a partition. The output needs at least as many partitions as the inputs.</li>
 * </ul>
 */
public enum SinkPartition {
    KEY,
    TASK
}
