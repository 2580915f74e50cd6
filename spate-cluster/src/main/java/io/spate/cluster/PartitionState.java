package io.spate.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * One partition's replication state. {@code leader} is -1 while no in-sync replica is alive.
 * The leader epoch grows on every leader change; the partition epoch on every change at all,
 * so that a leader's in-sync set update based on stale state is refused.
 *
 * <p>{@code elr} (KIP-966's eligible leader replicas) are replicas that left the in-sync set while
 * it was smaller than {@code min.insync.replicas}: the high watermark cannot advance in that state,
 * so they hold every committed record and may lead when no in-sync replica is alive. A replica
 * leaves it when it restarts after an unclean shutdown, and the set empties once the in-sync set
 * is large enough again.
 *
 * <p>While a reassignment runs (KIP-455's way), {@code replicas} holds the target replicas
 * first and then the ones being removed; {@code adding} are target replicas still copying,
 * {@code removing} the replicas that go once every target replica is in sync.
 */
public record PartitionState(List<Integer> replicas, int leader, int leaderEpoch, List<Integer> isr, int partitionEpoch,
                             List<Integer> adding, List<Integer> removing, List<Integer> elr) {
    public static final int NO_LEADER = -1;

    public PartitionState {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
        adding = List.copyOf(adding);
        removing = List.copyOf(removing);
        elr = List.copyOf(elr);
    }

    public PartitionState(List<Integer> replicas, int leader, int leaderEpoch, List<Integer> isr, int partitionEpoch,
                          List<Integer> adding, List<Integer> removing) {
        this(replicas, leader, leaderEpoch, isr, partitionEpoch, adding, removing, List.of());
    }

    public PartitionState(List<Integer> replicas, int leader, int leaderEpoch, List<Integer> isr, int partitionEpoch) {
        this(replicas, leader, leaderEpoch, isr, partitionEpoch, List.of(), List.of());
    }

    public int preferredLeader() {
        return replicas.get(0);
    }

    public boolean hasLeader() {
        return leader != NO_LEADER;
    }

    public boolean reassigning() {
        return !adding.isEmpty() || !removing.isEmpty();
    }

    /** The replicas the partition has once a running reassignment completes (all of them when none runs). */
    public List<Integer> targetReplicas() {
        List<Integer> target = new ArrayList<>(replicas);
        target.removeAll(removing);
        return target;
    }

    /** The replicas the partition had before a running reassignment began. */
    public List<Integer> originalReplicas() {
        List<Integer> original = new ArrayList<>(replicas);
        original.removeAll(adding);
        return original;
    }

    public PartitionState withLeader(int newLeader, List<Integer> newIsr) {
        return new PartitionState(replicas, newLeader, leaderEpoch + 1, newIsr, partitionEpoch + 1, adding, removing, elr);
    }

    public PartitionState withIsr(List<Integer> newIsr) {
        return new PartitionState(replicas, leader, leaderEpoch, newIsr, partitionEpoch + 1, adding, removing, elr);
    }

    /** The same state with another eligible-leader set (no epoch moves: it is a controller-side fact). */
    public PartitionState withElr(List<Integer> newElr) {
        return new PartitionState(replicas, leader, leaderEpoch, isr, partitionEpoch, adding, removing, newElr);
    }
}
