package io.spate.stream.store;

/** Values per serialized key and window start (ms). */
public interface WindowStore<V> extends StateStore {
    /** Visits one window's entry; stores may reuse nothing, entries are plain values. */
    @FunctionalInterface
    interface WindowVisitor<V> {
        void visit(Bytes key, long windowStart, V value);
    }

    V fetch(Bytes key, long windowStart);

    /** Stores {@code value}; null deletes. */
    void put(Bytes key, long windowStart, V value);

    /** Visits the key's windows with {@code fromStart <= start <= toStart}, oldest first. */
    void fetch(Bytes key, long fromStart, long toStart, WindowVisitor<V> visitor);

    /** Removes every window with {@code start < startLimit}, visiting each first, oldest first. */
    void removeStartingBefore(long startLimit, WindowVisitor<V> visitor);

    /** The smallest window start held, or {@link Long#MAX_VALUE} when empty. */
    long earliestStart();
}
