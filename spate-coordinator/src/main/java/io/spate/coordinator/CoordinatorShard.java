package io.spate.coordinator;

/**
 * A coordinator's state for one partition of its log (a group coordinator's groups whose ids hash
 * to that partition, say). Its durable state changes only by {@link #replay}: the same records in
 * the same order rebuild it after a restart or on the next leader, so what it remembers is
 * exactly what its log holds. State that is not durable (members waiting in a rebalance, timers)
 * lives beside it and is lost with the leadership, as in Kafka's coordinators.
 *
 * <p>Called on the runtime's one thread only; no locks needed.
 *
 * @param <R> the coordinator's record type (see {@link RecordSerde})
 */
public interface CoordinatorShard<R> {
    /**
     * Applies one record: every record of the partition's log, oldest first, when the shard is
     * loaded, then each record this coordinator writes, once the write is committed, in log order.
     */
    void replay(R record);

    /** The leadership ended (or the runtime stopped): the shard is dropped and answers nothing more. Its timers are already cancelled. */
    default void onUnloaded() {
    }
}
