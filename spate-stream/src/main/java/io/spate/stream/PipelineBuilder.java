package io.spate.stream;

/** What {@link Pipeline#define} gets: the pipeline's settings and the entry points of the graph. */
public interface PipelineBuilder {
    /** The pipeline's {@code --set key=value} settings. */
    String setting(String key, String defaultValue);

    /** The pipeline's name, the prefix of its internal topics. */
    String pipelineName();

    /** A stream of the records of an external topic. A topic may be read once per pipeline. */
    <K, V> KStream<K, V> stream(String topic, Serde<K> keySerde, Serde<V> valueSerde);

    /**
     * A table from a (compacted) topic: the latest value per key, a null value deletes. It must be
     * co-partitioned with the streams joined to it; each task holds the table of its partition.
     */
    <K, V> KTable<K, V> table(String topic, Serde<K> keySerde, Serde<V> valueSerde);

    /** As {@link #table(String, Serde, Serde)}, with the store's name given. */
    <K, V> KTable<K, V> table(String topic, Serde<K> keySerde, Serde<V> valueSerde, Named named);
}
