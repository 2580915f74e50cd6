package io.spate.server.handlers;

import io.spate.cluster.CommandResult;
import io.spate.server.metadata.ClusterControl;
import io.spate.server.metadata.ClusterView;
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
 * partition's preferred replica when it is alive and in sync. Unclean election is refused:
 * Spate only ever elects from the in-sync set.
 */
public final class ElectLeadersHandler implements ApiHandler {
    private static final byte PREFERRED = 0;

    private final TopicRegistry topics;
    private final ClusterView cluster;
    private final ClusterControl control;

    public ElectLeadersHandler(TopicRegistry topics, ClusterView cluster, ClusterControl control) {
        this.topics = topics;
        this.cluster = cluster;
        this.control = control;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ELECT_LEADERS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        ElectLeadersRequestData data = ((ElectLeadersRequest) request).data();
        byte type = header.apiVersion() >= 1 ? data.electionType() : PREFERRED;
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
                ElectLeadersResponseData.PartitionResult result = new ElectLeadersResponseData.PartitionResult().setPartitionId(p);
                topicResult.partitionResult().add(result);
                ClusterView.PartitionView state = cluster.partition(topicName, p);
                if (state == null) {
                    set(result, Errors.UNKNOWN_TOPIC_OR_PARTITION, null);
                } else if (type != PREFERRED) {
                    set(result, state.leader() >= 0 ? Errors.ELECTION_NOT_NEEDED : Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE,
                            state.leader() >= 0 ? null : "unclean leader election is not offered: a leader comes only from the in-sync replicas");
                } else if (state.leader() == state.replicas().get(0)) {
                    set(result, Errors.ELECTION_NOT_NEEDED, null);
                } else if (!state.isr().contains(state.replicas().get(0)) || cluster.broker(state.replicas().get(0)) == null) {
                    set(result, Errors.PREFERRED_LEADER_NOT_AVAILABLE, "the preferred replica is not alive and in sync");
                } else {
                    // Until the controller answers, the partition reads as timed out (what is sent if the wait runs out).
                    set(result, Errors.REQUEST_TIMED_OUT, "the controller did not answer in time");
                    replies.add(control.electPreferredLeader(topicName, p), (outcome, failure) -> {
                        if (failure != null) {
                            set(result, Errors.REQUEST_TIMED_OUT, failure.getMessage());
                        } else if (outcome.error() != CommandResult.Error.NONE) {
                            set(result, Errors.PREFERRED_LEADER_NOT_AVAILABLE, outcome.message());
                        } else {
                            set(result, Errors.NONE, null);
                        }
                    });
                }
            }
        });
        return replies.send(data.timeoutMs());
    }

    private static void set(ElectLeadersResponseData.PartitionResult result, Errors error, String message) {
        result.setErrorCode(error.code()).setErrorMessage(message);
    }
}
