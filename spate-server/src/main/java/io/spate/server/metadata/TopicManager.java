package io.spate.server.metadata;

import io.spate.log.InvalidConfigException;
import io.spate.log.LogConfig;
import io.spate.server.ServerConfig;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * Topic administration with every rule a Kafka broker applies: valid names, partition counts
 * and replication factors, known configs with acceptable values. Creates and removes the logs
 * that go with each change.
 */
public final class TopicManager {
    /** Partitions beyond this in one request are refused, to bound the work a request can cause. */
    static final int MAX_PARTITIONS_PER_TOPIC = 10_000;

    private final TopicRegistry registry;
    private final ServerConfig config;
    /** Every change goes through the controller quorum (a standalone node's is its own, of one voter). */
    private final ClusterControl cluster;

    public TopicManager(TopicRegistry registry, ServerConfig config, ClusterControl cluster) {
        this.registry = registry;
        this.config = config;
        this.cluster = cluster;
    }

    public TopicRegistry registry() {
        return registry;
    }

    /** Checks a creation without performing it; returns the partitions and factor it would use. */
    public TopicInfo validateCreate(String name, int partitions, short replicationFactor, Map<String, String> overrides) {
        TopicNames.validate(name);
        int count = partitions == -1 ? config.numPartitions() : partitions;
        short factor = replicationFactor == -1 ? config.defaultReplicationFactor() : replicationFactor;
        if (count <= 0 || count > MAX_PARTITIONS_PER_TOPIC) {
            throw new ServiceException(ServiceError.INVALID_PARTITIONS, "number of partitions must be between 1 and " + MAX_PARTITIONS_PER_TOPIC + ", not " + count);
        }
        if (factor <= 0) {
            throw new ServiceException(ServiceError.INVALID_REPLICATION_FACTOR, "replication factor must be positive, not " + factor);
        }
        int nodes = cluster.liveNodeCount();
        if (factor > nodes) {
            throw new ServiceException(ServiceError.INVALID_REPLICATION_FACTOR, "replication factor " + factor + " is larger than the number of live nodes (" + nodes + ")");
        }
        validateConfig(overrides);
        if (registry.get(name) != null) {
            throw new ServiceException(ServiceError.TOPIC_ALREADY_EXISTS, "topic '" + name + "' already exists");
        }
        return new TopicInfo(name, TopicInfo.NO_ID, count, factor, overrides);
    }

    public TopicInfo create(String name, int partitions, short replicationFactor, Map<String, String> overrides) {
        return join(createAsync(name, partitions, replicationFactor, overrides));
    }

    /**
     * Creates a topic without blocking the caller: the future completes, on a metadata thread, once the
     * controller quorum committed the topic and this node's image holds it. Validation failures come back as a
     * failed future too.
     */
    public CompletableFuture<TopicInfo> createAsync(String name, int partitions, short replicationFactor, Map<String, String> overrides) {
        return createAsync(name, partitions, replicationFactor, overrides, 0);
    }

    /** As above, with CreateTopics' timeout (0 or less: the default wait for the controller). */
    public CompletableFuture<TopicInfo> createAsync(String name, int partitions, short replicationFactor, Map<String, String> overrides,
                                                    long timeoutMs) {
        TopicInfo planned;
        try {
            planned = validateCreate(name, partitions, replicationFactor, overrides);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        java.util.UUID id = java.util.UUID.randomUUID();
        return (timeoutMs > 0 ? cluster.createTopicAsync(name, id, planned.partitions(), planned.replicationFactor(), overrides, timeoutMs)
                : cluster.createTopicAsync(name, id, planned.partitions(), planned.replicationFactor(), overrides))
                .thenApply(result -> registry.get(name));
    }

    /**
     * Checks a creation with the replicas named per partition ({@code kafka-topics.sh
     * --replica-assignment}) without performing it; returns the partitions and factor it would use.
     */
    public TopicInfo validateCreate(String name, java.util.List<java.util.List<Integer>> assignment, Map<String, String> overrides) {
        TopicNames.validate(name);
        if (assignment.size() > MAX_PARTITIONS_PER_TOPIC) {
            throw new ServiceException(ServiceError.INVALID_PARTITIONS, "number of partitions must be at most " + MAX_PARTITIONS_PER_TOPIC);
        }
        ServiceException invalid = cluster.invalidAssignment(assignment, assignment.isEmpty() ? 0 : assignment.get(0).size());
        if (invalid != null) {
            throw invalid;
        }
        validateConfig(overrides);
        if (registry.get(name) != null) {
            throw new ServiceException(ServiceError.TOPIC_ALREADY_EXISTS, "topic '" + name + "' already exists");
        }
        return new TopicInfo(name, TopicInfo.NO_ID, assignment.size(), (short) assignment.get(0).size(), overrides);
    }

    /** Creates a topic on the replicas named per partition; as {@link #createAsync} otherwise. */
    public CompletableFuture<TopicInfo> createAsync(String name, java.util.List<java.util.List<Integer>> assignment, Map<String, String> overrides,
                                                    long timeoutMs) {
        try {
            validateCreate(name, assignment, overrides);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return cluster.createTopicAsync(name, java.util.UUID.randomUUID(), assignment, overrides, timeoutMs).thenApply(result -> registry.get(name));
    }

    /** Waits for {@code future}, throwing what it failed with (for callers that are not network threads). */
    private static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
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
        return join(createInternalAsync(name, partitions, replicationFactor, overrides));
    }

    /** As {@link #createInternal}, completing (in a cluster) once the controller quorum has the topic; never blocks. */
    public CompletableFuture<TopicInfo> createInternalAsync(String name, int partitions, short replicationFactor, Map<String, String> overrides) {
        TopicInfo existing = registry.get(name);
        if (existing != null) {
            return CompletableFuture.completedFuture(existing);
        }
        int live = cluster.liveNodeCount();
        if (replicationFactor > live) {
            return CompletableFuture.failedFuture(new ServiceException(ServiceError.COORDINATOR_NOT_AVAILABLE, "internal topic " + name
                    + " needs " + replicationFactor + " live nodes (offsets.topic.replication.factor) and " + live + " are live; it is created once they are"));
        }
        return cluster.createTopicAsync(name, java.util.UUID.randomUUID(), partitions, replicationFactor, overrides).handle((result, failure) -> {
            if (failure != null && ServiceException.errorOf(failure, ServiceError.UNKNOWN) != ServiceError.TOPIC_ALREADY_EXISTS) {
                throw failure instanceof java.util.concurrent.CompletionException c ? c : new java.util.concurrent.CompletionException(failure);
            }
            // created, or another node created it first
            return registry.get(name);
        });
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
        join(deleteAsync(name));
    }

    public CompletableFuture<Void> deleteAsync(String name) {
        return cluster.deleteTopicAsync(name).thenApply(result -> null);
    }

    public TopicInfo addPartitions(String name, int newCount, boolean validateOnly) {
        return join(addPartitionsAsync(name, newCount, validateOnly));
    }

    public CompletableFuture<TopicInfo> addPartitionsAsync(String name, int newCount, boolean validateOnly) {
        ServiceException refused = invalidNewCount(name, newCount);
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        TopicInfo current = registry.get(name);
        if (validateOnly) {
            return CompletableFuture.completedFuture(current);
        }
        return cluster.addPartitionsAsync(name, newCount).thenApply(result -> registry.get(name));
    }

    /** Why a topic cannot grow to {@code newCount} partitions, or null when it can. */
    private ServiceException invalidNewCount(String name, int newCount) {
        if (newCount > MAX_PARTITIONS_PER_TOPIC) {
            return new ServiceException(ServiceError.INVALID_PARTITIONS, "number of partitions must be at most " + MAX_PARTITIONS_PER_TOPIC);
        }
        TopicInfo current = registry.get(name);
        if (current != null && newCount <= current.partitions()) {
            return new ServiceException(ServiceError.INVALID_PARTITIONS,
                    "topic '" + name + "' has " + current.partitions() + " partitions; the new count must be larger, not " + newCount);
        }
        return null;
    }

    /** New partitions on the replicas named for each ({@code kafka-topics.sh --alter --replica-assignment}). */
    public CompletableFuture<TopicInfo> addPartitionsAsync(String name, int newCount, boolean validateOnly,
                                                           java.util.List<java.util.List<Integer>> assignment) {
        ServiceException refused = invalidNewCount(name, newCount);
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        TopicInfo current = registry.get(name);
        if (validateOnly) {
            ServiceException invalid = current == null ? null : assignment.size() != newCount - current.partitions()
                    ? new ServiceException(ServiceError.INVALID_REPLICA_ASSIGNMENT, "the assignment names " + assignment.size()
                            + " new partition(s), but going to " + newCount + " adds " + (newCount - current.partitions()))
                    : cluster.invalidAssignment(assignment, current.replicationFactor());
            return invalid != null ? CompletableFuture.failedFuture(invalid) : CompletableFuture.completedFuture(current);
        }
        return cluster.addPartitionsAsync(name, newCount, assignment).thenApply(result -> registry.get(name));
    }

    /**
     * Changes a topic's settings by {@code change}, which is given the committed settings (the
     * topic's own, without the node's defaults) and returns the new ones; the result is validated
     * whole. The controller quorum applies the result only on the settings it was computed from:
     * when another change got in first, {@code change} runs again on the newer settings (at most
     * {@link #CONFIG_CHANGE_ATTEMPTS} times), so that neither change undoes the other. Completes
     * with the topic as this node then knows it; null when there is no such topic.
     */
    public CompletableFuture<TopicInfo> alterConfigAsync(String name, UnaryOperator<Map<String, String>> change, boolean validateOnly) {
        return alterConfigAsync(name, change, validateOnly, CONFIG_CHANGE_ATTEMPTS);
    }

    /** How often a topic's settings change is made again on settings that changed under it before it gives up (busy topics). */
    static final int CONFIG_CHANGE_ATTEMPTS = 5;

    private CompletableFuture<TopicInfo> alterConfigAsync(String name, UnaryOperator<Map<String, String>> change, boolean validateOnly,
                                                          int attemptsLeft) {
        Map<String, String> base = cluster.topicOverrides(name);
        if (base == null) {
            return CompletableFuture.completedFuture(null);
        }
        Map<String, String> updated;
        try {
            updated = change.apply(Map.copyOf(base));
            validateConfig(updated);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (validateOnly) {
            return CompletableFuture.completedFuture(registry.get(name));
        }
        return cluster.alterConfigAsync(name, base, updated).thenCompose(applied -> {
            if (applied) {
                return CompletableFuture.completedFuture(registry.get(name));
            }
            if (attemptsLeft <= 1) {
                // Retriable for the client, which asks again (as after a controller's timeout).
                return CompletableFuture.failedFuture(new ServiceException(ServiceError.TIMED_OUT,
                        "the settings of topic '" + name + "' kept changing under this change; try again"));
            }
            return alterConfigAsync(name, change, false, attemptsLeft - 1);
        });
    }

    /**
     * Sets and deletes single keys of a node's (or every node's) dynamic settings, validated by the
     * caller; see {@link ClusterControl#alterNodeConfigAsync}. Completes once committed.
     */
    public CompletableFuture<Void> alterNodeConfigAsync(int nodeId, Map<String, String> set, java.util.Set<String> deleted, boolean validateOnly) {
        if (validateOnly) {
            return CompletableFuture.completedFuture(null);
        }
        return cluster.alterNodeConfigAsync(nodeId, set, deleted).thenApply(result -> null);
    }

    private void validateConfig(Map<String, String> overrides) {
        Map<String, String> effective = new HashMap<>(registry.topicDefaults());
        effective.putAll(overrides);
        try {
            LogConfig.from(effective);
        } catch (InvalidConfigException e) {
            throw new ServiceException(ServiceError.INVALID_CONFIG, e.getMessage());
        }
    }
}
