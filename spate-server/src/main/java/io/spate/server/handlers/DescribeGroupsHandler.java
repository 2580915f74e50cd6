package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** DescribeGroups: state, protocol, and each member with its subscription and assignment. */
final class DescribeGroupsHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    DescribeGroupsHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_GROUPS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DescribeGroupsRequestData data = ((DescribeGroupsRequest) request).data();
        short version = header.apiVersion();
        List<CompletableFuture<DescribeGroupsResponseData.DescribedGroup>> described = new ArrayList<>();
        for (String groupId : data.groups()) {
            described.add(coordinator.describeGroup(groupId).thenApply(group -> {
                var g = new DescribeGroupsResponseData.DescribedGroup().setGroupId(groupId);
                if (group == null) {
                    if (version >= 6) {
                        return g.setErrorCode(Errors.GROUP_ID_NOT_FOUND.code()).setErrorMessage("group " + groupId + " not found").setGroupState("Dead").setProtocolType("").setProtocolData("");
                    }
                    return g.setGroupState("Dead").setProtocolType("").setProtocolData("");
                }
                g.setGroupState(group.state()).setProtocolType(group.protocolType()).setProtocolData(group.protocolName());
                for (var m : group.members()) {
                    var member = new DescribeGroupsResponseData.DescribedGroupMember().setMemberId(m.memberId())
                            .setClientId(m.clientId()).setClientHost(m.clientHost()).setMemberMetadata(m.metadata()).setMemberAssignment(m.assignment());
                    if (version >= 4) {
                        member.setGroupInstanceId(m.groupInstanceId());
                    }
                    g.members().add(member);
                }
                return g;
            }));
        }
        return CompletableFuture.allOf(described.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
            DescribeGroupsResponseData response = new DescribeGroupsResponseData();
            described.forEach(d -> response.groups().add(d.join()));
            return response;
        });
    }
}
