package io.spate.server.handlers;

import io.spate.cluster.NodeCredentials;
import io.spate.server.errors.ServiceException;
import io.spate.server.network.ClientConnection;
import io.spate.server.network.RequestDispatcher;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.BrokerHeartbeatRequest;
import org.apache.kafka.common.requests.BrokerRegistrationRequest;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Routes each API key to its handler and answers ApiVersions from the same table. */
public final class KafkaApis implements RequestDispatcher {
    private static final Logger log = LoggerFactory.getLogger(KafkaApis.class);
    private final Map<ApiKeys, ApiHandler> handlers = new EnumMap<>(ApiKeys.class);
    private final NodeCredentials nodeCredentials;

    public KafkaApis(List<ApiHandler> apiHandlers) {
        this(apiHandlers, NodeCredentials.none());
    }

    /** {@code nodeCredentials} check that node-to-node requests come from a node of this cluster. */
    public KafkaApis(List<ApiHandler> apiHandlers, NodeCredentials nodeCredentials) {
        this.nodeCredentials = nodeCredentials;
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
        int claimedNode = claimedNode(request);
        if (claimedNode != NOT_A_NODE_REQUEST && !nodeCredentials.verifies(header.clientId(), claimedNode)) {
            // A client speaking as a node (a replica fetch moves the in-sync set and the high watermark; a heartbeat
            // keeps a node alive) is refused before any handler sees it, so it changes nothing.
            log.warn("refused {} claiming to come from node {}: {} is not a node of this cluster", header.apiKey(), claimedNode,
                    connection.remoteAddress());
            return CompletableFuture.completedFuture(request.getErrorResponse(0, Errors.CLUSTER_AUTHORIZATION_FAILED.exception()).data());
        }
        return handlers.get(header.apiKey()).handle(header, request, connection);
    }

    /** A service's refusal becomes its Kafka error; anything else stays as it is (an unexpected failure, logged as such). */
    @Override
    public Throwable clientError(Throwable cause) {
        return ServiceException.in(cause) != null ? ApiErrors.unwrap(cause) : cause;
    }

    private static final int NOT_A_NODE_REQUEST = Integer.MIN_VALUE;

    /** The node a node-to-node request says it comes from, or {@link #NOT_A_NODE_REQUEST} for client requests. */
    static int claimedNode(AbstractRequest request) {
        return switch (request) {
            case FetchRequest fetch -> nodeOrNone(FetchRequest.replicaId(fetch.data()));
            case OffsetsForLeaderEpochRequest epochs -> nodeOrNone(epochs.data().replicaId());
            case ListOffsetsRequest offsets -> nodeOrNone(offsets.data().replicaId());
            case BrokerHeartbeatRequest heartbeat -> heartbeat.data().brokerId();
            case BrokerRegistrationRequest registration -> registration.data().brokerId();
            default -> NOT_A_NODE_REQUEST;
        };
    }

    /** Clients use negative replica ids (-1 consumers, -2 debugging tools); only nodes use their id. */
    private static int nodeOrNone(int replicaId) {
        return replicaId >= 0 ? replicaId : NOT_A_NODE_REQUEST;
    }
}
