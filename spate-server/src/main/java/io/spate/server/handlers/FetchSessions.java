package io.spate.server.handlers;

import org.apache.kafka.common.protocol.Errors;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Incremental fetch sessions (KIP-227): a consumer sends its partition list once; later fetches
 * name only what changed, and the response carries only partitions with news.
 *
 * <p>Bounded to {@link #MAX_SESSIONS}, with Kafka's eviction rules: when the cache is full, a new
 * session takes the place of one idle for longer than {@link #EVICTION_MS}; failing that, of the
 * least valuable session that is evictable by it (value: a follower's session before a
 * consumer's, then the larger), provided the new one is worth more. A session younger than
 * {@link #EVICTION_MS} is evictable only by a follower, and only if it is a consumer's. A fetch
 * that gets no session is served sessionless (session id 0 in the answer) and its client asks
 * again with a full fetch later; evicting a live session instead would send its client back to
 * full fetches at every turn once more clients than slots fetch (the cache would thrash).
 */
final class FetchSessions {
    static final int MAX_SESSIONS = 1_000;
    /** Kafka's {@code MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS}. */
    static final long EVICTION_MS = 120_000;
    static final int INITIAL_EPOCH = 0;
    static final int FINAL_EPOCH = -1;

    static final class Session {
        final int id;
        /** A follower's session: worth more than a consumer's (replication must not stall behind consumers). */
        final boolean privileged;
        final long createdNanos;
        int nextEpoch = 1;
        volatile long lastUsedNanos;
        /** How many partitions the session holds, as of its last fetch: a bigger session saves more. */
        volatile int size;
        final LinkedHashMap<String, FetchTarget> partitions = new LinkedHashMap<>();

        Session(int id, boolean privileged, long nowNanos) {
            this.id = id;
            this.privileged = privileged;
            this.createdNanos = nowNanos;
            this.lastUsedNanos = nowNanos;
        }
    }

    /** Least valuable first: a consumer's before a follower's, then the smaller, then by id (Kafka's order). */
    private static final Comparator<Session> BY_VALUE = Comparator.<Session, Boolean>comparing(s -> s.privileged)
            .thenComparingInt(s -> s.size).thenComparingInt(s -> s.id);

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
    private final int maxSessions;
    private final long evictionNanos = TimeUnit.MILLISECONDS.toNanos(EVICTION_MS);

    FetchSessions() {
        this(io.spate.time.Time.SYSTEM, MAX_SESSIONS);
    }

    FetchSessions(io.spate.time.Time time, int maxSessions) {
        this.time = time;
        this.maxSessions = maxSessions;
    }

    /** @param privileged the fetch is a follower's */
    Context open(int sessionId, int epoch, List<FetchTarget> requested, List<String> forgottenKeys, boolean privileged) {
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
            Session session = create(privileged, requested.size());
            if (session == null) {
                return new Context(Errors.NONE, null, requested, false);
            }
            synchronized (session) {
                requested.forEach(t -> session.partitions.put(t.key(), t));
                session.size = session.partitions.size();
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
            session.size = session.partitions.size();
            return new Context(Errors.NONE, session, new ArrayList<>(session.partitions.values()), true);
        }
    }

    /** A new session, or null when the cache is full of sessions worth keeping. */
    private Session create(boolean privileged, int size) {
        synchronized (sessions) {
            long now = time.nanos();
            if (sessions.size() >= maxSessions && !evictFor(privileged, size, now)) {
                return null;
            }
            while (true) {
                int id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
                Session session = new Session(id, privileged, now);
                if (sessions.putIfAbsent(id, session) == null) {
                    return session;
                }
            }
        }
    }

    /** Makes room for a new session of {@code size} partitions by Kafka's rules; false when none may go. */
    private boolean evictFor(boolean privileged, int size, long now) {
        Session idlest = sessions.values().stream().min(Comparator.comparingLong(s -> s.lastUsedNanos)).orElse(null);
        if (idlest != null && now - idlest.lastUsedNanos > evictionNanos) {
            sessions.remove(idlest.id);
            return true;
        }
        Session cheapest = sessions.values().stream().filter(s -> evictableBy(s, privileged, now)).min(BY_VALUE).orElse(null);
        if (cheapest == null || !worthMore(privileged, size, cheapest)) {
            return false;
        }
        sessions.remove(cheapest.id);
        return true;
    }

    /** A session past its protected youth goes for anyone worth more; a young consumer's only for a follower. */
    private boolean evictableBy(Session session, boolean privileged, long now) {
        return now - session.createdNanos > evictionNanos || (privileged && !session.privileged);
    }

    private static boolean worthMore(boolean privileged, int size, Session session) {
        return privileged != session.privileged ? privileged : size > session.size;
    }

    int size() {
        return sessions.size();
    }
}
