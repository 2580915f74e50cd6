package io.spate.server.handlers;

import io.spate.log.ProducerView;
import io.spate.replication.Partition;
import io.spate.server.network.ClientConnection;
import io.spate.server.partition.ReplicaManager;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeProducersResponseData.PartitionResponse;
import org.apache.kafka.common.message.DescribeProducersResponseData.ProducerState;
import org.apache.kafka.common.message.DescribeProducersResponseData.TopicResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DescribeProducersRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/**
 * DescribeProducers: the producers a partition's leader remembers, with the first offset of each
 * one's open transaction (kafka-transactions.sh describe-producers and find-hanging).
 */
final class DescribeProducersHandler implements ApiHandler {
    private final ReplicaManager replicas;

    DescribeProducersHandler(ReplicaManager replicas) {
        this.replicas = replicas;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_PRODUCERS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DescribeProducersRequestData data = ((DescribeProducersRequest) request).data();
        DescribeProducersResponseData response = new DescribeProducersResponseData();
        for (DescribeProducersRequestData.TopicRequest topic : data.topics()) {
            TopicResponse topicResponse = new TopicResponse().setName(topic.name());
            response.topics().add(topicResponse);
            for (int index : topic.partitionIndexes()) {
                PartitionResponse answer = new PartitionResponse().setPartitionIndex(index);
                topicResponse.partitions().add(answer);
                Partition partition = replicas.partition(topic.name(), index);
                if (partition == null) {
                    answer.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (!replicas.servesAsLeader(partition)) {
                    answer.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
                } else {
                    for (ProducerView producer : partition.log().producerStates()) {
                        answer.activeProducers().add(new ProducerState().setProducerId(producer.producerId()).setProducerEpoch(producer.epoch())
                                .setLastSequence(producer.lastSequence()).setLastTimestamp(producer.lastTimestamp())
                                .setCoordinatorEpoch(producer.coordinatorEpoch()).setCurrentTxnStartOffset(producer.currentTxnStartOffset()));
                    }
                }
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
