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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** CreateTopics, with Kafka's validation; {@code validateOnly} checks without creating. */
public final class CreateTopicsHandler implements ApiHandler {
    private final TopicManager topics;
    private final TopicConfigDescriber describer;

    public CreateTopicsHandler(TopicManager topics, TopicConfigDescriber describer) {
        this.topics = topics;
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
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (CreateTopicsRequestData.CreatableTopic requested : data.topics()) {
            CreateTopicsResponseData.CreatableTopicResult result = new CreateTopicsResponseData.CreatableTopicResult().setName(requested.name());
            response.topics().add(result);
            if (!seen.add(requested.name())) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("topic '" + requested.name() + "' appears twice in the request");
                continue;
            }
            // In a cluster each creation completes when the controller quorum has it: the network thread moves on,
            // and the response goes out once every topic of the request is settled.
            pending.add(create(requested, data.validateOnly(), data.timeoutMs()).handle((topic, failure) -> {
                if (failure == null) {
                    if (version >= 5) {
                        result.setNumPartitions(topic.partitions()).setReplicationFactor(topic.replicationFactor());
                        describer.creatableConfigs(topic).forEach(c -> result.configs().add(c));
                    }
                    if (version >= 7 && !data.validateOnly()) {
                        result.setTopicId(TopicIds.toWire(topic.id()));
                    }
                } else {
                    ApiException e = ApiErrors.unwrap(failure);
                    result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
                    if (version >= 5) {
                        result.setNumPartitions(-1).setReplicationFactor((short) -1);
                    }
                }
                return null;
            }));
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(ignored -> response);
    }

    private CompletableFuture<TopicInfo> create(CreateTopicsRequestData.CreatableTopic requested, boolean validateOnly, int timeoutMs) {
        try {
            if (!requested.assignments().isEmpty()) {
                List<List<Integer>> assignment = assignment(requested);
                Map<String, String> overrides = overrides(requested);
                return validateOnly ? CompletableFuture.completedFuture(topics.validateCreate(requested.name(), assignment, overrides))
                        : topics.createAsync(requested.name(), assignment, overrides, timeoutMs);
            }
            return validateOnly ? CompletableFuture.completedFuture(plan(requested, true)) : createPlanned(requested, timeoutMs);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private CompletableFuture<TopicInfo> createPlanned(CreateTopicsRequestData.CreatableTopic requested, int timeoutMs) {
        TopicInfo asked = plan(requested, false);
        // The request's own timeout, as Kafka's controller uses it: past it the client hears REQUEST_TIMED_OUT.
        return topics.createAsync(requested.name(), asked.partitions(), asked.replicationFactor(), asked.overrides(), timeoutMs);
    }

    /**
     * The replicas named for each partition, in partition order: given instead of a count and
     * factor, for partitions 0 to n-1 each named once (Kafka's rules).
     */
    private static List<List<Integer>> assignment(CreateTopicsRequestData.CreatableTopic requested) {
        if (requested.numPartitions() != -1 || requested.replicationFactor() != -1) {
            throw new org.apache.kafka.common.errors.InvalidRequestException("give either a replica assignment or partitions and replication factor, not both");
        }
        int count = requested.assignments().size();
        List<List<Integer>> byPartition = new java.util.ArrayList<>(java.util.Collections.nCopies(count, null));
        for (CreateTopicsRequestData.CreatableReplicaAssignment a : requested.assignments()) {
            int p = a.partitionIndex();
            if (p < 0 || p >= count || byPartition.get(p) != null) {
                throw new InvalidReplicaAssignmentException("partitions must be numbered 0 to " + (count - 1) + ", each once; partition " + p
                        + " is " + (p < 0 || p >= count ? "out of that range" : "named twice"));
            }
            byPartition.set(p, List.copyOf(a.brokerIds()));
        }
        return byPartition;
    }

    /** The settings asked for; one without a value is an invalid config, as in Kafka (not a failure of the node). */
    private static Map<String, String> overrides(CreateTopicsRequestData.CreatableTopic requested) {
        Map<String, String> overrides = new HashMap<>();
        for (CreateTopicsRequestData.CreatableTopicConfig c : requested.configs()) {
            if (c.value() == null) {
                throw new org.apache.kafka.common.errors.InvalidConfigurationException("Null value not supported for topic configs: " + c.name());
            }
            overrides.put(c.name(), c.value());
        }
        return overrides;
    }

    /** The partitions, factor and overrides asked for (validated in full when {@code validate}). */
    private TopicInfo plan(CreateTopicsRequestData.CreatableTopic requested, boolean validate) {
        int partitions = requested.numPartitions();
        short replicationFactor = requested.replicationFactor();
        Map<String, String> overrides = overrides(requested);
        if (validate) {
            return topics.validateCreate(requested.name(), partitions, replicationFactor, overrides);
        }
        return new TopicInfo(requested.name(), TopicInfo.NO_ID, partitions, replicationFactor, overrides);
    }
}
