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
    COORDINATOR
}
