package io.spate.chaos.history;

import java.util.List;

/**
 * The cluster's own account of one partition at one moment, as the admin client described it:
 * who led, which replicas were in sync, and which were eligible to lead though out of sync
 * (KIP-966). Recorded whenever it changed; the checker uses it to tell a stall a leader election
 * could have ended from one where no live replica could lead without losing acknowledged writes.
 * {@code replicas} is the replica set then (empty: not recorded, as in older histories), which
 * moves change during a run.
 */
public record ReplicaStatus(long atUs, int partition, int leader, List<Integer> isr, List<Integer> elr, List<Integer> replicas) {
    public ReplicaStatus {
        isr = List.copyOf(isr);
        elr = List.copyOf(elr);
        replicas = List.copyOf(replicas);
    }

    /** Without the replica set. */
    public ReplicaStatus(long atUs, int partition, int leader, List<Integer> isr, List<Integer> elr) {
        this(atUs, partition, leader, isr, elr, List.of());
    }

    /** The replicas any of which may lead without losing an acknowledged write: the leader, the in-sync set and the ELR. */
    public java.util.Set<Integer> eligible() {
        java.util.Set<Integer> all = new java.util.TreeSet<>(isr);
        all.addAll(elr);
        if (leader >= 0) {
            all.add(leader);
        }
        return all;
    }
}
