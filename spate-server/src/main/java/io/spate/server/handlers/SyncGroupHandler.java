package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.SyncGroupRequest;

import java.util.concurrent.CompletableFuture;

/** SyncGroup: the leader's assignment goes in, each member's share comes out. */
final class SyncGroupHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    SyncGroupHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.SYNC_GROUP;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        short version = header.apiVersion();
        return coordinator.syncGroup(((SyncGroupRequest) request).data(), version).thenApply(r -> {
            if (version < 5) {
                r.setProtocolType(null).setProtocolName(null);
            }
            return r;
        });
    }
}
