package io.spate.stream;

/** When a windowed aggregation emits its results. */
public enum EmitMode {
    /** Every update of a window's aggregate is emitted (Kafka Streams' default, with caches off). */
    ON_EVERY_UPDATE,
    /** A window's final aggregate is emitted once, when stream time passes its end plus grace. */
    ON_WINDOW_CLOSE
}
