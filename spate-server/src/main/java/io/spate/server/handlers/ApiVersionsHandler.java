package io.spate.server.handlers;

import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/** ApiVersions: the versions of each API this node serves, as the handlers declare them. */
final class ApiVersionsHandler implements ApiHandler {
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
        return CompletableFuture.completedFuture(new ApiVersionsResponseData().setApiKeys(apis.advertisedVersions()));
    }
}
