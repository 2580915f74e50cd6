package io.spate.server.handlers;

import io.spate.server.metadata.ClusterView;
import io.spate.server.group.GroupCoordinator;
import io.spate.server.txn.TransactionCoordinator;

import java.util.List;

/** The handlers of the consumer-group APIs, all backed by one {@link GroupCoordinator}. */
public final class GroupHandlers {
    private GroupHandlers() {
    }

    public static List<ApiHandler> all(GroupCoordinator coordinator, TransactionCoordinator transactions, ClusterView cluster) {
        return List.of(
                new FindCoordinatorHandler(coordinator, transactions, cluster),
                new JoinGroupHandler(coordinator),
                new SyncGroupHandler(coordinator),
                new HeartbeatHandler(coordinator),
                new LeaveGroupHandler(coordinator),
                new OffsetCommitHandler(coordinator),
                new TxnOffsetCommitHandler(coordinator),
                new OffsetFetchHandler(coordinator),
                new ListGroupsHandler(coordinator),
                new DescribeGroupsHandler(coordinator),
                new DeleteGroupsHandler(coordinator),
                new OffsetDeleteHandler(coordinator));
    }
}
