package io.spate.server.metadata;

import io.spate.log.InvalidConfigException;
import io.spate.log.LogConfig;
import io.spate.server.ServerConfig;
import io.spate.server.partition.ReplicaManager;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.internals.Topic;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Topic administration with every rule a Kafka broker applies: valid names, partition counts
 * and replication factors, known configs with acceptable values. Creates and removes the logs
 * that go with each change.
 */
public final class TopicManager {
    /** Partitions beyond this in one request are refused, to bound the work a request can cause. */
    static final int MAX_PARTITIONS_PER_TOPIC = 10_000;

    private final TopicRegistry registry;
    private final ReplicaManager replicas;
    private final ServerConfig config;
    /** Null on a standalone node; in a cluster every change goes through the controller. */
    private final ClusterControl cluster;

    public TopicManager(TopicRegistry registry, ReplicaManager replicas, ServerConfig config) {
        this(registry, replicas, config, null);
    }

    public TopicManager(TopicRegistry registry, ReplicaManager replicas, ServerConfig config, ClusterControl cluster) {
        this.registry = registry;
        this.replicas = replicas;
        this.config = config;
        this.cluster = cluster;
    }

    public TopicRegistry registry() {
        return registry;
    }

    /** Checks a creation without performing it; returns the partitions and factor it would use. */
    public TopicInfo validateCreate(String name, int partitions, short replicationFactor, Map<String, String> overrides) {
        Topic.validate(name);
        int count = partitions == -1 ? config.numPartitions() : partitions;
        short factor = replicationFactor == -1 ? config.defaultReplicationFactor() : replicationFactor;
        if (count <= 0 || count > MAX_PARTITIONS_PER_TOPIC) {
            throw new InvalidPartitionsException("number of partitions must be between 1 and " + MAX_PARTITIONS_PER_TOPIC + ", not " + count);
        }
        if (factor <= 0) {
            throw new InvalidReplicationFactorException("replication factor must be positive, not " + factor);
        }
        int nodes = cluster == null ? 1 : cluster.liveNodeCount();
        if (factor > nodes) {
            throw new InvalidReplicationFactorException("replication factor " + factor + " is larger than the number of live nodes (" + nodes + ")");
        }
        validateConfig(overrides);
        if (registry.get(name) != null) {
            throw new org.apache.kafka.common.errors.TopicExistsException("topic '" + name + "' already exists");
        }
        return new TopicInfo(name, org.apache.kafka.common.Uuid.ZERO_UUID, count, factor, overrides);
    }

    public TopicInfo create(String name, int partitions, short replicationFactor, Map<String, String> overrides) {
        TopicInfo planned = validateCreate(name, partitions, replicationFactor, overrides);
        if (cluster != null) {
            cluster.createTopic(name, java.util.UUID.randomUUID(), planned.partitions(), planned.replicationFactor(), overrides);
            return registry.get(name);
        }
        TopicInfo created = registry.create(name, planned.partitions(), planned.replicationFactor(), overrides);
        host(created);
        return created;
    }

    /**
     * Creates one of Spate's internal topics ({@link #INTERNAL_TOPICS}), bypassing the user-facing
     * defaults. In a cluster it gets exactly {@code replicationFactor} replicas: while fewer nodes
     * are live it is not created and the caller hears a retriable COORDINATOR_NOT_AVAILABLE, as in
     * Kafka. Capping the factor at the nodes up at that moment would leave the topic
     * under-replicated for good (a cluster's first consumer often arrives while nodes are still
     * starting).
     */
    public TopicInfo createInternal(String name, int partitions, short replicationFactor, Map<String, String> overrides) {
        TopicInfo existing = registry.get(name);
        if (existing != null) {
            return existing;
        }
        if (cluster != null) {
            int live = cluster.liveNodeCount();
            if (replicationFactor > live) {
                throw new org.apache.kafka.common.errors.CoordinatorNotAvailableException("internal topic " + name + " needs "
                        + replicationFactor + " live nodes (offsets.topic.replication.factor) and " + live + " are live; it is created once they are");
            }
            try {
                cluster.createTopic(name, java.util.UUID.randomUUID(), partitions, replicationFactor, overrides);
            } catch (org.apache.kafka.common.errors.TopicExistsException raced) {
                // another node created it first
            }
            return registry.get(name);
        }
        TopicInfo created = registry.create(name, partitions, (short) 1, overrides);
        host(created);
        return created;
    }

    /**
     * Spate's own topics, which clients may not write to (Kafka's rule for its internal topics). Other names
     * starting with "__" are ordinary user topics, as in Kafka: tools such as MirrorMaker and Connect use them.
     */
    static final java.util.Set<String> INTERNAL_TOPICS = java.util.Set.of("__consumer_offsets", "__transaction_state");

    public static boolean isInternal(String name) {
        return INTERNAL_TOPICS.contains(name);
    }

    public void delete(String name) {
        if (cluster != null) {
            cluster.deleteTopic(name);
            return;
        }
        TopicInfo removed = registry.delete(name);
        try {
            replicas.removePartitions(removed);
        } catch (IOException e) {
            throw new KafkaStorageException("topic '" + name + "' was deleted but some of its files remain: " + e.getMessage(), e);
        }
    }

    public TopicInfo addPartitions(String name, int newCount, boolean validateOnly) {
        if (newCount > MAX_PARTITIONS_PER_TOPIC) {
            throw new InvalidPartitionsException("number of partitions must be at most " + MAX_PARTITIONS_PER_TOPIC);
        }
        TopicInfo current = registry.get(name);
        if (current != null && newCount <= current.partitions()) {
            throw new InvalidPartitionsException("topic '" + name + "' has " + current.partitions() + " partitions; the new count must be larger, not " + newCount);
        }
        if (validateOnly) {
            return current;
        }
        if (cluster != null) {
            cluster.addPartitions(name, newCount);
            return registry.get(name);
        }
        TopicInfo updated = registry.addPartitions(name, newCount);
        host(updated);
        return updated;
    }

    public TopicInfo alterConfig(String name, Map<String, String> newOverrides, boolean validateOnly) {
        validateConfig(newOverrides);
        TopicInfo topic = registry.get(name);
        if (validateOnly || topic == null) {
            return topic;
        }
        if (cluster != null) {
            cluster.alterConfig(name, newOverrides);
            return registry.get(name);
        }
        TopicInfo updated = registry.setOverrides(name, newOverrides);
        replicas.applyConfig(updated);
        return updated;
    }

    private void validateConfig(Map<String, String> overrides) {
        Map<String, String> effective = new HashMap<>(registry.topicDefaults());
        effective.putAll(overrides);
        try {
            LogConfig.from(effective);
        } catch (InvalidConfigException e) {
            throw new InvalidConfigurationException(e.getMessage());
        }
    }

    private void host(TopicInfo topic) {
        try {
            replicas.hostPartitions(topic);
        } catch (IOException e) {
            throw new KafkaStorageException("could not create the logs of topic '" + topic.name() + "': " + e.getMessage(), e);
        }
    }
}
