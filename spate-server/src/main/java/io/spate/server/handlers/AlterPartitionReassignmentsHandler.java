package io.spate.server.handlers;

import io.spate.server.admin.PartitionAdmin;
import io.spate.server.errors.ServiceError;
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

import java.util.concurrent.CompletableFuture;

/**
 * AlterPartitionReassignments ({@code kafka-reassign-partitions.sh --execute},
 * Admin#alterPartitionReassignments): starts moving partitions to other replicas, or cancels a
 * move (null replicas); {@link PartitionAdmin#reassign} decides. The answer comes once the controller has recorded the move; the copying
 * runs on afterwards, and ListPartitionReassignments shows it until it completes.
 */
public final class AlterPartitionReassignmentsHandler implements ApiHandler {
    private final PartitionAdmin admin;

    public AlterPartitionReassignmentsHandler(PartitionAdmin admin) {
        this.admin = admin;
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
                // Until the controller answers, the partition reads as timed out (what is sent if the wait runs out).
                ReassignablePartitionResponse result = new ReassignablePartitionResponse().setPartitionIndex(partition.partitionIndex())
                        .setErrorCode(Errors.REQUEST_TIMED_OUT.code()).setErrorMessage("the controller did not answer in time");
                topicResponse.partitions().add(result);
                replies.add(admin.reassign(topic.name(), partition.partitionIndex(), partition.replicas(), mayChangeFactor), (outcome, failure) -> {
                    PartitionAdmin.Outcome settled = failure == null ? outcome : new PartitionAdmin.Outcome(ServiceError.TIMED_OUT, failure.getMessage());
                    result.setErrorCode(KafkaErrors.of(settled.error()).code()).setErrorMessage(settled.message());
                });
            }
        }
        return replies.send(data.timeoutMs());
    }
}
