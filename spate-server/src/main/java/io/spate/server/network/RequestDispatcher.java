package io.spate.server.network;

import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/**
 * Routes decoded requests to their API handlers. The network layer knows nothing else about
 * the Kafka APIs.
 *
 * <p>Contract: the request's byte buffers (produce records) belong to the network layer and are
 * recycled as soon as {@link #dispatch} returns, so a handler must finish with them before it
 * returns; only the response may complete later.
 */
public interface RequestDispatcher {
    boolean supports(ApiKeys apiKey, short version);

    /** The ApiVersions answer sent when a client asks with a version we don't know. */
    ApiMessage unsupportedApiVersionsResponse();

    CompletableFuture<ApiMessage> dispatch(RequestHeader header, AbstractRequest request, ClientConnection connection);

    /** What a request that failed with {@code cause} is answered with: the Kafka error the cause stands for (by default, itself). */
    default Throwable clientError(Throwable cause) {
        return cause;
    }
}
