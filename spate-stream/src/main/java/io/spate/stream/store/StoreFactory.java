package io.spate.stream.store;

import io.spate.stream.Serde;

/**
 * Makes a task's stores. The engine keeps values as objects; a factory of byte-oriented stores
 * (RocksDB) serializes them with the serde it is given. Stores are filled again from their
 * changelog on a task's start, so a factory need not keep anything across tasks.
 */
public interface StoreFactory {
    <V> KeyValueStore<V> keyValueStore(String name, int partition, Serde<V> valueSerde);

    <V> WindowStore<V> windowStore(String name, int partition, Serde<V> valueSerde);

    <V> SessionStore<V> sessionStore(String name, int partition, Serde<V> valueSerde);
}
