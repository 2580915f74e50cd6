package io.spate.replication;

import io.spate.time.Scheduler;
import io.spate.time.SystemScheduler;

/**
 * What a partition needs from the node it lives on: how to make its log durable, whether the
 * node may still act as leader, where the deadlines of waiting writes run, who hears of the
 * leaderships it takes and gives up, and the one timer that tells followers of moved high
 * watermarks. One per node; the simulation passes its own.
 */
public record PartitionContext(GroupCommit groupCommit, LeadershipLease lease, Scheduler scheduler, LeadershipListener leadership,
                               FollowerNotices notices) {

    public PartitionContext(GroupCommit groupCommit, LeadershipLease lease, Scheduler scheduler, LeadershipListener leadership) {
        this(groupCommit, lease, scheduler, leadership, new FollowerNotices(scheduler, Partition.FOLLOWER_HIGH_WATERMARK_NOTICE_MS));
    }

    public PartitionContext(GroupCommit groupCommit, LeadershipLease lease, Scheduler scheduler) {
        this(groupCommit, lease, scheduler, LeadershipListener.NONE);
    }

    /** fsync in place, always leading (when the metadata says so), deadlines on a shared daemon thread. */
    public static PartitionContext defaults() {
        return Shared.DEFAULTS;
    }

    private static final class Shared {
        static final PartitionContext DEFAULTS = new PartitionContext(GroupCommit.IN_PLACE, LeadershipLease.ALWAYS,
                new SystemScheduler("spate-partition-deadlines"));
    }
}
