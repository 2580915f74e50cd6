package io.spate.server.handlers;

import io.spate.server.network.ClientConnection;
import io.spate.server.txn.TransactionCoordinator;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/**
 * EndTxn: commit or abort the open transaction. Answered once the decision is durable in
 * {@code __transaction_state}; the markers follow. Version 5 belongs to transaction version 2
 * (the epoch bumped at every end), not served.
 */
final class EndTxnHandler implements ApiHandler {
    private final TransactionCoordinator transactions;

    EndTxnHandler(TransactionCoordinator transactions) {
        this.transactions = transactions;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.END_TXN;
    }

    @Override
    public short maxVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        EndTxnRequestData data = ((EndTxnRequest) request).data();
        short version = header.apiVersion();
        return transactions.endTransaction(data.transactionalId(), data.producerId(), data.producerEpoch(), data.committed())
                .handle((ok, failure) -> new EndTxnResponseData()
                        .setErrorCode((failure == null ? Errors.NONE : TxnErrors.forVersion(failure, version >= 2)).code()));
    }
}
