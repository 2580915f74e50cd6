package io.spate.server.handlers;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.PartitionState;
import io.spate.cluster.TopicState;
import io.spate.server.metadata.ClusterControl;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingPartitionReassignment;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingTopicReassignment;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ListPartitionReassignmentsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * ListPartitionReassignments ({@code kafka-reassign-partitions.sh --verify},
 * Admin#listPartitionReassignments): the moves still running, from this node's metadata image.
 */
public final class ListPartitionReassignmentsHandler implements ApiHandler {
    private final ClusterControl control;

    public ListPartitionReassignmentsHandler(ClusterControl control) {
        this.control = control;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.LIST_PARTITION_REASSIGNMENTS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        ListPartitionReassignmentsRequestData data = ((ListPartitionReassignmentsRequest) request).data();
        ListPartitionReassignmentsResponseData response = new ListPartitionReassignmentsResponseData().setErrorCode(Errors.NONE.code());
        ClusterImage image = control.image();
        TreeMap<String, List<Integer>> wanted = new TreeMap<>();
        if (data.topics() == null) {
            for (TopicState topic : image.topics().values()) {
                List<Integer> all = new ArrayList<>();
                for (int p = 0; p < topic.partitions().size(); p++) {
                    all.add(p);
                }
                wanted.put(topic.name(), all);
            }
        } else {
            data.topics().forEach(t -> wanted.computeIfAbsent(t.name(), n -> new ArrayList<>()).addAll(t.partitionIndexes()));
        }
        wanted.forEach((name, partitions) -> {
            OngoingTopicReassignment topic = new OngoingTopicReassignment().setName(name);
            for (int p : partitions) {
                PartitionState state = image.partition(name, p);
                if (state != null && state.reassigning()) {
                    topic.partitions().add(new OngoingPartitionReassignment().setPartitionIndex(p)
                            .setReplicas(state.replicas()).setAddingReplicas(state.adding()).setRemovingReplicas(state.removing()));
                }
            }
            if (!topic.partitions().isEmpty()) {
                response.topics().add(topic);
            }
        });
        return CompletableFuture.completedFuture(response);
    }
}
