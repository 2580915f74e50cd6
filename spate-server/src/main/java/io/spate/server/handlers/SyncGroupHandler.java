package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.group.SyncRequest;
import io.spate.server.group.SyncResult;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.SyncGroupRequest;

import java.util.HashMap;
import java.util.Map;
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
        return coordinator.syncGroup(syncRequest(((SyncGroupRequest) request).data(), version)).thenApply(result -> response(result, version));
    }

    static SyncRequest syncRequest(SyncGroupRequestData data, short version) {
        Map<String, byte[]> assignments = new HashMap<>();
        data.assignments().forEach(a -> assignments.put(a.memberId(), a.assignment()));
        return new SyncRequest(data.groupId(), data.memberId(), version >= 3 ? data.groupInstanceId() : null, data.generationId(),
                version >= 5 ? data.protocolType() : null, version >= 5 ? data.protocolName() : null, assignments);
    }

    static SyncGroupResponseData response(SyncResult result, short version) {
        SyncGroupResponseData response = new SyncGroupResponseData().setErrorCode(KafkaErrors.of(result.error()).code())
                .setAssignment(result.assignment());
        if (version >= 5) {
            response.setProtocolType(result.protocolType()).setProtocolName(result.protocolName());
        }
        return response;
    }
}
