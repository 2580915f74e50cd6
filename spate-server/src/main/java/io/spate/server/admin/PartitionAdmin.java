package io.spate.server.admin;

import io.spate.cluster.CommandResult;
import io.spate.cluster.PartitionState;
import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.replication.Partition;
import io.spate.server.errors.ServiceError;
import io.spate.server.metadata.ClusterControl;
import io.spate.server.metadata.ClusterView;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.partition.ReplicaManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Administration of partitions: preferred leader elections, replica moves and record deletion,
 * with the rules a Kafka broker applies, answered in Spate's own words. The protocol handlers
 * (ElectLeaders, AlterPartitionReassignments, DeleteRecords) only decode, call this, and encode.
 */
public final class PartitionAdmin {
    private static final Logger log = LoggerFactory.getLogger(PartitionAdmin.class);

    /** What became of one partition's request: {@link ServiceError#NONE}, or why not, with a message for the operator. */
    public record Outcome(ServiceError error, String message) {
        public static final Outcome DONE = new Outcome(ServiceError.NONE, null);

        static CompletableFuture<Outcome> now(ServiceError error, String message) {
            return CompletableFuture.completedFuture(new Outcome(error, message));
        }
    }

    /** What DeleteRecords did to one partition: its log start after the call (-1 when refused), and whether it moved. */
    public record Deleted(ServiceError error, long lowWatermark, boolean moved) {
    }

    private final TopicRegistry topics;
    private final ClusterView cluster;
    private final ClusterControl control;
    private final ReplicaManager replicas;

    public PartitionAdmin(TopicRegistry topics, ClusterView cluster, ClusterControl control, ReplicaManager replicas) {
        this.topics = topics;
        this.cluster = cluster;
        this.control = control;
        this.replicas = replicas;
    }

    /**
     * A leader election for {@code topic}-{@code partition}. Only the preferred kind is offered: a
     * leader comes from the in-sync replicas alone, so an unclean election is refused. Completes
     * once the controller's decision is in this node's image.
     */
    public CompletableFuture<Outcome> electLeader(String topic, int partition, boolean preferred) {
        ClusterView.PartitionView state = cluster.partition(topic, partition);
        if (state == null) {
            return Outcome.now(ServiceError.UNKNOWN_TOPIC_OR_PARTITION, null);
        }
        if (!preferred) {
            return state.leader() >= 0 ? Outcome.now(ServiceError.ELECTION_NOT_NEEDED, null)
                    : Outcome.now(ServiceError.ELIGIBLE_LEADERS_NOT_AVAILABLE,
                    "unclean leader election is not offered: a leader comes only from the in-sync replicas");
        }
        int first = state.replicas().get(0);
        if (state.leader() == first) {
            return Outcome.now(ServiceError.ELECTION_NOT_NEEDED, null);
        }
        if (!state.isr().contains(first) || cluster.broker(first) == null) {
            return Outcome.now(ServiceError.PREFERRED_LEADER_NOT_AVAILABLE, "the preferred replica is not alive and in sync");
        }
        return control.electPreferredLeader(topic, partition).handle((outcome, failure) -> {
            if (failure != null) {
                return new Outcome(ServiceError.TIMED_OUT, failure.getMessage());
            }
            return outcome.error() == CommandResult.Error.NONE ? Outcome.DONE
                    : new Outcome(ServiceError.PREFERRED_LEADER_NOT_AVAILABLE, outcome.message());
        });
    }

    /**
     * Moves {@code topic}-{@code partition} to the replicas {@code target}; null or empty cancels
     * a move under way (null: the request named none, empty: it named an empty list, which is
     * refused). {@code mayChangeFactor}: whether the move may change the number of replicas.
     */
    public CompletableFuture<Outcome> reassign(String topic, int partition, List<Integer> target, boolean mayChangeFactor) {
        PartitionState state = control.image().partition(topic, partition);
        List<Integer> wanted = target == null ? List.of() : target;
        if (state == null) {
            return Outcome.now(ServiceError.UNKNOWN_TOPIC_OR_PARTITION, null);
        }
        if (target != null && wanted.isEmpty()) {
            return Outcome.now(ServiceError.INVALID_REPLICA_ASSIGNMENT, "a partition needs at least one replica");
        }
        if (!mayChangeFactor && !wanted.isEmpty() && wanted.size() != state.originalReplicas().size()) {
            return Outcome.now(ServiceError.INVALID_REPLICATION_FACTOR, "the request does not allow changing the replication factor from "
                    + state.originalReplicas().size() + " to " + wanted.size());
        }
        return control.reassign(topic, partition, wanted).handle((outcome, failure) -> {
            if (failure != null) {
                return new Outcome(ServiceError.TIMED_OUT, failure.getMessage());
            }
            ServiceError error = switch (outcome.error()) {
                case NONE -> ServiceError.NONE;
                case UNKNOWN_TOPIC -> ServiceError.UNKNOWN_TOPIC_OR_PARTITION;
                case NO_REASSIGNMENT -> ServiceError.NO_REASSIGNMENT_IN_PROGRESS;
                default -> ServiceError.INVALID_REPLICA_ASSIGNMENT;
            };
            return new Outcome(error, outcome.succeeded() ? null : outcome.message());
        });
    }

    /**
     * Moves the log start of {@code topic}-{@code partition} up to {@code offset} (-1: its high
     * watermark; any other negative offset is out of range), on its leader. Records of a topic that only compacts are removed by compaction
     * alone, as in Kafka. Call {@link #checkpointLogStarts} once after the moves of one request.
     */
    public Deleted deleteRecordsBefore(String topic, int partitionIndex, long offset) {
        TopicInfo info = topics.get(topic);
        if (info == null || partitionIndex < 0 || partitionIndex >= info.partitions()) {
            return new Deleted(ServiceError.UNKNOWN_TOPIC_OR_PARTITION, -1, false);
        }
        Partition partition = replicas.partition(info.name(), partitionIndex);
        if (!replicas.servesAsLeader(partition)) {
            return new Deleted(ServiceError.NOT_LEADER, -1, false);
        }
        PartitionLog partitionLog = partition.log();
        if (partitionLog.config().compact() && !partitionLog.config().delete()) {
            return new Deleted(ServiceError.POLICY_VIOLATION, -1, false);
        }
        try {
            long before = partitionLog.logStartOffset();
            long lowWatermark = partitionLog.deleteRecordsBefore(offset);
            return new Deleted(ServiceError.NONE, lowWatermark, partitionLog.logStartOffset() != before);
        } catch (IllegalArgumentException e) {
            return new Deleted(ServiceError.OFFSET_OUT_OF_RANGE, -1, false);
        } catch (IOException e) {
            log.error("{}: DeleteRecords failed", partition.topicPartition(), e);
            return new Deleted(ServiceError.STORAGE_ERROR, -1, false);
        }
    }

    /**
     * Waits until every in-sync replica of the partition moved its log start to {@code offset}
     * (Kafka's low watermark; followers move theirs with their next fetch) and answers with the
     * low watermark; TIMED_OUT after {@code timeoutMs}, NOT_LEADER if leadership moved meanwhile.
     */
    public CompletableFuture<Deleted> awaitLowWatermark(String topic, int partitionIndex, long offset, long timeoutMs) {
        TopicInfo info = topics.get(topic);
        if (info == null || partitionIndex < 0 || partitionIndex >= info.partitions()) {
            return CompletableFuture.completedFuture(new Deleted(ServiceError.UNKNOWN_TOPIC_OR_PARTITION, -1, false));
        }
        Partition partition = replicas.partition(info.name(), partitionIndex);
        return partition.awaitLowWatermark(offset, timeoutMs).handle((low, failure) -> {
            if (failure == null) {
                return new Deleted(ServiceError.NONE, low, true);
            }
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            return new Deleted(cause instanceof java.util.concurrent.TimeoutException ? ServiceError.TIMED_OUT : ServiceError.NOT_LEADER, -1, false);
        });
    }

    /**
     * Makes moved log starts durable before the request is answered (a restart must not bring
     * deleted records back), on the log manager's duty thread; completes at once when the
     * manager runs no duties (it is closing).
     */
    public CompletableFuture<Void> checkpointLogStarts() {
        LogManager logManager = replicas.logManager();
        CompletableFuture<Void> done = new CompletableFuture<>();
        boolean scheduled = logManager.schedule(() -> {
            try {
                logManager.writeCheckpoints();
            } finally {
                done.complete(null);
            }
        }, 0);
        if (!scheduled) {
            done.complete(null);
        }
        return done;
    }
}
