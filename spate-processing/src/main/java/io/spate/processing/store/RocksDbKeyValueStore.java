package io.spate.processing.store;

import io.spate.stream.Serde;
import io.spate.stream.store.Bytes;
import io.spate.stream.store.KeyValueStore;

import java.nio.file.Path;
import java.util.List;

/** The latest value per key, in the default column family: {@code key -> value}. */
final class RocksDbKeyValueStore<V> extends RocksDbStore<V> implements KeyValueStore<V> {
    RocksDbKeyValueStore(String name, Path dir, RocksDbStores owner, Serde<V> valueSerde) {
        super(name, dir, owner, valueSerde, List.of());
    }

    @Override
    public V get(Bytes key) {
        return valueSerde.deserialize(get(family(0), key.get()));
    }

    @Override
    public void put(Bytes key, V value) {
        byte[] k = key.get();
        boolean existed = exists(family(0), k);
        if (value == null) {
            if (existed) {
                delete(family(0), k);
                size--;
            }
            return;
        }
        put(family(0), k, serialize(value));
        if (!existed) {
            size++;
        }
    }

    /** In key byte order. */
    @Override
    public void forEach(java.util.function.BiConsumer<Bytes, V> action) {
        scan(family(0), null, null, (key, value) -> {
            action.accept(Bytes.wrap(key), valueSerde.deserialize(value));
            return true;
        });
    }
}
