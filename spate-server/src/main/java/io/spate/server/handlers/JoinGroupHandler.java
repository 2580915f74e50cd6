package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/** JoinGroup: answered when the group's join phase completes (a long-held request). */
final class JoinGroupHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    JoinGroupHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.JOIN_GROUP;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        String host = connection.remoteAddress() instanceof InetSocketAddress inet ? "/" + inet.getAddress().getHostAddress() : String.valueOf(connection.remoteAddress());
        short version = header.apiVersion();
        return coordinator.joinGroup(((JoinGroupRequest) request).data(), version, header.clientId(), host).thenApply(r -> {
            // The protocol name may only be null from v7 on; older clients get "" as from Kafka.
            if (version < 7 && r.protocolName() == null) {
                r.setProtocolName("");
            }
            return r;
        });
    }
}
