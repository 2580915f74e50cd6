package io.spate.coordinator;

/**
 * A coordinator's state for one partition of its log (a group coordinator's groups whose ids hash
 * to that partition, say). Its durable state changes only by the replay calls: the same records
 * in the same order rebuild it after a restart or on the next leader, so what it remembers is
 * exactly what its log holds. State that is not durable (members waiting in a rebalance, timers)
 * lives beside it and is lost with the leadership, as in Kafka's coordinators.
 *
 * <p>Called on the runtime's one thread only; no locks needed. Every replay call comes in log
 * order: every batch of the partition's log, oldest first, when the shard is loaded, then each
 * batch this coordinator writes, once it is committed.
 *
 * @param <R> the coordinator's record type (see {@link RecordSerde})
 */
public interface CoordinatorShard<R> {
    /** Applies one record written outside any transaction. */
    void replay(R record);

    /**
     * Takes one record {@code producerId} wrote inside its open transaction: it counts only if a
     * commit marker for that producer follows ({@link #replayEndTransaction}). A coordinator that
     * writes no transactional records has nothing to do.
     */
    default void replayTransactional(long producerId, short producerEpoch, R record) {
    }

    /** {@code producerId}'s transaction ended on this partition: its records count if {@code commit}, are void if not. */
    default void replayEndTransaction(long producerId, boolean commit) {
    }

    /**
     * The load replay is done and the shard takes operations from now on (it may start writes of
     * its own here, e.g. to finish what the previous leader left half done).
     */
    default void onLoaded() {
    }

    /**
     * The shard takes operations from now on: the high watermark has reached the end of what it
     * replayed at the load, which may be long after {@link #onLoaded} (a new leader waits for its
     * in-sync replicas to catch up, or for the slow one to be dropped from the in-sync set). Until
     * then every operation is refused as loading; timers that expect clients to act (sessions)
     * start here, not at the load.
     */
    default void onActive() {
    }

    /** The leadership ended (or the runtime stopped): the shard is dropped and answers nothing more. Its timers are already cancelled. */
    default void onUnloaded() {
    }
}
