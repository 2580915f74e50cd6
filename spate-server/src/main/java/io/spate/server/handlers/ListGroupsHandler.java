package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/** ListGroups, filtered by state (v4+) and type (v5+; every Spate group is "classic"). */
final class ListGroupsHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    ListGroupsHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.LIST_GROUPS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        ListGroupsRequestData data = ((ListGroupsRequest) request).data();
        short version = header.apiVersion();
        return coordinator.listGroups().thenApply(groups -> {
            ListGroupsResponseData response = new ListGroupsResponseData();
            for (var group : groups) {
                if (version >= 4 && !data.statesFilter().isEmpty() && data.statesFilter().stream().noneMatch(s -> s.equalsIgnoreCase(group.state()))) {
                    continue;
                }
                if (version >= 5 && !data.typesFilter().isEmpty() && data.typesFilter().stream().noneMatch(t -> t.equalsIgnoreCase("classic"))) {
                    continue;
                }
                var listed = new ListGroupsResponseData.ListedGroup().setGroupId(group.groupId()).setProtocolType(group.protocolType());
                if (version >= 4) {
                    listed.setGroupState(group.state());
                }
                if (version >= 5) {
                    listed.setGroupType("classic");
                }
                response.groups().add(listed);
            }
            return response;
        });
    }
}
