package io.spate.cluster;

import java.util.HashMap;
import java.util.Map;

/**
 * Remembers when each replica of a log was last seen holding all the leader held (Kafka's
 * {@code lastCaughtUpTimestamp}), from samples the leader takes: a replica behind at one sample
 * keeps the time of the last sample that found it caught up. A new leadership (another term)
 * starts from nothing, as the earlier samples were taken against another leader's log.
 */
public final class CatchUpTracker {
    private final Map<Integer, Long> lastCaughtUpMs = new HashMap<>();
    private final Map<Integer, QuorumState.ReplicaProgress> lastSeen = new HashMap<>();
    private long term = Long.MIN_VALUE;

    /**
     * Records one sample and returns the replica's progress.
     *
     * @param logEnd     the last index the replica is known to hold (-1: unknown)
     * @param leaderEnd  the last index the leader held at the sample
     * @param contactMs  when the replica last exchanged with the leader (-1: never)
     */
    public synchronized QuorumState.ReplicaProgress observe(long leaderTerm, int nodeId, long logEnd, long leaderEnd, long contactMs) {
        if (leaderTerm != term) {
            lastCaughtUpMs.clear();
            lastSeen.clear();
            term = leaderTerm;
        }
        if (logEnd >= 0 && contactMs >= 0 && logEnd >= leaderEnd) {
            lastCaughtUpMs.merge(nodeId, contactMs, Math::max);
        }
        QuorumState.ReplicaProgress progress = new QuorumState.ReplicaProgress(nodeId, logEnd, contactMs, lastCaughtUpMs.getOrDefault(nodeId, -1L));
        lastSeen.put(nodeId, progress);
        return progress;
    }

    /** The replica's progress at its last sample (in this term), or all unknown (-1) when none was taken. */
    public synchronized QuorumState.ReplicaProgress last(int nodeId) {
        return lastSeen.getOrDefault(nodeId, new QuorumState.ReplicaProgress(nodeId, -1, -1, -1));
    }
}
