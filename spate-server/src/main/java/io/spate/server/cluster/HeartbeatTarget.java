package io.spate.server.cluster;

import java.util.List;

/**
 * Which voter a node sends its next heartbeat to, from the answers to the last ones.
 *
 * <p>First the voter the metadata log names as the controller leader; after a voter failed to
 * answer (no connection, a timeout, or a refusal from one that does not lead), the voters in turn.
 * A voter knows the leader from its own Raft server, so a refusal from the leader it names is
 * passing (a leader without fresh contact with its quorum refuses for a moment) and that leader
 * is asked again. A node that is not a voter knows the leader only as its quorum client last
 * heard of it, and that stays stale for as long as the client sends nothing: three such nodes of a
 * 6-node fault campaign (seed 680) asked a voter that had lost the lead, and was refused by it, for
 * the rest of the run while the new controller fenced them. Such a node takes any refusal as a
 * failure, and asks the voter that last answered as controller first.
 */
final class HeartbeatTarget {
    private final List<Integer> voters;
    private final boolean voter;
    private int nextCandidate;
    /** The voter the last heartbeat failed at: the next one tries the voters in turn instead. */
    private int lastFailed = -1;
    /** For a node that is not a voter: the voter that answered its last heartbeat as controller (-1: none). */
    private int lastAnswered = -1;

    HeartbeatTarget(List<Integer> voters, boolean voter) {
        if (voters.isEmpty()) {
            throw new IllegalArgumentException("no voters");
        }
        this.voters = List.copyOf(voters);
        this.voter = voter;
    }

    /** The voter to send the next heartbeat to; {@code namedLeader} is the metadata log's (-1: none known). */
    int next(int namedLeader) {
        int target = lastAnswered >= 0 ? lastAnswered : namedLeader;
        if (target < 0 || target == lastFailed) {
            target = voters.get(Math.floorMod(nextCandidate++, voters.size()));
        }
        return target;
    }

    /** {@code target} answered as controller. */
    void answered(int target) {
        lastFailed = -1;
        if (!voter) {
            lastAnswered = target;
        }
    }

    /**
     * {@code target} refused as not the controller (or not for now), while the metadata log names
     * {@code namedLeader}. True when the node should ask its quorum who leads (it is not a voter).
     */
    boolean refused(int target, int namedLeader) {
        lastAnswered = -1;
        if (!voter) {
            lastFailed = target;
            return true;
        }
        if (target != namedLeader) {
            lastFailed = target;
        }
        return false;
    }

    /** {@code target} could not be reached, did not answer in time, or is not known yet. */
    void failed(int target) {
        lastAnswered = -1;
        lastFailed = target;
    }
}
