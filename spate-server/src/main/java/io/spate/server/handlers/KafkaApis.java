package io.spate.server.handlers;

import io.spate.server.network.ClientConnection;
import io.spate.server.network.RequestDispatcher;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Routes each API key to its handler and answers ApiVersions from the same table. */
public final class KafkaApis implements RequestDispatcher {
    private final Map<ApiKeys, ApiHandler> handlers = new EnumMap<>(ApiKeys.class);

    public KafkaApis(List<ApiHandler> apiHandlers) {
        for (ApiHandler handler : apiHandlers) {
            handlers.put(handler.apiKey(), handler);
        }
        handlers.put(ApiKeys.API_VERSIONS, new ApiVersionsHandler(this));
    }

    @Override
    public boolean supports(ApiKeys apiKey, short version) {
        ApiHandler handler = handlers.get(apiKey);
        return handler != null && version >= handler.minVersion() && version <= handler.maxVersion();
    }

    ApiVersionsResponseData.ApiVersionCollection advertisedVersions() {
        ApiVersionsResponseData.ApiVersionCollection versions = new ApiVersionsResponseData.ApiVersionCollection();
        handlers.values().forEach(h -> versions.add(new ApiVersionsResponseData.ApiVersion()
                .setApiKey(h.apiKey().id).setMinVersion(h.minVersion()).setMaxVersion(h.maxVersion())));
        return versions;
    }

    @Override
    public ApiMessage unsupportedApiVersionsResponse() {
        return new ApiVersionsResponseData().setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setApiKeys(advertisedVersions());
    }

    @Override
    public CompletableFuture<ApiMessage> dispatch(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        return handlers.get(header.apiKey()).handle(header, request, connection);
    }
}
