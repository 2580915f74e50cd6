package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/** Heartbeat: keeps a member's session alive and tells it when to rejoin. */
final class HeartbeatHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    HeartbeatHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.HEARTBEAT;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        HeartbeatRequestData data = ((HeartbeatRequest) request).data();
        String instanceId = header.apiVersion() >= 3 ? data.groupInstanceId() : null;
        return coordinator.heartbeat(data.groupId(), data.memberId(), instanceId, data.generationId())
                .thenApply(error -> new HeartbeatResponseData().setErrorCode(KafkaErrors.of(error).code()));
    }
}
