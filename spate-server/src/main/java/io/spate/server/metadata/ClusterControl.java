package io.spate.server.metadata;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.Placement;
import io.spate.cluster.TopicState;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.NotControllerException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Topic changes in a cluster: each is a command through the controller quorum, and returns
 * once this node's own metadata has caught up with it, so that the client's next request to
 * this node already sees the change.
 */
public final class ClusterControl {
    private static final long COMMIT_TIMEOUT_MS = 15_000;

    private final MetadataLog metadata;

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
        List<Integer> live = metadata.image().liveNodes();
        if (factor > live.size()) {
            throw new InvalidReplicationFactorException("replication factor " + factor + " is larger than the number of live nodes (" + live.size() + ")");
        }
        commit(new MetadataCommand.CreateTopic(name, id, Placement.assign(name, 0, partitions, factor, live), overrides));
    }

    public void deleteTopic(String name) {
        commit(new MetadataCommand.DeleteTopic(name));
    }

    public void addPartitions(String name, int newCount) {
        TopicState topic = metadata.image().topic(name);
        if (topic == null) {
            throw new UnknownTopicOrPartitionException("topic '" + name + "' does not exist");
        }
        List<Integer> live = metadata.image().liveNodes();
        int factor = topic.replicationFactor();
        if (factor > live.size()) {
            throw new InvalidReplicationFactorException("only " + live.size() + " nodes are live; new partitions need " + factor);
        }
        int current = topic.partitions().size();
        commit(new MetadataCommand.CreatePartitions(name, Placement.assign(name, current, newCount - current, factor, live)));
    }

    public void alterConfig(String name, Map<String, String> overrides) {
        commit(new MetadataCommand.AlterTopicConfig(name, overrides));
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
        return metadata.submit(command).thenCompose(result -> metadata.awaitVersion(result.version()).thenApply(image -> result));
    }

    /** Reserves {@code count} producer ids no other node will hand out; returns the first. */
    public long allocateProducerIds(int nodeId, int count) {
        return commit(new MetadataCommand.AllocateProducerIds(nodeId, count)).value();
    }

    private CommandResult commit(MetadataCommand command) {
        CommandResult result;
        try {
            result = metadata.submit(command).get(COMMIT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            metadata.awaitVersion(result.version()).get(COMMIT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TimeoutException("interrupted while waiting for the controller");
        } catch (java.util.concurrent.TimeoutException e) {
            throw new TimeoutException("the controller quorum did not commit the change within " + COMMIT_TIMEOUT_MS + " ms");
        } catch (ExecutionException e) {
            throw new NotControllerException("the controller quorum is not available: " + e.getCause().getMessage());
        }
        if (!result.succeeded()) {
            throw toKafka(result);
        }
        return result;
    }

    private static ApiException toKafka(CommandResult result) {
        return switch (result.error()) {
            case TOPIC_EXISTS -> new TopicExistsException(result.message());
            case UNKNOWN_TOPIC -> new UnknownTopicOrPartitionException(result.message());
            case INVALID_PARTITIONS -> new InvalidPartitionsException(result.message());
            case INVALID_REPLICATION_FACTOR -> new InvalidReplicationFactorException(result.message());
            default -> new NotControllerException(result.message());
        };
    }
}
