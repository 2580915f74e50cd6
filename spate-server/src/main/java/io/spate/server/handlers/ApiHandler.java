package io.spate.server.handlers;

import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/**
 * The logic of one Kafka API. Each handler states the versions it serves; the dispatcher
 * advertises exactly those in ApiVersions.
 */
public interface ApiHandler {
    ApiKeys apiKey();

    default short minVersion() {
        return apiKey().oldestVersion();
    }

    default short maxVersion() {
        return apiKey().latestVersion();
    }

    CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection);
}
