package io.spate.server.metadata;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.Placement;
import io.spate.cluster.TopicState;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Topic changes in a cluster: each is a command through the controller quorum, and returns
 * once this node's own metadata has caught up with it, so that the client's next request to
 * this node already sees the change.
 */
public final class ClusterControl {
    private static final long COMMIT_TIMEOUT_MS = 15_000;

    private final MetadataLog metadata;
    /**
     * Hands commands to the metadata client. The Raft client's async send blocks its caller once too many requests
     * are outstanding (a burst of topic creations): that caller must never be a network thread, which also answers
     * the heartbeats that keep nodes alive.
     */
    private final java.util.concurrent.ExecutorService submitter = java.util.concurrent.Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().name("spate-metadata-submit").daemon().unstarted(r));

    public ClusterControl(MetadataLog metadata) {
        this.metadata = metadata;
    }

    public ClusterImage image() {
        return metadata.image();
    }

    public int liveNodeCount() {
        return metadata.image().liveNodes().size();
    }

    public void createTopic(String name, UUID id, int partitions, short factor, Map<String, String> overrides) {
        await(createTopicAsync(name, id, partitions, factor, overrides));
    }

    /** Completes once the topic exists in this node's image; never blocks the caller (a network thread). */
    public CompletableFuture<CommandResult> createTopicAsync(String name, UUID id, int partitions, short factor, Map<String, String> overrides) {
        return createTopicAsync(name, id, partitions, factor, overrides, COMMIT_TIMEOUT_MS);
    }

    /** As above, failing with a timeout after {@code timeoutMs} (CreateTopics' own timeout); the creation may still happen. */
    public CompletableFuture<CommandResult> createTopicAsync(String name, UUID id, int partitions, short factor, Map<String, String> overrides,
                                                             long timeoutMs) {
        List<Integer> live = metadata.image().liveNodes();
        if (factor > live.size()) {
            return CompletableFuture.failedFuture(new ServiceException(ServiceError.INVALID_REPLICATION_FACTOR,
                    "replication factor " + factor + " is larger than the number of live nodes (" + live.size() + ")"));
        }
        return commitAsync(new MetadataCommand.CreateTopic(name, id, placement(name, partitions, factor, live, overrides), overrides), timeoutMs);
    }

    /**
     * The usual spread, or, for a topic created with {@code spate.colocate.with}, the replicas of the
     * named topic's partition p for partition p, in that topic's order (the same preferred leader:
     * the same election outcome with the same in-sync set, and a preferred-leader rebalance moves
     * both together), filled from the usual spread where it has too few live replicas.
     */
    private List<List<Integer>> placement(String name, int partitions, short factor, List<Integer> live, Map<String, String> overrides) {
        List<List<Integer>> spread = Placement.assign(name, 0, partitions, factor, live);
        String with = overrides.get(io.spate.log.LogConfig.COLOCATE_WITH);
        io.spate.cluster.TopicState anchor = with == null || with.isEmpty() ? null : metadata.image().topic(with);
        if (anchor == null) {
            return spread;
        }
        List<List<Integer>> placed = new java.util.ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            List<Integer> replicas = new java.util.ArrayList<>();
            if (p < anchor.partitions().size()) {
                io.spate.cluster.PartitionState next = anchor.partitions().get(p);
                for (int r : next.replicas()) {
                    if (replicas.size() < factor && !replicas.contains(r) && live.contains(r)) {
                        replicas.add(r);
                    }
                }
            }
            // Too few live replicas there: fill from the usual spread.
            for (int r : spread.get(p)) {
                if (replicas.size() < factor && !replicas.contains(r)) {
                    replicas.add(r);
                }
            }
            for (int r : live) {
                if (replicas.size() < factor && !replicas.contains(r)) {
                    replicas.add(r);
                }
            }
            placed.add(replicas);
        }
        return placed;
    }

    public void deleteTopic(String name) {
        await(deleteTopicAsync(name));
    }

    public CompletableFuture<CommandResult> deleteTopicAsync(String name) {
        return commitAsync(new MetadataCommand.DeleteTopic(name));
    }

    public void addPartitions(String name, int newCount) {
        await(addPartitionsAsync(name, newCount));
    }

    /**
     * A topic with the replicas the client named for each partition ({@code kafka-topics.sh
     * --replica-assignment}); the first of each list is its preferred leader.
     */
    public CompletableFuture<CommandResult> createTopicAsync(String name, UUID id, List<List<Integer>> assignment, Map<String, String> overrides,
                                                             long timeoutMs) {
        ServiceException invalid = invalidAssignment(assignment, assignment.isEmpty() ? 0 : assignment.get(0).size());
        if (invalid != null) {
            return CompletableFuture.failedFuture(invalid);
        }
        return commitAsync(new MetadataCommand.CreateTopic(name, id, assignment, overrides), timeoutMs > 0 ? timeoutMs : COMMIT_TIMEOUT_MS);
    }

    /** New partitions on the replicas the client named, as many per partition as the topic has. */
    public CompletableFuture<CommandResult> addPartitionsAsync(String name, int newCount, List<List<Integer>> assignment) {
        TopicState topic = metadata.image().topic(name);
        if (topic == null) {
            return CompletableFuture.failedFuture(new ServiceException(ServiceError.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + name + "' does not exist"));
        }
        int adding = newCount - topic.partitions().size();
        if (assignment.size() != adding) {
            return CompletableFuture.failedFuture(new ServiceException(ServiceError.INVALID_REPLICA_ASSIGNMENT,
                    "the assignment names " + assignment.size() + " new partition(s), but going to " + newCount + " adds " + adding));
        }
        ServiceException invalid = invalidAssignment(assignment, topic.replicationFactor());
        if (invalid != null) {
            return CompletableFuture.failedFuture(invalid);
        }
        return commitAsync(new MetadataCommand.CreatePartitions(name, topic.partitions().size(), assignment));
    }

    /**
     * What Kafka's controller checks in a manual assignment: every partition has {@code factor}
     * distinct replicas, each a registered node that is not fenced. Null when it holds.
     */
    public ServiceException invalidAssignment(List<List<Integer>> assignment, int factor) {
        if (assignment.isEmpty()) {
            return new ServiceException(ServiceError.INVALID_REPLICA_ASSIGNMENT, "the assignment names no partition");
        }
        ClusterImage image = metadata.image();
        for (int p = 0; p < assignment.size(); p++) {
            List<Integer> replicas = assignment.get(p);
            if (replicas.isEmpty()) {
                return new ServiceException(ServiceError.INVALID_REPLICA_ASSIGNMENT, "partition " + p + " is given no replica");
            }
            if (replicas.size() != factor) {
                return new ServiceException(ServiceError.INVALID_REPLICA_ASSIGNMENT, "partition " + p + " is given " + replicas.size()
                        + " replica(s) where every partition of the topic has " + factor);
            }
            if (replicas.stream().distinct().count() != replicas.size()) {
                return new ServiceException(ServiceError.INVALID_REPLICA_ASSIGNMENT, "partition " + p + " names a node twice: " + replicas);
            }
            for (int id : replicas) {
                io.spate.cluster.NodeInfo node = image.node(id);
                if (node == null) {
                    return new ServiceException(ServiceError.INVALID_REPLICA_ASSIGNMENT, "partition " + p + " names node " + id + ", which is not registered");
                }
                if (node.fenced()) {
                    return new ServiceException(ServiceError.INVALID_REPLICA_ASSIGNMENT, "partition " + p + " names node " + id + ", which is not live");
                }
            }
        }
        return null;
    }

    public CompletableFuture<CommandResult> addPartitionsAsync(String name, int newCount) {
        TopicState topic = metadata.image().topic(name);
        if (topic == null) {
            return CompletableFuture.failedFuture(new ServiceException(ServiceError.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + name + "' does not exist"));
        }
        List<Integer> live = metadata.image().liveNodes();
        int factor = topic.replicationFactor();
        if (factor > live.size()) {
            return CompletableFuture.failedFuture(new ServiceException(ServiceError.INVALID_REPLICATION_FACTOR, "only " + live.size() + " nodes are live; new partitions need " + factor));
        }
        int current = topic.partitions().size();
        return commitAsync(new MetadataCommand.CreatePartitions(name, current, Placement.assign(name, current, newCount - current, factor, live)));
    }

    /** The topic's own settings as this node's image holds them, or null when it knows no such topic. */
    public Map<String, String> topicOverrides(String name) {
        TopicState topic = metadata.image().topic(name);
        return topic == null ? null : topic.overrides();
    }

    /**
     * Replaces the topic's settings with {@code overrides} if the committed ones are still
     * {@code basedOn}. Completes with false, once this node's image holds the settings that
     * replaced {@code basedOn}, when they are not: the caller makes its change again on those.
     */
    public CompletableFuture<Boolean> alterConfigAsync(String name, Map<String, String> basedOn, Map<String, String> overrides) {
        return appliedAsync(new MetadataCommand.AlterTopicConfig(name, overrides, basedOn), COMMIT_TIMEOUT_MS).handle((result, failure) -> {
            if (failure != null) {
                throw refusal(failure, COMMIT_TIMEOUT_MS);
            }
            if (result.error() == CommandResult.Error.STALE_STATE) {
                return false;
            }
            if (!result.succeeded()) {
                throw refusal(result);
            }
            return true;
        });
    }

    /**
     * Sets and deletes single keys of the dynamic settings of {@code nodeId}
     * ({@link io.spate.cluster.ClusterImage#EVERY_NODE}: every node's). The controller quorum applies
     * them to the settings it has committed, so changes to other keys made meanwhile stay.
     */
    public CompletableFuture<CommandResult> alterNodeConfigAsync(int nodeId, Map<String, String> set, java.util.Set<String> deleted) {
        return commitAsync(new MetadataCommand.AlterNodeConfigKeys(nodeId, set, deleted));
    }

    /** Asks for the preferred replica to lead {@code topic}-{@code partition}; completes once applied here. */
    public java.util.concurrent.CompletableFuture<CommandResult> electPreferredLeader(String topic, int partition) {
        return submitAndAwait(new MetadataCommand.ElectPreferredLeader(topic, partition));
    }

    /** Asks for {@code topic}-{@code partition} to move to {@code target} (empty: cancel); completes once applied here. */
    public java.util.concurrent.CompletableFuture<CommandResult> reassign(String topic, int partition, java.util.List<Integer> target) {
        return submitAndAwait(new MetadataCommand.ReassignPartition(topic, partition, target));
    }

    /** Submits without blocking; completes once this node's image holds the command's outcome. */
    private java.util.concurrent.CompletableFuture<CommandResult> submitAndAwait(MetadataCommand command) {
        return CompletableFuture.supplyAsync(() -> metadata.submit(command), submitter).thenCompose(submitted -> submitted).thenCompose(result -> metadata.awaitVersion(result.version()).thenApply(image -> result));
    }

    /** Reserves {@code count} producer ids no other node will hand out; returns the first. */
    public long allocateProducerIds(int nodeId, int count) {
        return await(allocateProducerIdsAsync(nodeId, count)).value();
    }

    public CompletableFuture<CommandResult> allocateProducerIdsAsync(int nodeId, int count) {
        return commitAsync(new MetadataCommand.AllocateProducerIds(nodeId, count));
    }

    /**
     * Submits {@code command} and completes, on a metadata thread, once this node's image holds its outcome: with the
     * result, or with the Kafka exception a client should see. Nothing here waits on the calling thread.
     */
    private CompletableFuture<CommandResult> commitAsync(MetadataCommand command) {
        return commitAsync(command, COMMIT_TIMEOUT_MS);
    }

    private CompletableFuture<CommandResult> commitAsync(MetadataCommand command, long timeoutMs) {
        return appliedAsync(command, timeoutMs)
                .handle((result, failure) -> {
                    if (failure != null) {
                        throw refusal(failure, timeoutMs);
                    }
                    if (!result.succeeded()) {
                        throw refusal(result);
                    }
                    return result;
                });
    }

    /** Submits {@code command} and completes with its result, refused or not, once this node's image holds it. */
    private CompletableFuture<CommandResult> appliedAsync(MetadataCommand command, long timeoutMs) {
        return CompletableFuture.supplyAsync(() -> metadata.submit(command), submitter)
                .thenCompose(submitted -> submitted)
                .thenCompose(result -> metadata.awaitVersion(result.version()).thenApply(image -> result))
                .orTimeout(timeoutMs, TimeUnit.MILLISECONDS);
    }

    private static RuntimeException refusal(Throwable failure, long timeoutMs) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof ServiceException refused) {
            return refused;
        }
        if (cause instanceof java.util.concurrent.TimeoutException) {
            return new ServiceException(ServiceError.TIMED_OUT, "the controller quorum did not commit the change within " + timeoutMs + " ms");
        }
        return new ServiceException(ServiceError.NOT_CONTROLLER, "the controller quorum is not available: " + cause.getMessage());
    }

    /** For callers on threads of their own (never a network thread): waits, and throws what a client should see. */
    private static CommandResult await(CompletableFuture<CommandResult> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private static ServiceException refusal(CommandResult result) {
        ServiceError error = switch (result.error()) {
            case TOPIC_EXISTS -> ServiceError.TOPIC_ALREADY_EXISTS;
            case UNKNOWN_TOPIC -> ServiceError.UNKNOWN_TOPIC_OR_PARTITION;
            case INVALID_PARTITIONS -> ServiceError.INVALID_PARTITIONS;
            case INVALID_REPLICATION_FACTOR -> ServiceError.INVALID_REPLICATION_FACTOR;
            default -> ServiceError.NOT_CONTROLLER;
        };
        return new ServiceException(error, result.message());
    }
}
