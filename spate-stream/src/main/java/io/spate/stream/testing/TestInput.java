package io.spate.stream.testing;

import io.spate.stream.Serde;

/** Writes records into a topic of a {@link PipelineTestDriver}; each pipe runs the pipeline until it is idle. */
public final class TestInput<K, V> {
    private final PipelineTestDriver driver;
    private final String topic;
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;

    TestInput(PipelineTestDriver driver, String topic, Serde<K> keySerde, Serde<V> valueSerde) {
        this.driver = driver;
        this.topic = topic;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
    }

    /** To the key's partition (Kafka's default partitioner), or round-robin for a null key. */
    public TestInput<K, V> pipe(K key, V value, long timestampMs) {
        driver.pipe(topic, -1, keySerde.serialize(key), valueSerde.serialize(value), timestampMs);
        return this;
    }

    public TestInput<K, V> pipe(K key, V value, long timestampMs, int partition) {
        if (partition < 0 || partition >= driver.partitions()) {
            throw new IllegalArgumentException("partition " + partition + " of " + driver.partitions());
        }
        driver.pipe(topic, partition, keySerde.serialize(key), valueSerde.serialize(value), timestampMs);
        return this;
    }
}
