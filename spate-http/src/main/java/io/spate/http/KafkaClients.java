package io.spate.http;

import io.spate.replication.Acks;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * The Kafka clients the API uses for what this node does not hold: one producer per acks level
 * (made on first use, shared by all requests) for partitions led elsewhere, and consumers, one per
 * read or live stream, for partitions it holds no replica of. All talk to this node's own listener.
 */
final class KafkaClients implements AutoCloseable {
    private final String bootstrap;
    private final Map<Acks, KafkaProducer<byte[], byte[]>> producers = new EnumMap<>(Acks.class);
    private boolean closed;

    KafkaClients(String bootstrap) {
        this.bootstrap = bootstrap;
    }

    synchronized KafkaProducer<byte[], byte[]> producer(Acks acks) {
        if (closed) {
            throw new IllegalStateException("the HTTP server is closing");
        }
        return producers.computeIfAbsent(acks, a -> {
            Map<String, Object> config = new HashMap<>();
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            config.put(ProducerConfig.CLIENT_ID_CONFIG, "spate-http-acks-" + a.name().toLowerCase(java.util.Locale.ROOT));
            config.put(ProducerConfig.ACKS_CONFIG, switch (a) {
                case NONE -> "0";
                case LEADER -> "1";
                case ALL -> "all";
            });
            // Idempotence needs acks=all; the HTTP request is the unit a client retries anyway.
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, a == Acks.ALL);
            config.put(ProducerConfig.LINGER_MS_CONFIG, 1);
            config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
            return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
        });
    }

    /** A new consumer with no group (the caller assigns and seeks) returning at most {@code maxPollRecords}; the caller closes it. */
    KafkaConsumer<byte[], byte[]> consumer(int maxPollRecords) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "spate-http-reader");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // A position retention has passed resumes at the oldest record kept, not after the newest.
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        // What one poll may bring is what a slow live client may cost the node beyond its socket buffer.
        config.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1 << 20);
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 256 << 10);
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * A new consumer of group {@code groupId} (a REST Proxy v2 consumer instance) named
     * {@code clientId}, with the instance's own settings on top; no auto commit (the instance
     * commits what it handed out). The caller closes it.
     */
    KafkaConsumer<byte[], byte[]> groupConsumer(String groupId, String clientId, Map<String, Object> overrides) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        // What an instance holds (fetched ahead, or polled and not yet handed out) is about a fetch of
        // this per node it fetches from: with 100 instances on a node, that bounds their memory.
        config.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1 << 20);
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1 << 20);
        config.putAll(overrides);
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public synchronized void close() {
        closed = true;
        producers.values().forEach(p -> p.close(Duration.ofSeconds(5)));
        producers.clear();
    }
}
