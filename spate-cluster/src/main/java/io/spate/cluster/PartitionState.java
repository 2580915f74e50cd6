package io.spate.cluster;

import java.util.List;

/**
 * One partition's replication state. {@code leader} is -1 while no in-sync replica is alive.
 * The leader epoch grows on every leader change; the partition epoch on every change at all,
 * so that a leader's in-sync set update based on stale state is refused.
 */
public record PartitionState(List<Integer> replicas, int leader, int leaderEpoch, List<Integer> isr, int partitionEpoch) {
    public static final int NO_LEADER = -1;

    public PartitionState {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    public int preferredLeader() {
        return replicas.get(0);
    }

    public boolean hasLeader() {
        return leader != NO_LEADER;
    }

    public PartitionState withLeader(int newLeader, List<Integer> newIsr) {
        return new PartitionState(replicas, newLeader, leaderEpoch + 1, newIsr, partitionEpoch + 1);
    }

    public PartitionState withIsr(List<Integer> newIsr) {
        return new PartitionState(replicas, leader, leaderEpoch, newIsr, partitionEpoch + 1);
    }
}
