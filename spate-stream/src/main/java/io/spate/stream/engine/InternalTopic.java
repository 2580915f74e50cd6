package io.spate.stream.engine;

/** A topic the pipeline creates for itself, with as many partitions as its source topics. */
public record InternalTopic(String name, Kind kind, boolean compacted) {
    public enum Kind {
        /** Records re-keyed by one sub-topology, read by the next; written by key. */
        REPARTITION,
        /** A store's changes, written to the task's own partition; read back to restore it. */
        CHANGELOG
    }
}
