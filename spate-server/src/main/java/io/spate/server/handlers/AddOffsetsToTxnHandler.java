package io.spate.server.handlers;

import io.spate.log.TopicPartition;
import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import io.spate.server.txn.TransactionCoordinator;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * AddOffsetsToTxn: the group's partition of {@code __consumer_offsets} joins the transaction, so
 * that its markers reach the group coordinator and the offsets committed with TxnOffsetCommit
 * become visible (or vanish) with the transaction's outcome. The offsets topic is created first
 * if need be.
 */
final class AddOffsetsToTxnHandler implements ApiHandler {
    private final TransactionCoordinator transactions;
    private final GroupCoordinator groups;

    AddOffsetsToTxnHandler(TransactionCoordinator transactions, GroupCoordinator groups) {
        this.transactions = transactions;
        this.groups = groups;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ADD_OFFSETS_TO_TXN;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        AddOffsetsToTxnRequestData data = ((AddOffsetsToTxnRequest) request).data();
        short version = header.apiVersion();
        return groups.ensureOffsetsTopicAsync()
                .thenCompose(ok -> transactions.addPartitions(data.transactionalId(), data.producerId(), data.producerEpoch(),
                        Set.of(new TopicPartition(GroupCoordinator.OFFSETS_TOPIC, groups.partitionFor(data.groupId())))))
                .handle((ok, failure) -> new AddOffsetsToTxnResponseData()
                        .setErrorCode((failure == null ? Errors.NONE : TxnErrors.forVersion(failure, version >= 2)).code()));
    }
}
