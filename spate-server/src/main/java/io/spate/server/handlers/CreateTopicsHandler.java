package io.spate.server.handlers;

import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicManager;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** CreateTopics, with Kafka's validation; {@code validateOnly} checks without creating. */
public final class CreateTopicsHandler implements ApiHandler {
    private final TopicManager topics;
    private final int nodeId;
    private final TopicConfigDescriber describer;

    public CreateTopicsHandler(TopicManager topics, int nodeId, TopicConfigDescriber describer) {
        this.topics = topics;
        this.nodeId = nodeId;
        this.describer = describer;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.CREATE_TOPICS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        CreateTopicsRequestData data = ((CreateTopicsRequest) request).data();
        short version = header.apiVersion();
        CreateTopicsResponseData response = new CreateTopicsResponseData();
        Set<String> seen = new HashSet<>();
        for (CreateTopicsRequestData.CreatableTopic requested : data.topics()) {
            CreateTopicsResponseData.CreatableTopicResult result = new CreateTopicsResponseData.CreatableTopicResult().setName(requested.name());
            if (!seen.add(requested.name())) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("topic '" + requested.name() + "' appears twice in the request");
                response.topics().add(result);
                continue;
            }
            try {
                TopicInfo topic = create(requested, data.validateOnly());
                if (version >= 5) {
                    result.setNumPartitions(topic.partitions()).setReplicationFactor(topic.replicationFactor());
                    describer.creatableConfigs(topic).forEach(c -> result.configs().add(c));
                }
                if (version >= 7 && !data.validateOnly()) {
                    result.setTopicId(topic.id());
                }
            } catch (ApiException e) {
                result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
                if (version >= 5) {
                    result.setNumPartitions(-1).setReplicationFactor((short) -1);
                }
            }
            response.topics().add(result);
        }
        return CompletableFuture.completedFuture(response);
    }

    private TopicInfo create(CreateTopicsRequestData.CreatableTopic requested, boolean validateOnly) {
        int partitions = requested.numPartitions();
        short replicationFactor = requested.replicationFactor();
        if (!requested.assignments().isEmpty()) {
            if (partitions != -1 || replicationFactor != -1) {
                throw new org.apache.kafka.common.errors.InvalidRequestException("give either a replica assignment or partitions and replication factor, not both");
            }
            for (CreateTopicsRequestData.CreatableReplicaAssignment assignment : requested.assignments()) {
                if (!assignment.brokerIds().equals(java.util.List.of(nodeId))) {
                    throw new InvalidReplicaAssignmentException("partition " + assignment.partitionIndex() + " is assigned to brokers " + assignment.brokerIds() + "; the only broker is " + nodeId);
                }
            }
            partitions = requested.assignments().size();
            replicationFactor = 1;
        }
        Map<String, String> overrides = new HashMap<>();
        requested.configs().forEach(c -> overrides.put(c.name(), c.value()));
        if (validateOnly) {
            return topics.validateCreate(requested.name(), partitions, replicationFactor, overrides);
        }
        return topics.create(requested.name(), partitions, replicationFactor, overrides);
    }
}
