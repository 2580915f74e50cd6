package io.spate.stream.store;

/** A task-local store. A store belongs to one task and is used from its thread only. */
public interface StateStore extends AutoCloseable {
    String name();

    /** Number of entries (keys, windows or sessions). */
    long size();

    @Override
    void close();
}
