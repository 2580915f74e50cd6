package io.spate.broker;

import io.spate.processing.CatalogRecords;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A compacted topic as the table it stands for (the last value of each key, tombstones removing),
 * kept in step by one consumer that reads only what was appended since the last look. Reading the
 * whole topic on every look, as the console's Pipelines page did every 3 s, fetched each pipeline
 * jar in the catalog (up to 48 MB) again each time although nothing had changed.
 */
final class CompactedTopicFollower implements AutoCloseable {
    /** A catalog record may hold a whole pipeline jar: a fetch must take one. */
    private static final int MAX_FETCH_BYTES = CatalogRecords.MAX_JAR_BYTES + (1 << 20);
    private static final Duration POLL = Duration.ofMillis(100);

    private final String topic;
    private final Predicate<String> keep;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, byte[]> table = new HashMap<>();
    private List<TopicPartition> partitions = List.of();
    private long recordsRead;

    /** Follows {@code topic} through {@code bootstrap}; only the keys {@code keep} accepts are kept (the others are read past). */
    CompactedTopicFollower(String bootstrap, String clientId, String topic, Predicate<String> keep) {
        this.topic = topic;
        this.keep = keep;
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        // A missing topic must stay missing: auto-created, it would get the defaults (one replica, not compacted).
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // Records deleted under the position are noticed (and the table read again), not skipped.
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_FETCH_BYTES);
        config.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, MAX_FETCH_BYTES);
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** The table as of the topic's end now (empty while the topic does not exist). */
    synchronized Map<String, byte[]> table(Duration timeout) {
        if (partitions.isEmpty() && !assign(timeout)) {
            return Map.of();
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!reached(end)) {
            if (System.nanoTime() - deadline > 0) {
                throw new TimeoutException("could not read " + topic + " to its end within " + timeout.toMillis() + " ms");
            }
            try {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
                    apply(r);
                }
            } catch (OffsetOutOfRangeException e) {
                // What the table was built from is gone (records deleted): build it again from the log start.
                table.clear();
                consumer.seekToBeginning(partitions);
            }
        }
        return Map.copyOf(table);
    }

    /** Records read since this follower was made: an unchanged topic adds none. */
    synchronized long recordsRead() {
        return recordsRead;
    }

    private boolean assign(Duration timeout) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
        if (infos == null || infos.isEmpty()) {
            return false;
        }
        partitions = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return true;
    }

    private void apply(ConsumerRecord<String, byte[]> r) {
        recordsRead++;
        if (r.key() == null || !keep.test(r.key())) {
            return;
        }
        if (r.value() == null) {
            table.remove(r.key());
        } else {
            table.put(r.key(), r.value());
        }
    }

    private boolean reached(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Ends a look under way (it fails) and closes the consumer. */
    @Override
    public void close() {
        consumer.wakeup();
        synchronized (this) {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (WakeupException e) {
                // the wake-up no look took: nothing to end
            }
        }
    }
}
