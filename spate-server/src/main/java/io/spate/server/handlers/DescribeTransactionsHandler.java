package io.spate.server.handlers;

import io.spate.log.TopicPartition;
import io.spate.server.network.ClientConnection;
import io.spate.server.txn.TransactionCoordinator;
import io.spate.server.txn.TxnMetadata;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TopicData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData.TransactionState;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DescribeTransactionsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/** DescribeTransactions: the state of transactional ids this node coordinates (kafka-transactions.sh describe). */
final class DescribeTransactionsHandler implements ApiHandler {
    private final TransactionCoordinator transactions;

    DescribeTransactionsHandler(TransactionCoordinator transactions) {
        this.transactions = transactions;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_TRANSACTIONS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DescribeTransactionsRequestData data = ((DescribeTransactionsRequest) request).data();
        List<CompletableFuture<TransactionState>> answers = new ArrayList<>();
        for (String id : data.transactionalIds()) {
            answers.add(transactions.describe(id).handle((txn, failure) -> failure != null
                    ? new TransactionState().setTransactionalId(id).setErrorCode(Errors.forException(ApiErrors.unwrap(failure)).code())
                    .setTransactionState("").setProducerId(-1).setProducerEpoch((short) -1).setTransactionStartTimeMs(-1)
                    : state(txn)));
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(done -> {
            DescribeTransactionsResponseData response = new DescribeTransactionsResponseData();
            answers.forEach(answer -> response.transactionStates().add(answer.join()));
            return response;
        });
    }

    private static TransactionState state(TxnMetadata txn) {
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        for (TopicPartition tp : txn.partitions()) {
            byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
        }
        TransactionState state = new TransactionState().setTransactionalId(txn.transactionalId())
                .setTransactionState(txn.state().kafkaName()).setTransactionTimeoutMs(txn.timeoutMs())
                .setTransactionStartTimeMs(txn.startMs()).setProducerId(txn.producerId()).setProducerEpoch(txn.producerEpoch());
        byTopic.forEach((topic, partitions) -> state.topics().add(new TopicData().setTopic(topic).setPartitions(partitions.stream().sorted().toList())));
        return state;
    }
}
