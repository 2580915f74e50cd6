package io.spate.server.handlers;

import io.spate.server.errors.ServiceException;
import io.spate.server.metadata.TopicManager;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.CreatePartitionsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** CreatePartitions: grows a topic; keys then spread over more partitions, as in Kafka. */
public final class CreatePartitionsHandler implements ApiHandler {
    private final TopicManager topics;

    public CreatePartitionsHandler(TopicManager topics) {
        this.topics = topics;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.CREATE_PARTITIONS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        CreatePartitionsRequestData data = ((CreatePartitionsRequest) request).data();
        CreatePartitionsResponseData response = new CreatePartitionsResponseData();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (CreatePartitionsRequestData.CreatePartitionsTopic topic : data.topics()) {
            CreatePartitionsResponseData.CreatePartitionsTopicResult result = new CreatePartitionsResponseData.CreatePartitionsTopicResult().setName(topic.name());
            response.results().add(result);
            try {
                if (topics.registry().get(topic.name()) == null) {
                    throw new UnknownTopicOrPartitionException("topic '" + topic.name() + "' does not exist");
                }
                // Completes when the controller quorum has the new partitions; the network thread does not wait.
                CompletableFuture<?> added;
                if (topic.assignments() != null) {
                    List<List<Integer>> assignment = new ArrayList<>();
                    topic.assignments().forEach(a -> assignment.add(List.copyOf(a.brokerIds())));
                    added = topics.addPartitionsAsync(topic.name(), topic.count(), data.validateOnly(), assignment);
                } else {
                    added = topics.addPartitionsAsync(topic.name(), topic.count(), data.validateOnly());
                }
                pending.add(added.handle((updated, failure) -> {
                    if (failure != null) {
                        ApiException e = ApiErrors.unwrap(failure);
                        result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
                    }
                    return null;
                }));
            } catch (ApiException | ServiceException refused) {
                ApiException e = ApiErrors.unwrap(refused);
                result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
            }
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(ignored -> response);
    }
}
