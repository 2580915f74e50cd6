package io.spate.stream.engine;

/**
 * Where a task's records go: sinks, repartition topics, changelogs and late-record side topics.
 * Called on the task's thread during {@link Task#process}; the runtime decides when the records
 * are durable (and must make them so before it commits the task's input offsets).
 */
public interface Output {
    /**
     * The partition is the key's, as Kafka's default partitioner picks it:
     * {@link Partitioning#partition(byte[], int)}. Only used with a non-null key.
     */
    int BY_KEY = -1;

    void send(String topic, int partition, byte[] key, byte[] value, long timestamp);

    /**
     * A store change for the task's partition of a changelog, {@code value} null deleting the
     * key. A store deletes what a result it emits no longer needs (a closed window, an expired
     * session or join buffer), so the runtime may hold a deletion back until the results sent
     * before it are durable: at-least-once, a replay must find the state those results came from
     * if they were lost. The changes of one changelog partition keep their order.
     */
    default void sendChangelog(String topic, int partition, byte[] key, byte[] value, long timestamp) {
        send(topic, partition, key, value, timestamp);
    }

    /**
     * A write of {@code key} to the Spate table {@code table} (a masterless table: the latest value
     * per key), {@code value} null deleting it. The runtime makes it durable at the table's write
     * consistency before it commits the task's input offsets, as with records sent.
     */
    default void writeTable(String table, byte[] key, byte[] value, long timestamp) {
        throw new UnsupportedOperationException("this output writes no tables (table " + table + ")");
    }
}
