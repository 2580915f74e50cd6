package io.spate.server.handlers;

import io.spate.server.ServerConfig;
import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** FindCoordinator: this node coordinates every group; transactions are not offered. */
final class FindCoordinatorHandler implements ApiHandler {
    private static final byte GROUP = 0;
    private final GroupCoordinator coordinator;
    private final ServerConfig config;

    FindCoordinatorHandler(GroupCoordinator coordinator, ServerConfig config) {
        this.coordinator = coordinator;
        this.config = config;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.FIND_COORDINATOR;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        FindCoordinatorRequestData data = ((FindCoordinatorRequest) request).data();
        short version = header.apiVersion();
        byte keyType = version >= 1 ? data.keyType() : GROUP;
        Errors error = keyType == GROUP ? Errors.NONE : Errors.COORDINATOR_NOT_AVAILABLE;
        String message = keyType == GROUP ? null : "Spate coordinates consumer groups only; transactions and share groups are not supported";
        if (error == Errors.NONE) {
            coordinator.ensureOffsetsTopic();
        }
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        if (version >= 4) {
            List<String> keys = data.coordinatorKeys();
            for (String key : keys) {
                response.coordinators().add(new FindCoordinatorResponseData.Coordinator().setKey(key)
                        .setNodeId(error == Errors.NONE ? config.nodeId() : -1).setHost(error == Errors.NONE ? config.host() : "")
                        .setPort(error == Errors.NONE ? config.port() : -1).setErrorCode(error.code()).setErrorMessage(message));
            }
        } else {
            response.setErrorCode(error.code()).setNodeId(error == Errors.NONE ? config.nodeId() : -1)
                    .setHost(error == Errors.NONE ? config.host() : "").setPort(error == Errors.NONE ? config.port() : -1);
            if (version >= 1) {
                response.setErrorMessage(message);
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
