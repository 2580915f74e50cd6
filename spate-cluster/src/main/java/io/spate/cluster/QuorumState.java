package io.spate.cluster;

import java.util.List;

/**
 * The controller quorum as its leader sees it, which is what Kafka's DescribeQuorum reports
 * ({@code kafka-metadata-quorum.sh}): the leader, its term, the highest committed index, and how
 * far each voter's copy of the metadata log reaches.
 *
 * @param leaderEpoch    the Raft term
 * @param highWatermark  the index of the last committed entry
 */
public record QuorumState(int leaderId, long leaderEpoch, long highWatermark, List<ReplicaProgress> voters) {

    /**
     * One replica of the metadata log.
     *
     * @param logEndOffset    the last index it is known to hold (-1: unknown)
     * @param lastFetchMs     wall-clock time it last answered or asked the leader (-1: unknown)
     * @param lastCaughtUpMs  wall-clock time it was last seen holding everything the leader held (-1: not seen)
     */
    public record ReplicaProgress(int nodeId, long logEndOffset, long lastFetchMs, long lastCaughtUpMs) {
    }

    public QuorumState {
        voters = List.copyOf(voters);
    }
}
