package io.spate.stream.store;

/** Sessions per serialized key: {@code [start, end]} (ms, both inclusive) and a value. */
public interface SessionStore<V> extends StateStore {
    @FunctionalInterface
    interface SessionVisitor<V> {
        void visit(Bytes key, long start, long end, V value);
    }

    /** Visits the key's sessions with {@code end >= earliestEnd} and {@code start <= latestStart}. */
    void find(Bytes key, long earliestEnd, long latestStart, SessionVisitor<V> visitor);

    /** Stores a session; null removes it. */
    void put(Bytes key, long start, long end, V value);

    /** Removes every session with {@code end < endLimit}, visiting each first, by end. */
    void removeEndingBefore(long endLimit, SessionVisitor<V> visitor);

    /** The smallest session end held, or {@link Long#MAX_VALUE} when empty. */
    long earliestEnd();
}
