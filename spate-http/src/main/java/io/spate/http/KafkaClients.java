package io.spate.http;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.util.HashMap;
import java.util.Map;

/**
 * The Kafka clients the API uses for what this node does not hold: connections to the leaders of
 * partitions led elsewhere (writes go to them directly, see {@link LeaderForwarder}), and
 * consumers, one per read or live stream, for partitions it holds no replica of, which bootstrap
 * from this node's own listener.
 */
final class KafkaClients implements AutoCloseable {
    private final String bootstrap;
    private final LeaderForwarder forwarder = new LeaderForwarder("spate-http-forwarder");

    KafkaClients(String bootstrap) {
        this.bootstrap = bootstrap;
    }

    /** Sends a partition's records to the node leading it (shared by all requests). */
    LeaderForwarder forwarder() {
        return forwarder;
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
    public void close() {
        forwarder.close();
    }
}
