package io.spate.server.handlers;

import io.spate.log.TopicPartition;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.ClientConnection;
import io.spate.server.txn.TransactionCoordinator;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * AddPartitionsToTxn: a client (versions 0 to 3) adds partitions to its open transaction; from
 * version 4 a request may carry several transactions and ask only to verify that partitions are
 * in them (KIP-890 part 1, sent by partition leaders). A partition of an unknown topic fails the
 * whole transaction's request, the others answered OPERATION_NOT_ATTEMPTED, as in Kafka.
 * Version 5 belongs to transaction version 2, not served.
 */
final class AddPartitionsToTxnHandler implements ApiHandler {
    private final TransactionCoordinator transactions;
    private final TopicRegistry topics;

    AddPartitionsToTxnHandler(TransactionCoordinator transactions, TopicRegistry topics) {
        this.transactions = transactions;
        this.topics = topics;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ADD_PARTITIONS_TO_TXN;
    }

    @Override
    public short maxVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        AddPartitionsToTxnRequestData data = ((AddPartitionsToTxnRequest) request).data();
        short version = header.apiVersion();
        if (version < 4) {
            Set<TopicPartition> partitions = partitionsOf(data.v3AndBelowTopics());
            return one(data.v3AndBelowTransactionalId(), data.v3AndBelowProducerId(), data.v3AndBelowProducerEpoch(), false, partitions, version)
                    .thenApply(results -> new AddPartitionsToTxnResponseData().setResultsByTopicV3AndBelow(results));
        }
        List<CompletableFuture<AddPartitionsToTxnResult>> answers = new ArrayList<>();
        for (var txn : data.transactions()) {
            answers.add(one(txn.transactionalId(), txn.producerId(), txn.producerEpoch(), txn.verifyOnly(), partitionsOf(txn.topics()), version)
                    .thenApply(results -> new AddPartitionsToTxnResult().setTransactionalId(txn.transactionalId()).setTopicResults(results)));
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(done -> {
            AddPartitionsToTxnResponseData response = new AddPartitionsToTxnResponseData();
            answers.forEach(answer -> response.resultsByTransaction().add(answer.join()));
            return response;
        });
    }

    private static Set<TopicPartition> partitionsOf(AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection topics) {
        Set<TopicPartition> partitions = new HashSet<>();
        topics.forEach(topic -> topic.partitions().forEach(p -> partitions.add(new TopicPartition(topic.name(), p))));
        return partitions;
    }

    private CompletableFuture<AddPartitionsToTxnTopicResultCollection> one(String transactionalId, long producerId, short epoch,
                                                                             boolean verifyOnly, Set<TopicPartition> partitions, short version) {
        Set<TopicPartition> unknown = new HashSet<>();
        for (TopicPartition tp : partitions) {
            TopicInfo topic = topics.get(tp.topic());
            if (topic == null || tp.partition() < 0 || tp.partition() >= topic.partitions() || tp.topic().equals(TransactionCoordinator.TOPIC)) {
                unknown.add(tp);
            }
        }
        if (!unknown.isEmpty()) {
            Map<TopicPartition, Errors> errors = new HashMap<>();
            partitions.forEach(tp -> errors.put(tp, unknown.contains(tp) ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.OPERATION_NOT_ATTEMPTED));
            return CompletableFuture.completedFuture(results(errors));
        }
        CompletableFuture<Errors> outcome = verifyOnly
                ? transactions.verifyPartitions(transactionalId, producerId, epoch, partitions)
                        .thenApply(inTxn -> inTxn ? Errors.NONE : Errors.INVALID_TXN_STATE)
                : transactions.addPartitions(transactionalId, producerId, epoch, partitions).thenApply(ok -> Errors.NONE);
        return outcome.exceptionally(failure -> TxnErrors.forVersion(failure, version >= 2)).thenApply(error -> {
            Map<TopicPartition, Errors> errors = new HashMap<>();
            partitions.forEach(tp -> errors.put(tp, error));
            return results(errors);
        });
    }

    private static AddPartitionsToTxnTopicResultCollection results(Map<TopicPartition, Errors> errors) {
        AddPartitionsToTxnTopicResultCollection results = new AddPartitionsToTxnTopicResultCollection();
        errors.forEach((tp, error) -> {
            AddPartitionsToTxnTopicResult topic = results.find(tp.topic());
            if (topic == null) {
                topic = new AddPartitionsToTxnTopicResult().setName(tp.topic());
                results.add(topic);
            }
            topic.resultsByPartition().add(new AddPartitionsToTxnPartitionResult().setPartitionIndex(tp.partition()).setPartitionErrorCode(error.code()));
        });
        return results;
    }
}
