package io.spate.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The controller leader's memory of when each node last sent a heartbeat. Heartbeats are not
 * written to the metadata log (they would flood it); only the verdict, fencing, is. A newly
 * elected controller knows no heartbeats yet, so it starts every node's clock afresh.
 */
public final class LivenessTracker {
    private record Seen(long incarnation, long atNanos) {
    }

    /** A controller leader this voter stopped hearing from, and when it noticed. */
    private record LostLeader(int nodeId, long atNanos) {
    }

    private final Map<Integer, Seen> lastSeen = new ConcurrentHashMap<>();
    private final long sessionTimeoutNanos;
    private volatile LostLeader lostLeader;

    private final io.spate.time.Time time;

    public LivenessTracker(long sessionTimeoutMs) {
        this(sessionTimeoutMs, io.spate.time.Time.SYSTEM);
    }

    /**
     * @param time the clock the heartbeats' arrival and the controller's fencing checks are read
     *             on (the tracker itself only compares the times it is given)
     */
    public LivenessTracker(long sessionTimeoutMs, io.spate.time.Time time) {
        this.time = time;
        this.sessionTimeoutNanos = sessionTimeoutMs * 1_000_000L;
    }

    /** The clock the tracker's callers read: both the state machine that hears heartbeats and the controller that fences. */
    public io.spate.time.Time time() {
        return time;
    }

    /**
     * A heartbeat from {@code incarnation} of {@code nodeId}. It counts only for that incarnation's
     * registration in {@code image}: a restarted process's heartbeats, sent before its new
     * registration commits, must not keep the dead one's partitions from moving (as a Kafka
     * controller ignores heartbeats with a stale broker epoch).
     */
    public void heard(ClusterImage image, int nodeId, long incarnation, long nowNanos) {
        NodeInfo node = image.node(nodeId);
        if (node != null && node.incarnation() == incarnation) {
            lastSeen.put(nodeId, new Seen(incarnation, nowNanos));
        }
    }

    /**
     * Gives every node a full session from {@code fromNanos} (called when this controller becomes
     * leader, with a start a little in the future: nodes need a moment to find the new leader).
     */
    public void reset(ClusterImage image, long fromNanos) {
        lastSeen.clear();
        image.nodes().values().forEach(n -> lastSeen.put(n.id(), new Seen(n.incarnation(), fromNanos)));
        // The controller this one replaces: its node's heartbeats went to its own voter, so nothing
        // was heard from it here, but its voter's silence was. A voter notices a leader's loss an
        // election timeout after the leader's last word, and the leader's node runs in the same
        // process; so that node's session counts from then, not from the takeover, which comes an
        // election later. When the controller's node dies, its partitions move that much sooner
        // (the fault campaigns, seeds 3317 and 3321: 1.0 s and 0.6 s of every write's stall).
        // Not when the loss is older than a session: a quorum was missing meanwhile, no heartbeat
        // could be heard by anyone, and that node gets a full session like every other.
        LostLeader lost = lostLeader;
        NodeInfo node = lost == null ? null : image.node(lost.nodeId());
        if (node != null && lost.atNanos() - fromNanos < 0 && fromNanos - lost.atNanos() < sessionTimeoutNanos) {
            lastSeen.put(node.id(), new Seen(node.incarnation(), lost.atNanos()));
        }
    }

    /**
     * This voter stopped following the controller leader on {@code nodeId} (it no longer hears
     * from it, or another leader was elected) at {@code atNanos}; see {@link #reset}.
     */
    public void leaderLost(int nodeId, long atNanos) {
        lostLeader = new LostLeader(nodeId, atNanos);
    }

    /** This voter follows a controller leader again: the loss it noticed before is history. */
    public void leaderFollowed() {
        lostLeader = null;
    }

    /** The node of the controller leader this voter last stopped following, if any. */
    public java.util.OptionalInt lostLeader() {
        LostLeader lost = lostLeader;
        return lost == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(lost.nodeId());
    }

    /**
     * Unfenced nodes whose registered incarnation has been silent longer than the session timeout,
     * never {@code selfId}: the node running the controller is alive by definition.
     */
    public List<NodeInfo> expired(ClusterImage image, long nowNanos, int selfId) {
        List<NodeInfo> expired = new ArrayList<>();
        for (NodeInfo node : image.nodes().values()) {
            if (node.fenced() || node.id() == selfId) {
                continue;
            }
            Seen seen = lastSeen.get(node.id());
            if (seen == null || seen.incarnation() != node.incarnation()) {
                // Registered again since last heard (a registration starts a full session).
                lastSeen.put(node.id(), new Seen(node.incarnation(), nowNanos));
            } else if (nowNanos - seen.atNanos > sessionTimeoutNanos) {
                expired.add(node);
            }
        }
        return expired;
    }
}
