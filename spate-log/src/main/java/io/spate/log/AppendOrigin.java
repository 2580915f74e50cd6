package io.spate.log;

/**
 * Who writes to a log as its leader, which decides what is checked (Kafka's AppendOrigin).
 * Replicated batches, the third origin, go through {@code appendAsFollower}.
 */
public enum AppendOrigin {
    /** A producer: every batch is checked, and a batch with a producer id must carry a sequence. */
    CLIENT,
    /**
     * The node's own coordinators: a transactional batch may carry the producer's id and epoch
     * without a sequence (the group coordinator writes a transaction's offsets so, as Kafka does).
     */
    COORDINATOR,
    /**
     * A processing task's results appended in place on this node: a batch that is not
     * transactional may carry the task producer's id and epoch without a sequence. Only its epoch
     * is checked, so that a newer instance of the task, whose transactional write put a newer
     * epoch in the partition, fences the older one's appends.
     */
    TASK_IN_PLACE
}
