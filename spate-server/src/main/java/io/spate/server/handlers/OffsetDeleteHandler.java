package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.OffsetDeleteRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** OffsetDelete: removes committed offsets of a group, except those of topics its members are subscribed to. */
final class OffsetDeleteHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    OffsetDeleteHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.OFFSET_DELETE;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        OffsetDeleteRequestData data = ((OffsetDeleteRequest) request).data();
        List<GroupCoordinator.TopicPartitionKey> partitions = new ArrayList<>();
        data.topics().forEach(t -> t.partitions().forEach(p -> partitions.add(new GroupCoordinator.TopicPartitionKey(t.name(), p.partitionIndex()))));
        return coordinator.deleteOffsets(data.groupId(), partitions).handle((errors, failure) -> {
            OffsetDeleteResponseData response = new OffsetDeleteResponseData();
            if (failure != null) {
                return response.setErrorCode(Errors.forException(ApiErrors.unwrap(failure)).code());
            }
            for (OffsetDeleteRequestData.OffsetDeleteRequestTopic t : data.topics()) {
                var topic = new OffsetDeleteResponseData.OffsetDeleteResponseTopic().setName(t.name());
                t.partitions().forEach(p -> topic.partitions().add(new OffsetDeleteResponseData.OffsetDeleteResponsePartition()
                        .setPartitionIndex(p.partitionIndex())
                        .setErrorCode(KafkaErrors.of(errors.getOrDefault(new GroupCoordinator.TopicPartitionKey(t.name(), p.partitionIndex()),
                                io.spate.server.errors.ServiceError.NONE)).code())));
                response.topics().add(topic);
            }
            return response;
        });
    }
}
