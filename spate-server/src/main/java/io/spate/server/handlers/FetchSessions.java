package io.spate.server.handlers;

import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Incremental fetch sessions (KIP-227): a consumer sends its partition list once; later fetches
 * name only what changed, and the response carries only partitions with news. Bounded: past
 * {@link #MAX_SESSIONS} the least recently used session is evicted and its client falls back to
 * a full fetch when it sees FETCH_SESSION_ID_NOT_FOUND.
 */
final class FetchSessions {
    static final int MAX_SESSIONS = 1_000;
    static final int INITIAL_EPOCH = 0;
    static final int FINAL_EPOCH = -1;

    static final class Session {
        final int id;
        int nextEpoch = 1;
        long lastUsedNanos;
        final LinkedHashMap<String, FetchTarget> partitions = new LinkedHashMap<>();

        Session(int id) {
            this.id = id;
        }
    }

    /**
     * What one fetch request reads and how it answers.
     *
     * @param session     the session to answer in, or null for a sessionless fetch
     * @param incremental true when only partitions with news go in the response
     */
    record Context(Errors error, Session session, List<FetchTarget> targets, boolean incremental) {
        int responseSessionId() {
            return session == null ? 0 : session.id;
        }
    }

    private final Map<Integer, Session> sessions = new ConcurrentHashMap<>();
    private final io.spate.time.Time time;

    FetchSessions() {
        this(io.spate.time.Time.SYSTEM);
    }

    FetchSessions(io.spate.time.Time time) {
        this.time = time;
    }

    Context open(int sessionId, int epoch, List<FetchTarget> requested, List<String> forgottenKeys) {
        if (epoch == FINAL_EPOCH) {
            if (sessionId != 0) {
                sessions.remove(sessionId);
            }
            return new Context(Errors.NONE, null, requested, false);
        }
        if (epoch == INITIAL_EPOCH) {
            if (sessionId != 0) {
                sessions.remove(sessionId);
            }
            Session session = create();
            synchronized (session) {
                requested.forEach(t -> session.partitions.put(t.key(), t));
            }
            return new Context(Errors.NONE, session, requested, false);
        }
        Session session = sessions.get(sessionId);
        if (session == null) {
            return new Context(Errors.FETCH_SESSION_ID_NOT_FOUND, null, List.of(), false);
        }
        synchronized (session) {
            if (epoch != session.nextEpoch) {
                return new Context(Errors.INVALID_FETCH_SESSION_EPOCH, null, List.of(), false);
            }
            session.nextEpoch = epoch == Integer.MAX_VALUE ? 1 : epoch + 1;
            session.lastUsedNanos = time.nanos();
            for (FetchTarget target : requested) {
                FetchTarget known = session.partitions.get(target.key());
                if (known != null && known.resolved == target.resolved) {
                    known.fetchOffset = target.fetchOffset;
                    known.replicaLogStartOffset = target.replicaLogStartOffset;
                    known.lastFetchedEpoch = target.lastFetchedEpoch;
                    known.maxBytes = target.maxBytes;
                    known.currentLeaderEpoch = target.currentLeaderEpoch;
                    known.lookupError = target.lookupError;
                } else {
                    session.partitions.put(target.key(), target);
                }
            }
            forgottenKeys.forEach(session.partitions::remove);
            return new Context(Errors.NONE, session, new ArrayList<>(session.partitions.values()), true);
        }
    }

    private Session create() {
        if (sessions.size() >= MAX_SESSIONS) {
            sessions.values().stream().min(Comparator.comparingLong(s -> s.lastUsedNanos))
                    .ifPresent(oldest -> sessions.remove(oldest.id));
        }
        while (true) {
            int id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
            Session session = new Session(id);
            session.lastUsedNanos = time.nanos();
            if (sessions.putIfAbsent(id, session) == null) {
                return session;
            }
        }
    }

    int size() {
        return sessions.size();
    }
}
