package io.spate.stream.store;

import java.util.function.BiConsumer;

/** The latest value per serialized key. */
public interface KeyValueStore<V> extends StateStore {
    V get(Bytes key);

    /** Stores {@code value}; null deletes. */
    void put(Bytes key, V value);

    void forEach(BiConsumer<Bytes, V> action);
}
