package io.spate.cluster.ratis;

import org.apache.ratis.protocol.RaftPeerId;

/**
 * Decides when a node's metadata fetch goes out, and to which voter. A node that is not a voter
 * learns the metadata only by these fetches (a stuck voter is bridged by them too). It answers on
 * the time it is given (no clock of its own), so a test can replay any history.
 *
 * <p>One fetch at a time: heartbeats, waiters and the controller's nudges all ask, often together
 * (a starting node once asked for its first, whole image seven times at once). One asked for
 * meanwhile goes out when the one in flight ends, from the version that one brought.
 *
 * <p>A node that is not a voter sends its fetch to the voter that last answered its heartbeat
 * (only the Raft leader answers one), not to the Raft client's own idea of the leader, which can
 * be a voter that is paused or cut off: there a fetch waits out its whole timeout. The fault
 * campaigns saw that (6 nodes, seed 711): a non-voter took its new leaderships seconds after the
 * controller gave them, its fetch waiting on the SIGSTOPped former leader while its heartbeats
 * already reached the new one. So a fetch unanswered for an election timeout, gone to another
 * voter than the one now answering, is passed over: the next goes out at once to the answering
 * voter, and only the current fetch's end lets a later one go (what an earlier one brings is
 * still applied when it is newer).
 */
final class ImageFetchGate {
    /** A fetch to send now: {@code target} null means the Raft client's leader. */
    record Fetch(long generation, RaftPeerId target) {
    }

    private final boolean voter;
    private final long passOverNanos;

    private boolean inFlight;
    private boolean again;
    private long generation;
    private RaftPeerId sentTo;
    private long sentAtNanos;
    private RaftPeerId answeredHeartbeat;
    private long passedOver;

    /**
     * @param voter         whether this node is a voter (its fetches go to its Raft client's leader)
     * @param passOverNanos a fetch unanswered this long may be passed over (an election timeout)
     */
    ImageFetchGate(boolean voter, long passOverNanos) {
        if (passOverNanos <= 0) {
            throw new IllegalArgumentException("passOverNanos must be positive");
        }
        this.voter = voter;
        this.passOverNanos = passOverNanos;
    }

    /** {@code leader} answered this node's heartbeat: it led the quorum then. */
    synchronized void heartbeatAnsweredBy(RaftPeerId leader) {
        if (!voter && leader != null) {
            answeredHeartbeat = leader;
        }
    }

    /** A fetch is asked for at {@code nowNanos}: the one to send now, or null when one in flight will be followed by another. */
    synchronized Fetch ask(long nowNanos) {
        RaftPeerId target = voter ? null : answeredHeartbeat;
        if (inFlight) {
            boolean stuckElsewhere = target != null && !target.equals(sentTo) && nowNanos - sentAtNanos >= passOverNanos;
            if (!stuckElsewhere) {
                again = true;
                return null;
            }
            passedOver++;
        }
        return send(target, nowNanos);
    }

    /**
     * The fetch of {@code ended} was answered, failed or timed out at {@code nowNanos}: the next
     * one to send, when one was asked for meanwhile, or null. A passed-over fetch's end changes nothing.
     */
    synchronized Fetch ended(long ended, long nowNanos) {
        if (ended != generation || !inFlight) {
            return null;
        }
        inFlight = false;
        if (!again) {
            return null;
        }
        again = false;
        return send(voter ? null : answeredHeartbeat, nowNanos);
    }

    /** The fetch of {@code abandoned} never went out (the client is closing): the next may go, none is sent for it. */
    synchronized void notSent(long abandoned) {
        if (abandoned == generation) {
            inFlight = false;
        }
    }

    /** How many fetches were passed over so far. */
    synchronized long passedOver() {
        return passedOver;
    }

    private Fetch send(RaftPeerId target, long nowNanos) {
        inFlight = true;
        generation++;
        sentTo = target;
        sentAtNanos = nowNanos;
        return new Fetch(generation, target);
    }
}
