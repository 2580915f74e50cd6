package io.spate.server.handlers;

import io.spate.server.admin.PartitionAdmin;
import io.spate.server.errors.ServiceError;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ElectLeadersRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * ElectLeaders (kafka-leader-election.sh, Admin#electLeaders): moves leadership back to each
 * partition's preferred replica when it is alive and in sync ({@link PartitionAdmin#electLeader}
 * decides). Unclean election is refused: Spate only ever elects from the in-sync set.
 */
public final class ElectLeadersHandler implements ApiHandler {
    private static final byte PREFERRED = 0;

    private final TopicRegistry topics;
    private final PartitionAdmin admin;

    public ElectLeadersHandler(TopicRegistry topics, PartitionAdmin admin) {
        this.topics = topics;
        this.admin = admin;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ELECT_LEADERS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        ElectLeadersRequestData data = ((ElectLeadersRequest) request).data();
        boolean preferred = (header.apiVersion() >= 1 ? data.electionType() : PREFERRED) == PREFERRED;
        Map<String, List<Integer>> wanted = new LinkedHashMap<>();
        if (data.topicPartitions() == null) {
            for (TopicInfo topic : topics.all()) {
                List<Integer> all = new ArrayList<>();
                for (int p = 0; p < topic.partitions(); p++) {
                    all.add(p);
                }
                wanted.put(topic.name(), all);
            }
        } else {
            data.topicPartitions().forEach(tp -> wanted.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).addAll(tp.partitions()));
        }
        ElectLeadersResponseData response = new ElectLeadersResponseData().setErrorCode(Errors.NONE.code());
        ControllerReplies<ElectLeadersResponseData> replies = new ControllerReplies<>(response);
        wanted.forEach((topicName, partitions) -> {
            ElectLeadersResponseData.ReplicaElectionResult topicResult = new ElectLeadersResponseData.ReplicaElectionResult().setTopic(topicName);
            response.replicaElectionResults().add(topicResult);
            for (int p : partitions) {
                // Until the controller answers, the partition reads as timed out (what is sent if the wait runs out).
                ElectLeadersResponseData.PartitionResult result = new ElectLeadersResponseData.PartitionResult().setPartitionId(p)
                        .setErrorCode(Errors.REQUEST_TIMED_OUT.code()).setErrorMessage("the controller did not answer in time");
                topicResult.partitionResult().add(result);
                replies.add(admin.electLeader(topicName, p, preferred), (outcome, failure) -> {
                    PartitionAdmin.Outcome settled = failure == null ? outcome : new PartitionAdmin.Outcome(
                            ServiceError.TIMED_OUT, failure.getMessage());
                    result.setErrorCode(KafkaErrors.of(settled.error()).code()).setErrorMessage(settled.message());
                });
            }
        });
        return replies.send(data.timeoutMs());
    }
}
