package io.spate.server.handlers;

import io.spate.replication.Partition;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.ClientConnection;
import io.spate.server.partition.ReplicaManager;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/**
 * OffsetForLeaderEpoch (KIP-101, KIP-279): where a given leader epoch ends in this leader's log.
 * A follower that returns after a leader change truncates there before fetching; a consumer
 * uses it after a leader change to check that its position still exists on the new leader.
 */
public final class OffsetForLeaderEpochHandler implements ApiHandler {
    private final TopicRegistry topics;
    private final ReplicaManager replicas;

    public OffsetForLeaderEpochHandler(TopicRegistry topics, ReplicaManager replicas) {
        this.topics = topics;
        this.replicas = replicas;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.OFFSET_FOR_LEADER_EPOCH;
    }

    @Override
    public short minVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        OffsetForLeaderEpochRequestData data = ((OffsetsForLeaderEpochRequest) request).data();
        OffsetForLeaderEpochResponseData response = new OffsetForLeaderEpochResponseData();
        for (OffsetForLeaderEpochRequestData.OffsetForLeaderTopic topicData : data.topics()) {
            OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult topicResult =
                    new OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult().setTopic(topicData.topic());
            TopicInfo topic = topics.get(topicData.topic());
            for (OffsetForLeaderEpochRequestData.OffsetForLeaderPartition p : topicData.partitions()) {
                topicResult.partitions().add(answer(topic, p));
            }
            response.topics().add(topicResult);
        }
        return CompletableFuture.completedFuture(response);
    }

    private OffsetForLeaderEpochResponseData.EpochEndOffset answer(TopicInfo topic, OffsetForLeaderEpochRequestData.OffsetForLeaderPartition p) {
        OffsetForLeaderEpochResponseData.EpochEndOffset result = new OffsetForLeaderEpochResponseData.EpochEndOffset()
                .setPartition(p.partition()).setLeaderEpoch(-1).setEndOffset(-1);
        if (topic == null || p.partition() < 0 || p.partition() >= topic.partitions()) {
            return result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        Partition partition = replicas.partition(topic.name(), p.partition());
        Errors refused = KafkaErrors.of(replicas.roles().leaderCheck(partition, p.currentLeaderEpoch()));
        if (refused != Errors.NONE) {
            return result.setErrorCode(refused.code());
        }
        long[] end = partition.log().offsetForLeaderEpoch(p.leaderEpoch());
        return result.setErrorCode(Errors.NONE.code()).setLeaderEpoch((int) end[0]).setEndOffset(end[1]);
    }
}
