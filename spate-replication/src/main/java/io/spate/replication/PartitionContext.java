package io.spate.replication;

import io.spate.time.Scheduler;
import io.spate.time.SystemScheduler;

/**
 * What a partition needs from the node it lives on: how to make its log durable, whether the
 * node may still act as leader, where the deadlines of waiting writes run, and who hears of the
 * leaderships it takes and gives up. One per node; the simulation passes its own.
 */
public record PartitionContext(GroupCommit groupCommit, LeadershipLease lease, Scheduler scheduler, LeadershipListener leadership) {

    public PartitionContext(GroupCommit groupCommit, LeadershipLease lease, Scheduler scheduler) {
        this(groupCommit, lease, scheduler, LeadershipListener.NONE);
    }

    /** fsync in place, always leading (when the metadata says so), deadlines on a shared daemon thread. */
    public static PartitionContext defaults() {
        return new PartitionContext(GroupCommit.IN_PLACE, LeadershipLease.ALWAYS, SharedDeadlines.SCHEDULER);
    }

    private static final class SharedDeadlines {
        static final Scheduler SCHEDULER = new SystemScheduler("spate-partition-deadlines");
    }
}
