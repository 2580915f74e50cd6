package io.spate.processing.store;

import io.spate.stream.Serde;
import io.spate.stream.store.Bytes;
import io.spate.stream.store.WindowStore;

import java.nio.file.Path;
import java.util.List;

/**
 * Windows in two column families (layouts in {@link KeyLayout}):
 *
 * <pre>
 *   default   timeFirst(start, key)  -> value    one window; expiry and earliestStart, oldest first
 *   by-key    keyFirst(key, start)   -> (empty)  a key's windows, oldest first
 * </pre>
 *
 * The earliest start is kept in memory, so that asking for it on every advance of stream time
 * costs no seek (a seek from the first key would step over the deletions expiry leaves there).
 */
final class RocksDbWindowStore<V> extends RocksDbStore<V> implements WindowStore<V> {
    private long earliestStart = Long.MAX_VALUE;
    /** False once the earliest window went by itself: found again on the next ask. */
    private boolean earliestKnown = true;

    RocksDbWindowStore(String name, Path dir, RocksDbStores owner, Serde<V> valueSerde) {
        super(name, dir, owner, valueSerde, List.of("by-key"));
        earliestKnown = size == 0; // a kept store's earliest window is looked up on the first ask
    }

    @Override
    public V fetch(Bytes key, long windowStart) {
        return valueSerde.deserialize(get(family(0), KeyLayout.timeFirst(windowStart, key.get())));
    }

    @Override
    public void put(Bytes key, long windowStart, V value) {
        byte[] k = key.get();
        byte[] window = KeyLayout.timeFirst(windowStart, k);
        boolean existed = exists(family(0), window);
        if (value == null) {
            if (existed) {
                delete(family(0), window);
                delete(family(1), KeyLayout.keyFirst(k, windowStart));
                size--;
                if (windowStart == earliestStart) {
                    earliestKnown = false;
                }
            }
            return;
        }
        put(family(0), window, serialize(value));
        if (!existed) {
            put(family(1), KeyLayout.keyFirst(k, windowStart), KeyLayout.EMPTY);
            size++;
            if (earliestKnown && windowStart < earliestStart) {
                earliestStart = windowStart;
            }
        }
    }

    @Override
    public void fetch(Bytes key, long fromStart, long toStart, WindowVisitor<V> visitor) {
        if (fromStart > toStart) {
            return;
        }
        byte[] k = key.get();
        scan(family(1), KeyLayout.keyFirst(k, fromStart), KeyLayout.justAfter(KeyLayout.keyFirst(k, toStart)), (index, empty) -> {
            long start = KeyLayout.keyFirstTime(index);
            byte[] value = get(family(0), KeyLayout.timeFirst(start, k));
            if (value == null) {
                throw new IllegalStateException("store " + name() + ": window " + start + " indexed by key but absent");
            }
            visitor.visit(key, start, valueSerde.deserialize(value));
            return true;
        });
    }

    @Override
    public void removeStartingBefore(long startLimit, WindowVisitor<V> visitor) {
        long from = earliestStart();
        if (from >= startLimit) {
            return;
        }
        scan(family(0), KeyLayout.time(from), KeyLayout.time(startLimit), (window, value) -> {
            long start = KeyLayout.readTime(window, 0);
            byte[] k = java.util.Arrays.copyOfRange(window, KeyLayout.TIME_BYTES, window.length);
            delete(family(0), window);
            delete(family(1), KeyLayout.keyFirst(k, start));
            size--;
            visitor.visit(Bytes.wrap(k), start, valueSerde.deserialize(value));
            return true;
        });
        earliestStart = firstStartFrom(startLimit);
        earliestKnown = true;
    }

    @Override
    public long earliestStart() {
        if (!earliestKnown) {
            earliestStart = firstStartFrom(Long.MIN_VALUE);
            earliestKnown = true;
        }
        return earliestStart;
    }

    private long firstStartFrom(long start) {
        byte[] first = size == 0 ? null : firstKey(family(0), KeyLayout.time(start));
        return first == null ? Long.MAX_VALUE : KeyLayout.readTime(first, 0);
    }
}
