package io.spate.server.handlers;

import io.spate.server.metadata.ProducerIdManager;
import io.spate.server.network.ClientConnection;
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
 * InitProducerId for idempotent producers: a fresh producer id (never reused) at epoch 0, as a
 * Kafka broker gives producers without a transactional id. Transactions are not supported yet.
 */
public final class InitProducerIdHandler implements ApiHandler {
    private final ProducerIdManager producerIds;

    public InitProducerIdHandler(ProducerIdManager producerIds) {
        this.producerIds = producerIds;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.INIT_PRODUCER_ID;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        InitProducerIdRequestData data = ((InitProducerIdRequest) request).data();
        InitProducerIdResponseData response = new InitProducerIdResponseData();
        if (data.transactionalId() != null) {
            // Not supported, which is not the same as not allowed: an authorization error would send users to their ACLs.
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.UNSUPPORTED_VERSION.code())
                    .setProducerId(-1).setProducerEpoch((short) -1));
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
