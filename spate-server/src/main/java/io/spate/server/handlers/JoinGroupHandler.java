package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.group.JoinRequest;
import io.spate.server.group.JoinResult;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
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
        return coordinator.joinGroup(joinRequest(((JoinGroupRequest) request).data(), version, header.clientId(), host))
                .thenApply(result -> response(result, version));
    }

    /** What each version of the request means, resolved here so that the coordinator sees none of it. */
    static JoinRequest joinRequest(JoinGroupRequestData data, short version, String clientId, String clientHost) {
        Map<String, byte[]> protocols = new LinkedHashMap<>();
        data.protocols().forEach(p -> protocols.put(p.name(), p.metadata()));
        return new JoinRequest(data.groupId(), data.memberId(), version >= 5 ? data.groupInstanceId() : null, clientId, clientHost,
                data.protocolType(), protocols, data.sessionTimeoutMs(), version >= 1 ? data.rebalanceTimeoutMs() : data.sessionTimeoutMs(),
                version >= 4, version >= 9);
    }

    /** The answer in the request's version: fields it does not have are left at their defaults, as the codec requires. */
    static JoinGroupResponseData response(JoinResult result, short version) {
        JoinGroupResponseData response = new JoinGroupResponseData().setErrorCode(KafkaErrors.of(result.error()).code())
                .setGenerationId(result.generationId()).setLeader(result.leaderId()).setMemberId(result.memberId())
                // The protocol name may only be null from v7 on; older clients get "" as from Kafka.
                .setProtocolName(version < 7 && result.protocolName() == null ? "" : result.protocolName());
        if (version >= 7) {
            response.setProtocolType(result.protocolType());
        }
        if (version >= 9) {
            response.setSkipAssignment(result.skipAssignment());
        }
        for (JoinResult.Member member : result.members()) {
            response.members().add(new JoinGroupResponseData.JoinGroupResponseMember().setMemberId(member.memberId())
                    .setGroupInstanceId(version >= 5 ? member.groupInstanceId() : null).setMetadata(member.metadata()));
        }
        return response;
    }
}
