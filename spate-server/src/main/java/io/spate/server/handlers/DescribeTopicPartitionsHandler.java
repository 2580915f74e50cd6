package io.spate.server.handlers;

import io.spate.server.metadata.ClusterView;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicManager;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DescribeTopicPartitionsRequestData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponsePartition;
import org.apache.kafka.common.message.DescribeTopicPartitionsResponseData.DescribeTopicPartitionsResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DescribeTopicPartitionsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeTopicPartitions (KIP-966): what Metadata tells about partitions, plus the eligible
 * leader replicas, paged by a cursor so that a cluster with many partitions answers in bounded
 * pieces. The Java admin client's describeTopics uses it when a node offers it, which is how
 * {@code kafka-topics.sh --describe} shows Spate's ELR.
 */
public final class DescribeTopicPartitionsHandler implements ApiHandler {
    /** Kafka's max.request.partition.size.limit default: no answer describes more partitions than this. */
    static final int MAX_PARTITIONS_PER_RESPONSE = 2000;

    private final TopicRegistry registry;
    private final ClusterView cluster;

    public DescribeTopicPartitionsHandler(TopicRegistry registry, ClusterView cluster) {
        this.registry = registry;
        this.cluster = cluster;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_TOPIC_PARTITIONS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DescribeTopicPartitionsRequestData data = ((DescribeTopicPartitionsRequest) request).data();
        DescribeTopicPartitionsResponseData response = new DescribeTopicPartitionsResponseData();
        TreeSet<String> names = new TreeSet<>();
        if (data.topics().isEmpty()) {
            registry.all().forEach(t -> names.add(t.name()));
        } else {
            data.topics().forEach(t -> names.add(t.name()));
        }
        DescribeTopicPartitionsRequestData.Cursor cursor = data.cursor();
        String firstTopic = cursor == null ? null : cursor.topicName();
        int firstPartition = cursor == null ? 0 : Math.max(0, cursor.partitionIndex());
        int budget = data.responsePartitionLimit() <= 0 ? MAX_PARTITIONS_PER_RESPONSE
                : Math.min(data.responsePartitionLimit(), MAX_PARTITIONS_PER_RESPONSE);
        for (String name : firstTopic == null ? names : names.tailSet(firstTopic, true)) {
            TopicInfo topic = registry.get(name);
            if (topic == null) {
                response.topics().add(new DescribeTopicPartitionsResponseTopic().setName(name).setTopicId(Uuid.ZERO_UUID)
                        .setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
                continue;
            }
            int start = name.equals(firstTopic) ? Math.min(firstPartition, topic.partitions()) : 0;
            if (budget == 0) {
                response.setNextCursor(new DescribeTopicPartitionsResponseData.Cursor().setTopicName(name).setPartitionIndex(start));
                break;
            }
            int end = Math.min(topic.partitions(), start + budget);
            List<DescribeTopicPartitionsResponsePartition> partitions = new ArrayList<>(end - start);
            for (int p = start; p < end; p++) {
                partitions.add(describe(name, p));
            }
            budget -= end - start;
            response.topics().add(new DescribeTopicPartitionsResponseTopic().setName(name).setTopicId(TopicIds.toWire(topic.id()))
                    .setIsInternal(TopicManager.isInternal(name)).setPartitions(partitions));
            if (end < topic.partitions()) {
                response.setNextCursor(new DescribeTopicPartitionsResponseData.Cursor().setTopicName(name).setPartitionIndex(end));
                break;
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private DescribeTopicPartitionsResponsePartition describe(String topic, int p) {
        ClusterView.PartitionView partition = cluster.partition(topic, p);
        if (partition == null) {
            return new DescribeTopicPartitionsResponsePartition().setPartitionIndex(p).setLeaderId(-1).setLeaderEpoch(-1)
                    .setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        boolean led = partition.leader() >= 0;
        return new DescribeTopicPartitionsResponsePartition()
                .setPartitionIndex(p)
                .setErrorCode(led ? Errors.NONE.code() : Errors.LEADER_NOT_AVAILABLE.code())
                .setLeaderId(led ? partition.leader() : -1)
                .setLeaderEpoch(partition.leaderEpoch())
                .setReplicaNodes(partition.replicas())
                .setIsrNodes(partition.isr())
                .setEligibleLeaderReplicas(partition.elr())
                // Spate keeps no last-known ELR (KIP-966's unclean recovery is not implemented).
                .setLastKnownElr(List.of())
                .setOfflineReplicas(cluster.offlineReplicas(partition));
    }
}
