package io.spate.server.handlers;

import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.server.network.ClientConnection;
import io.spate.server.partition.ReplicaManager;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DescribeLogDirsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.FileStore;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeLogDirs ({@code kafka-log-dirs.sh}, and {@code kafka-reassign-partitions.sh} before a
 * move): the node's one data directory, with the size of every replica it hosts there and how
 * far a follower lags behind its high watermark.
 */
public final class DescribeLogDirsHandler implements ApiHandler {
    private final ReplicaManager replicas;

    public DescribeLogDirsHandler(ReplicaManager replicas) {
        this.replicas = replicas;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_LOG_DIRS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DescribeLogDirsRequestData data = ((DescribeLogDirsRequest) request).data();
        Map<String, java.util.Set<Integer>> wanted = null;
        if (data.topics() != null) {
            wanted = new HashMap<>();
            for (DescribeLogDirsRequestData.DescribableLogDirTopic topic : data.topics()) {
                wanted.computeIfAbsent(topic.topic(), t -> new java.util.HashSet<>()).addAll(topic.partitions());
            }
        }
        Path dir = replicas.logManager().dataDir().toAbsolutePath();
        DescribeLogDirsResponseData.DescribeLogDirsResult result = new DescribeLogDirsResponseData.DescribeLogDirsResult()
                .setErrorCode(Errors.NONE.code()).setLogDir(dir.toString());
        try {
            FileStore store = Files.getFileStore(dir);
            result.setTotalBytes(store.getTotalSpace()).setUsableBytes(store.getUsableSpace());
        } catch (IOException e) {
            result.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
        }
        Map<String, DescribeLogDirsResponseData.DescribeLogDirsTopic> topics = new TreeMap<>();
        for (Partition partition : replicas.hostedPartitions().stream()
                .sorted(Comparator.comparing((Partition p) -> p.topicPartition().topic()).thenComparingInt(p -> p.topicPartition().partition())).toList()) {
            TopicPartition tp = partition.topicPartition();
            if (wanted != null && !wanted.getOrDefault(tp.topic(), java.util.Set.of()).contains(tp.partition())) {
                continue;
            }
            // Kafka's definition: how far the log end lies behind the partition's high watermark.
            long lag = Math.max(0, partition.log().highWatermark() - partition.log().logEndOffset());
            topics.computeIfAbsent(tp.topic(), name -> new DescribeLogDirsResponseData.DescribeLogDirsTopic().setName(name))
                    .partitions().add(new DescribeLogDirsResponseData.DescribeLogDirsPartition()
                            .setPartitionIndex(tp.partition())
                            .setPartitionSize(partition.log().sizeInBytes())
                            .setOffsetLag(lag)
                            .setIsFutureKey(false));
        }
        result.topics().addAll(topics.values());
        DescribeLogDirsResponseData response = new DescribeLogDirsResponseData().setErrorCode(Errors.NONE.code());
        response.results().add(result);
        return CompletableFuture.completedFuture(response);
    }
}
