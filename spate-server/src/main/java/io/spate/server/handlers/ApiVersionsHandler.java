package io.spate.server.handlers;

import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/**
 * ApiVersions: the versions of each API this node serves, as the handlers declare them, and the
 * features it supports (v3+). Transactions are served at {@code transaction.version} 0 (KIP-98 as
 * clients before KIP-890 use it: partitions added by AddPartitionsToTxn, EndTxn keeping the
 * epoch); levels 1 and 2 (broker-side verification, an epoch bump at every end) are not built, so
 * none is finalized and clients of Kafka 3.x and 4.x alike run the protocol Spate serves.
 */
final class ApiVersionsHandler implements ApiHandler {
    static final String TRANSACTION_VERSION = "transaction.version";
    private final KafkaApis apis;

    ApiVersionsHandler(KafkaApis apis) {
        this.apis = apis;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.API_VERSIONS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        ApiVersionsResponseData response = new ApiVersionsResponseData().setApiKeys(apis.advertisedVersions());
        response.supportedFeatures().add(new ApiVersionsResponseData.SupportedFeatureKey()
                .setName(TRANSACTION_VERSION).setMinVersion((short) 0).setMaxVersion((short) 0));
        return CompletableFuture.completedFuture(response.setFinalizedFeaturesEpoch(-1));
    }
}
