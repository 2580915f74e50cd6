package io.spate.server.handlers;

import io.spate.server.admin.PartitionAdmin;
import io.spate.server.errors.ServiceError;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * DeleteRecords ({@code kafka-delete-records.sh}, {@code Admin#deleteRecords}): moves the log
 * start offset of partitions led here and deletes the segments wholly below it
 * ({@link PartitionAdmin#deleteRecordsBefore}). Followers move theirs when their next fetch
 * carries the leader's log start offset. The new log starts are checkpointed before the answer
 * goes out (on the log scheduler, not a network thread), so a restart does not bring deleted
 * records back.
 *
 * <p>The answer's low watermark is this leader's log start offset; Kafka's answer waits until
 * every replica has moved, Spate's does not.
 */
public final class DeleteRecordsHandler implements ApiHandler {
    private final PartitionAdmin admin;

    public DeleteRecordsHandler(PartitionAdmin admin) {
        this.admin = admin;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DELETE_RECORDS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DeleteRecordsRequestData data = ((DeleteRecordsRequest) request).data();
        DeleteRecordsResponseData response = new DeleteRecordsResponseData();
        boolean moved = false;
        List<CompletableFuture<Void>> lowWatermarks = new ArrayList<>();
        for (DeleteRecordsRequestData.DeleteRecordsTopic topicData : data.topics()) {
            DeleteRecordsResponseData.DeleteRecordsTopicResult topicResult = new DeleteRecordsResponseData.DeleteRecordsTopicResult().setName(topicData.name());
            for (DeleteRecordsRequestData.DeleteRecordsPartition p : topicData.partitions()) {
                PartitionAdmin.Deleted deleted = admin.deleteRecordsBefore(topicData.name(), p.partitionIndex(), p.offset());
                DeleteRecordsResponseData.DeleteRecordsPartitionResult result = new DeleteRecordsResponseData.DeleteRecordsPartitionResult()
                        .setPartitionIndex(p.partitionIndex()).setLowWatermark(deleted.lowWatermark()).setErrorCode(KafkaErrors.of(deleted.error()).code());
                topicResult.partitions().add(result);
                moved |= deleted.moved();
                if (deleted.error() == ServiceError.NONE) {
                    // Answered, as Kafka does, once the in-sync followers dropped the records too.
                    lowWatermarks.add(admin.awaitLowWatermark(topicData.name(), p.partitionIndex(), deleted.lowWatermark(), data.timeoutMs())
                            .thenAccept(low -> result.setLowWatermark(low.lowWatermark()).setErrorCode(KafkaErrors.of(low.error()).code())));
                }
            }
            response.topics().add(topicResult);
        }
        CompletableFuture<Void> replicated = CompletableFuture.allOf(lowWatermarks.toArray(CompletableFuture[]::new));
        if (!moved) {
            return replicated.thenApply(ignored -> response);
        }
        return admin.checkpointLogStarts().thenCombine(replicated, (a, b) -> response);
    }
}
