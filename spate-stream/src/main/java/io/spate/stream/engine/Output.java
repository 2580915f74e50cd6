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
}
