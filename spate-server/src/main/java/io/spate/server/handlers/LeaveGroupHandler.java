package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** LeaveGroup: one member (v0-2) or a batch of members by id or instance id (v3+). */
final class LeaveGroupHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    LeaveGroupHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.LEAVE_GROUP;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        LeaveGroupRequestData data = ((LeaveGroupRequest) request).data();
        if (header.apiVersion() < 3) {
            return coordinator.leaveGroup(data.groupId(), data.memberId(), null)
                    .thenApply(error -> new LeaveGroupResponseData().setErrorCode(KafkaErrors.of(error).code()));
        }
        List<CompletableFuture<LeaveGroupResponseData.MemberResponse>> results = new ArrayList<>();
        for (LeaveGroupRequestData.MemberIdentity member : data.members()) {
            results.add(coordinator.leaveGroup(data.groupId(), member.memberId(), member.groupInstanceId())
                    .thenApply(error -> new LeaveGroupResponseData.MemberResponse().setMemberId(member.memberId())
                            .setGroupInstanceId(member.groupInstanceId()).setErrorCode(KafkaErrors.of(error).code())));
        }
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
            LeaveGroupResponseData response = new LeaveGroupResponseData();
            results.forEach(r -> response.members().add(r.join()));
            boolean allUnknown = !response.members().isEmpty()
                    && response.members().stream().allMatch(m -> m.errorCode() == Errors.UNKNOWN_MEMBER_ID.code());
            return response.setErrorCode(allUnknown ? Errors.UNKNOWN_MEMBER_ID.code() : Errors.NONE.code());
        });
    }
}
