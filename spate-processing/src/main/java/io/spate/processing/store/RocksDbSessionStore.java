package io.spate.processing.store;

import io.spate.stream.Serde;
import io.spate.stream.store.Bytes;
import io.spate.stream.store.SessionStore;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sessions in two column families (layouts in {@link KeyLayout}):
 *
 * <pre>
 *   default   keyFirst(key, start)        -> end (8, big-endian) | value   a key's sessions by start
 *   by-end    endFirst(end, key, start)   -> (empty)                       expiry and earliestEnd, by end
 * </pre>
 *
 * The earliest end is kept in memory, as {@link RocksDbWindowStore} keeps its earliest start.
 */
final class RocksDbSessionStore<V> extends RocksDbStore<V> implements SessionStore<V> {
    private record Found(long start, long end, byte[] value) {
    }

    private long earliestEnd = Long.MAX_VALUE;
    private boolean earliestKnown = true;

    RocksDbSessionStore(String name, Path dir, RocksDbStores owner, Serde<V> valueSerde) {
        super(name, dir, owner, valueSerde, List.of("by-end"));
        earliestKnown = size == 0; // a kept store's earliest session is looked up on the first ask
    }

    @Override
    public void find(Bytes key, long earliestEnd, long latestStart, SessionVisitor<V> visitor) {
        byte[] k = key.get();
        List<Found> found = new ArrayList<>(2);
        scan(family(0), KeyLayout.keyPrefix(k), KeyLayout.justAfter(KeyLayout.keyFirst(k, latestStart)), (session, stored) -> {
            long end = ByteBuffer.wrap(stored).getLong();
            if (end >= earliestEnd) {
                found.add(new Found(KeyLayout.keyFirstTime(session), end, stored));
            }
            return true;
        });
        // Visited once the scan is over: the visitor may put and remove sessions of this key.
        for (Found f : found) {
            visitor.visit(key, f.start, f.end, value(f.value));
        }
    }

    @Override
    public void put(Bytes key, long start, long end, V value) {
        byte[] k = key.get();
        byte[] session = KeyLayout.keyFirst(k, start);
        byte[] old = get(family(0), session);
        if (old != null) {
            long oldEnd = ByteBuffer.wrap(old).getLong();
            delete(family(1), KeyLayout.endFirst(oldEnd, k, start));
            size--;
            if (oldEnd == earliestEnd) {
                earliestKnown = false;
            }
        }
        if (value == null) {
            if (old != null) {
                delete(family(0), session);
            }
            return;
        }
        byte[] v = serialize(value);
        put(family(0), session, ByteBuffer.allocate(KeyLayout.TIME_BYTES + v.length).putLong(end).put(v).array());
        put(family(1), KeyLayout.endFirst(end, k, start), KeyLayout.EMPTY);
        size++;
        if (earliestKnown && end < earliestEnd) {
            earliestEnd = end;
        }
    }

    @Override
    public void removeEndingBefore(long endLimit, SessionVisitor<V> visitor) {
        long from = earliestEnd();
        if (from >= endLimit) {
            return;
        }
        scan(family(1), KeyLayout.time(from), KeyLayout.time(endLimit), (index, empty) -> {
            long end = KeyLayout.readTime(index, 0);
            long start = KeyLayout.keyFirstTime(index);
            byte[] k = KeyLayout.endFirstKey(index);
            byte[] session = KeyLayout.keyFirst(k, start);
            byte[] stored = get(family(0), session);
            if (stored == null) {
                throw new IllegalStateException("store " + name() + ": session [" + start + ", " + end + "] indexed by end but absent");
            }
            delete(family(0), session);
            delete(family(1), index);
            size--;
            visitor.visit(Bytes.wrap(k), start, end, value(stored));
            return true;
        });
        this.earliestEnd = firstEndFrom(endLimit);
        earliestKnown = true;
    }

    @Override
    public long earliestEnd() {
        if (!earliestKnown) {
            earliestEnd = firstEndFrom(Long.MIN_VALUE);
            earliestKnown = true;
        }
        return earliestEnd;
    }

    private long firstEndFrom(long end) {
        byte[] first = size == 0 ? null : firstKey(family(1), KeyLayout.time(end));
        return first == null ? Long.MAX_VALUE : KeyLayout.readTime(first, 0);
    }

    private V value(byte[] stored) {
        return valueSerde.deserialize(Arrays.copyOfRange(stored, KeyLayout.TIME_BYTES, stored.length));
    }
}
