package io.spate.server.handlers;

import io.spate.server.metadata.ProducerIdManager;
import io.spate.server.network.ClientConnection;
import io.spate.server.txn.TransactionCoordinator;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/**
 * InitProducerId: for an idempotent producer a fresh producer id (never reused) at epoch 0, as a
 * Kafka broker gives producers without a transactional id; for a transactional one, what the
 * transaction coordinator decides (a new id, or the next epoch of the current one, fencing the
 * producer that held it). Versions up to 5: version 6 is KIP-939's two-phase commit, not served.
 */
public final class InitProducerIdHandler implements ApiHandler {
    private final ProducerIdManager producerIds;
    private final TransactionCoordinator transactions;

    public InitProducerIdHandler(ProducerIdManager producerIds, TransactionCoordinator transactions) {
        this.producerIds = producerIds;
        this.transactions = transactions;
    }

    @Override
    public short maxVersion() {
        return 5;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.INIT_PRODUCER_ID;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        InitProducerIdRequestData data = ((InitProducerIdRequest) request).data();
        InitProducerIdResponseData response = new InitProducerIdResponseData();
        short version = header.apiVersion();
        if (data.transactionalId() != null) {
            return transactions.initProducerId(data.transactionalId(), data.transactionTimeoutMs(), data.producerId(), data.producerEpoch())
                    .handle((given, failure) -> failure != null
                            ? response.setErrorCode(TxnErrors.forVersion(failure, version >= 4).code()).setProducerId(-1).setProducerEpoch((short) -1)
                            : response.setProducerId(given.producerId()).setProducerEpoch(given.epoch()));
        }
        // In a cluster a used-up block of ids is refilled through the controller quorum: answer when it is, off the network thread.
        return producerIds.nextProducerIdAsync().handle((id, failure) -> {
            if (failure != null) {
                return response.setErrorCode(Errors.forException(ApiErrors.unwrap(failure)).code()).setProducerId(-1).setProducerEpoch((short) -1);
            }
            return response.setProducerId(id).setProducerEpoch((short) 0);
        });
    }
}
