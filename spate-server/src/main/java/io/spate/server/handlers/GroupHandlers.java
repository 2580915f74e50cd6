package io.spate.server.handlers;

import io.spate.server.ServerConfig;
import io.spate.server.group.GroupCoordinator;

import java.util.List;

/** The handlers of the consumer-group APIs, all backed by one {@link GroupCoordinator}. */
public final class GroupHandlers {
    private GroupHandlers() {
    }

    public static List<ApiHandler> all(GroupCoordinator coordinator, ServerConfig config) {
        return List.of(
                new FindCoordinatorHandler(coordinator, config),
                new JoinGroupHandler(coordinator),
                new SyncGroupHandler(coordinator),
                new HeartbeatHandler(coordinator),
                new LeaveGroupHandler(coordinator),
                new OffsetCommitHandler(coordinator),
                new OffsetFetchHandler(coordinator),
                new ListGroupsHandler(coordinator),
                new DescribeGroupsHandler(coordinator),
                new DeleteGroupsHandler(coordinator),
                new OffsetDeleteHandler(coordinator));
    }
}
