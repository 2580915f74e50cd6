package io.spate.server.handlers;

import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicManager;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** DeleteTopics, by name or (v6+) by topic id; the topic's files go with it. */
public final class DeleteTopicsHandler implements ApiHandler {
    private final TopicManager topics;

    public DeleteTopicsHandler(TopicManager topics) {
        this.topics = topics;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DELETE_TOPICS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DeleteTopicsRequestData data = ((DeleteTopicsRequest) request).data();
        short version = header.apiVersion();
        List<DeleteTopicsRequestData.DeleteTopicState> requested = new ArrayList<>();
        if (version >= 6) {
            requested.addAll(data.topics());
        } else {
            data.topicNames().forEach(n -> requested.add(new DeleteTopicsRequestData.DeleteTopicState().setName(n)));
        }
        DeleteTopicsResponseData response = new DeleteTopicsResponseData();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (DeleteTopicsRequestData.DeleteTopicState state : requested) {
            DeleteTopicsResponseData.DeletableTopicResult result = new DeleteTopicsResponseData.DeletableTopicResult().setName(state.name());
            TopicInfo topic = state.name() != null ? topics.registry().get(state.name())
                    : (state.topicId() == null || Uuid.ZERO_UUID.equals(state.topicId()) ? null : topics.registry().get(TopicIds.fromWire(state.topicId())));
            if (topic == null) {
                boolean byId = state.name() == null;
                result.setErrorCode((byId ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code());
                if (version >= 6) {
                    result.setTopicId(state.topicId());
                }
            } else {
                result.setName(topic.name());
                if (version >= 6) {
                    result.setTopicId(TopicIds.toWire(topic.id()));
                }
                // Completes when the controller quorum has the deletion; the network thread does not wait.
                pending.add(topics.deleteAsync(topic.name()).handle((ok, failure) -> {
                    if (failure != null) {
                        ApiException e = ApiErrors.unwrap(failure);
                        result.setErrorCode(Errors.forException(e).code());
                        if (version >= 5) {
                            result.setErrorMessage(e.getMessage());
                        }
                    }
                    return null;
                }));
            }
            response.responses().add(result);
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(ignored -> response);
    }
}
