package io.spate.stream.testing;

import io.spate.stream.Serde;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads what the pipeline wrote to a topic, in the order it was written (across partitions). */
public final class TestOutput<K, V> {
    private final PipelineTestDriver driver;
    private final String topic;
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private long readUpToSeq = -1;

    TestOutput(PipelineTestDriver driver, String topic, Serde<K> keySerde, Serde<V> valueSerde) {
        this.driver = driver;
        this.topic = topic;
        this.keySerde = keySerde;
        this.valueSerde = valueSerde;
    }

    /** The records written since the last read. */
    public List<TestRecord<K, V>> readAll() {
        List<PipelineTestDriver.StoredRecord> records = driver.recordsAfter(topic, readUpToSeq);
        if (!records.isEmpty()) {
            readUpToSeq = records.get(records.size() - 1).seq();
        }
        return records.stream()
                .map(r -> new TestRecord<>(keySerde.deserialize(r.key()), valueSerde.deserialize(r.value()), r.timestamp(), r.partition()))
                .toList();
    }

    /** The records written since the last read, the latest value per key (null values remove the key). */
    public Map<K, V> readLatestByKey() {
        Map<K, V> latest = new LinkedHashMap<>();
        for (TestRecord<K, V> r : readAll()) {
            if (r.value() == null) {
                latest.remove(r.key());
            } else {
                latest.put(r.key(), r.value());
            }
        }
        return latest;
    }
}
