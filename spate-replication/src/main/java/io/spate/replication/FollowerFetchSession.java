package io.spate.replication;

import io.spate.log.TopicPartition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A follower's side of an incremental fetch session (KIP-227) with one leader: the first fetch
 * names every followed partition and opens a session; later ones name only the partitions whose
 * fetch position changed (records appended, a truncation, a new leader epoch) and the ones no
 * longer followed, and the leader answers only for partitions with news. A leader that follows
 * hundreds of internal partitions for a handful of busy ones then parses, reads back and encodes
 * a handful per round trip instead of all of them.
 *
 * <p>Not thread safe: used by the one thread that talks to the leader. Any failure (a lost
 * connection, a session error) starts a new session with a full fetch, so what the leader holds
 * and what this side believes it holds never drift apart.
 */
final class FollowerFetchSession {
    static final int NO_SESSION = 0;
    static final int INITIAL_EPOCH = 0;
    /** A full fetch that asks for no session: the leader has none to give (it answered session id 0). */
    static final int SESSIONLESS_EPOCH = -1;

    /** How the leader took a fetch, from its top-level answer (the wire's error codes stay in {@link ReplicaFetcher}). */
    enum Outcome {
        /** Answered: its partitions may be used. */
        ANSWERED,
        /** The leader no longer knows the session or its epoch (it restarted, or evicted it). */
        SESSION_LOST,
        /** Refused for another reason: the leader's session is as it was. */
        REFUSED
    }

    /** One fetch to send: the session fields and the partitions it names. */
    record Request(int sessionId, int epoch, List<FollowerFetchLogic.FetchPosition> toSend, List<TopicPartition> toForget,
                   Map<TopicPartition, FollowerFetchLogic.FetchPosition> heldAfter) {
        boolean full() {
            return epoch == INITIAL_EPOCH || epoch == SESSIONLESS_EPOCH;
        }
    }

    private int sessionId = NO_SESSION;
    private int nextEpoch = INITIAL_EPOCH;
    private boolean leaderGivesNoSessions;
    /** What the leader's session holds for each partition, as of the last answered fetch. */
    private Map<TopicPartition, FollowerFetchLogic.FetchPosition> held = new HashMap<>();

    /** The fetch for {@code positions} (every partition ready to copy, at its current position). */
    Request next(List<FollowerFetchLogic.FetchPosition> positions) {
        Map<TopicPartition, FollowerFetchLogic.FetchPosition> after = HashMap.newHashMap(positions.size());
        for (FollowerFetchLogic.FetchPosition p : positions) {
            after.put(p.partition(), p);
        }
        if (leaderGivesNoSessions) {
            return new Request(NO_SESSION, SESSIONLESS_EPOCH, positions, List.of(), after);
        }
        if (sessionId == NO_SESSION) {
            return new Request(NO_SESSION, INITIAL_EPOCH, positions, List.of(), after);
        }
        List<FollowerFetchLogic.FetchPosition> changed = new ArrayList<>();
        for (FollowerFetchLogic.FetchPosition p : positions) {
            FollowerFetchLogic.FetchPosition sent = held.get(p.partition());
            if (p != sent && !p.equals(sent)) {
                changed.add(p);
            }
        }
        List<TopicPartition> forget = new ArrayList<>();
        for (TopicPartition tp : held.keySet()) {
            if (!after.containsKey(tp)) {
                forget.add(tp);
            }
        }
        return new Request(sessionId, nextEpoch, changed, forget, after);
    }

    /**
     * The leader answered {@code request} ({@code outcome}, with {@code responseSessionId}).
     * Returns true when the answer's partitions may be used; after a lost session the next
     * fetch starts a new one.
     */
    boolean onAnswer(Request request, Outcome outcome, int responseSessionId) {
        if (outcome == Outcome.SESSION_LOST) {
            reset();
            return false;
        }
        if (outcome == Outcome.REFUSED) {
            return false;
        }
        if (request.epoch() == SESSIONLESS_EPOCH) {
            return true;
        }
        if (request.epoch() == INITIAL_EPOCH) {
            if (responseSessionId == NO_SESSION) {
                leaderGivesNoSessions = true;
                return true;
            }
            sessionId = responseSessionId;
        }
        nextEpoch = request.epoch() == Integer.MAX_VALUE ? 1 : request.epoch() + 1;
        held = request.heldAfter(); // built for this request alone by next(): no copy on every fetch
        return true;
    }

    /**
     * Forgets the session (the connection dropped, or the leader lost it): the next fetch is full
     * and asks for a new one, even of a leader that gave none before (it may have been upgraded).
     */
    void reset() {
        leaderGivesNoSessions = false;
        sessionId = NO_SESSION;
        nextEpoch = INITIAL_EPOCH;
        held = new HashMap<>();
    }

    int sessionId() {
        return sessionId;
    }
}
