package io.spate.server.handlers;

import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.replication.Partition;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.ClientConnection;
import io.spate.server.partition.ReplicaManager;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * DeleteRecords ({@code kafka-delete-records.sh}, {@code Admin#deleteRecords}): moves the log
 * start offset of partitions led here and deletes the segments wholly below it. Followers move
 * theirs when their next fetch carries the leader's log start offset. The new log starts are
 * checkpointed before the answer goes out (on the log scheduler, not a network thread), so a
 * restart does not bring deleted records back.
 *
 * <p>The answer's low watermark is this leader's log start offset; Kafka's answer waits until
 * every replica has moved, Spate's does not.
 */
public final class DeleteRecordsHandler implements ApiHandler {
    private static final Logger log = LoggerFactory.getLogger(DeleteRecordsHandler.class);

    private final TopicRegistry topics;
    private final ReplicaManager replicas;

    public DeleteRecordsHandler(TopicRegistry topics, ReplicaManager replicas) {
        this.topics = topics;
        this.replicas = replicas;
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
        for (DeleteRecordsRequestData.DeleteRecordsTopic topicData : data.topics()) {
            DeleteRecordsResponseData.DeleteRecordsTopicResult topicResult = new DeleteRecordsResponseData.DeleteRecordsTopicResult().setName(topicData.name());
            TopicInfo topic = topics.get(topicData.name());
            for (DeleteRecordsRequestData.DeleteRecordsPartition p : topicData.partitions()) {
                DeleteRecordsResponseData.DeleteRecordsPartitionResult result = new DeleteRecordsResponseData.DeleteRecordsPartitionResult()
                        .setPartitionIndex(p.partitionIndex()).setLowWatermark(-1);
                topicResult.partitions().add(result);
                if (topic == null || p.partitionIndex() < 0 || p.partitionIndex() >= topic.partitions()) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                    continue;
                }
                Partition partition = replicas.partition(topic.name(), p.partitionIndex());
                if (!replicas.servesAsLeader(partition)) {
                    result.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
                    continue;
                }
                PartitionLog partitionLog = partition.log();
                if (partitionLog.config().compact() && !partitionLog.config().delete()) {
                    // As in Kafka: records of a compacted-only topic are removed by compaction alone.
                    result.setErrorCode(Errors.POLICY_VIOLATION.code());
                    continue;
                }
                try {
                    long before = partitionLog.logStartOffset();
                    result.setLowWatermark(partitionLog.deleteRecordsBefore(p.offset()));
                    moved |= partitionLog.logStartOffset() != before;
                } catch (IllegalArgumentException e) {
                    result.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code());
                } catch (IOException e) {
                    log.error("{}: DeleteRecords failed", partition.topicPartition(), e);
                    result.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
                }
            }
            response.topics().add(topicResult);
        }
        if (!moved) {
            return CompletableFuture.completedFuture(response);
        }
        LogManager logManager = replicas.logManager();
        CompletableFuture<ApiMessage> done = new CompletableFuture<>();
        boolean scheduled = logManager.schedule(() -> {
            try {
                logManager.writeCheckpoints();
            } finally {
                done.complete(response);
            }
        }, 0);
        if (!scheduled) {
            done.complete(response);
        }
        return done;
    }
}
