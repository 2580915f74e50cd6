package io.spate.processing;

import java.util.Locale;

/** Where a pipeline's tasks keep their stores: the {@code state.store} setting. Either way a store's changelog topic is its durable copy. */
public enum StateStoreType {
    /** On the heap, as objects: the fastest, for state that fits in the node's memory. */
    IN_MEMORY,
    /** In RocksDB under the node's data directory, serialized: for state larger than the heap should hold. */
    ROCKSDB;

    public static StateStoreType parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "in_memory", "in-memory" -> IN_MEMORY;
            case "rocksdb" -> ROCKSDB;
            default -> throw new IllegalArgumentException(PipelineSettings.STATE_STORE + " must be in_memory or rocksdb, not '" + text + "'");
        };
    }
}
