package io.spate.server.handlers;

import io.spate.cluster.CommandResult;
import io.spate.cluster.PartitionState;
import io.spate.server.metadata.ClusterControl;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignablePartitionResponse;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignableTopicResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AlterPartitionReassignmentsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * AlterPartitionReassignments ({@code kafka-reassign-partitions.sh --execute},
 * Admin#alterPartitionReassignments): starts moving partitions to other replicas, or cancels a
 * move (null replicas). The answer comes once the controller has recorded the move; the copying
 * runs on afterwards, and ListPartitionReassignments shows it until it completes.
 */
public final class AlterPartitionReassignmentsHandler implements ApiHandler {
    private final ClusterControl control;

    public AlterPartitionReassignmentsHandler(ClusterControl control) {
        this.control = control;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ALTER_PARTITION_REASSIGNMENTS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        AlterPartitionReassignmentsRequestData data = ((AlterPartitionReassignmentsRequest) request).data();
        boolean mayChangeFactor = header.apiVersion() < 1 || data.allowReplicationFactorChange();
        AlterPartitionReassignmentsResponseData response = new AlterPartitionReassignmentsResponseData()
                .setErrorCode(Errors.NONE.code())
                .setAllowReplicationFactorChange(mayChangeFactor);
        ControllerReplies<AlterPartitionReassignmentsResponseData> replies = new ControllerReplies<>(response);
        for (AlterPartitionReassignmentsRequestData.ReassignableTopic topic : data.topics()) {
            ReassignableTopicResponse topicResponse = new ReassignableTopicResponse().setName(topic.name());
            response.responses().add(topicResponse);
            for (AlterPartitionReassignmentsRequestData.ReassignablePartition partition : topic.partitions()) {
                ReassignablePartitionResponse result = new ReassignablePartitionResponse().setPartitionIndex(partition.partitionIndex());
                topicResponse.partitions().add(result);
                PartitionState state = control.image().partition(topic.name(), partition.partitionIndex());
                List<Integer> target = partition.replicas() == null ? List.of() : partition.replicas();
                if (state == null) {
                    set(result, Errors.UNKNOWN_TOPIC_OR_PARTITION, null);
                } else if (partition.replicas() != null && target.isEmpty()) {
                    set(result, Errors.INVALID_REPLICA_ASSIGNMENT, "a partition needs at least one replica");
                } else if (!mayChangeFactor && !target.isEmpty() && target.size() != state.originalReplicas().size()) {
                    set(result, Errors.INVALID_REPLICATION_FACTOR, "the request does not allow changing the replication factor from "
                            + state.originalReplicas().size() + " to " + target.size());
                } else {
                    set(result, Errors.REQUEST_TIMED_OUT, "the controller did not answer in time");
                    replies.add(control.reassign(topic.name(), partition.partitionIndex(), target), (outcome, failure) -> {
                        if (failure != null) {
                            set(result, Errors.REQUEST_TIMED_OUT, failure.getMessage());
                        } else {
                            set(result, errorOf(outcome.error()), outcome.succeeded() ? null : outcome.message());
                        }
                    });
                }
            }
        }
        return replies.send(data.timeoutMs());
    }

    private static Errors errorOf(CommandResult.Error error) {
        return switch (error) {
            case NONE -> Errors.NONE;
            case UNKNOWN_TOPIC -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
            case NO_REASSIGNMENT -> Errors.NO_REASSIGNMENT_IN_PROGRESS;
            default -> Errors.INVALID_REPLICA_ASSIGNMENT;
        };
    }

    private static void set(ReassignablePartitionResponse result, Errors error, String message) {
        result.setErrorCode(error.code()).setErrorMessage(message);
    }
}
