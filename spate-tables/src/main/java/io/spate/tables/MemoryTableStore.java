package io.spate.tables;

import io.spate.time.Scheduler;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * A store in memory with a model of what a crash loses, for the simulation and unit tests. Every
 * change is appended to a list of unsynced changes until an fsync; {@link #crash} (a power loss)
 * keeps a random prefix of them, as a write-ahead log on disk keeps an ordered prefix, and throws
 * away the rest and every waiting acknowledgement.
 */
public final class MemoryTableStore extends GroupCommitStore {
    private record Change(StoreKey key, Cell cell) { // cell null: removal
    }

    private TreeMap<StoreKey, Cell> live = new TreeMap<>();
    private final TreeMap<StoreKey, Cell> durable = new TreeMap<>();
    private final List<Change> unsynced = new ArrayList<>();
    private long maxHlc;

    public MemoryTableStore(Durability durability, Scheduler scheduler) {
        super(durability, scheduler);
    }

    @Override
    public Cell get(byte[] key) {
        return live.get(new StoreKey(key));
    }

    @Override
    public boolean merge(byte[] key, Cell cell, Runnable whenDurable) {
        StoreKey k = new StoreKey(key);
        Cell old = live.get(k);
        boolean changed = Cell.compare(cell, old) > 0;
        if (changed) {
            live.put(k, cell);
            unsynced.add(new Change(k, cell));
            maxHlc = Math.max(maxHlc, cell.hlc());
        }
        afterWrite(whenDurable);
        return changed;
    }

    @Override
    public boolean removeIf(byte[] key, Cell expected) {
        StoreKey k = new StoreKey(key);
        if (!expected.equals(live.get(k))) {
            return false;
        }
        live.remove(k);
        unsynced.add(new Change(k, null));
        return true;
    }

    @Override
    public boolean removeIfHeader(byte[] key, long hlc, boolean tombstone) {
        Cell stored = live.get(new StoreKey(key));
        return stored != null && stored.hlc() == hlc && stored.tombstone() == tombstone && removeIf(key, stored);
    }

    @Override
    public void scanHeaders(byte[] afterKey, HeaderVisitor visitor) {
        SortedMap<StoreKey, Cell> rest = afterKey == null ? live : live.tailMap(new StoreKey(afterKey), false);
        for (Map.Entry<StoreKey, Cell> e : rest.entrySet()) {
            if (!visitor.visit(e.getKey().key, e.getValue().hlc(), e.getValue().tombstone())) {
                return;
            }
        }
    }

    @Override
    public void scan(TokenRange range, BiConsumer<byte[], Cell> visitor) {
        long a = range.startExclusive();
        long b = range.endInclusive();
        if (range.wraps()) {
            visit(after(live, a), visitor);
            visit(upTo(live, b), visitor);
        } else {
            visit(upTo(after(live, a), b), visitor);
        }
    }

    private static SortedMap<StoreKey, Cell> after(SortedMap<StoreKey, Cell> m, long token) {
        return token == Long.MAX_VALUE ? Collections.emptySortedMap() : m.tailMap(StoreKey.first(token + 1));
    }

    private static SortedMap<StoreKey, Cell> upTo(SortedMap<StoreKey, Cell> m, long token) {
        return token == Long.MAX_VALUE ? m : m.headMap(StoreKey.first(token + 1));
    }

    private static void visit(Map<StoreKey, Cell> part, BiConsumer<byte[], Cell> visitor) {
        part.forEach((k, c) -> visitor.accept(k.key, c));
    }

    @Override
    public void scanAll(BiConsumer<byte[], Cell> visitor) {
        visit(live, visitor);
    }

    @Override
    public int purgeTombstones(long purgeBeforeMs) {
        List<Map.Entry<StoreKey, Cell>> purge = live.entrySet().stream()
                .filter(e -> e.getValue().purgeable(purgeBeforeMs)).toList();
        purge.forEach(e -> removeIf(e.getKey().key, e.getValue()));
        return purge.size();
    }

    @Override
    public int purgeTombstones(TokenRange range, long purgeBeforeMs) {
        List<byte[]> keys = new java.util.ArrayList<>();
        List<Cell> cells = new java.util.ArrayList<>();
        scan(range, (k, c) -> {
            if (c.purgeable(purgeBeforeMs)) {
                keys.add(k);
                cells.add(c);
            }
        });
        return removeEach(keys, cells);
    }

    @Override
    public long maxHlc() {
        return maxHlc;
    }

    @Override
    public long size() {
        return live.size();
    }

    @Override
    protected void syncToDisk() {
        for (Change c : unsynced) {
            apply(durable, c);
        }
        unsynced.clear();
    }

    private static void apply(TreeMap<StoreKey, Cell> map, Change c) {
        if (c.cell == null) {
            map.remove(c.key);
        } else {
            map.put(c.key, c.cell);
        }
    }

    /**
     * A power loss: a random prefix of the unsynced changes reached the disk, the rest and every
     * waiting acknowledgement are gone. What reopens is the durable state.
     *
     * @return changes lost
     */
    public int crash(Random random) {
        dropWaiting();
        int kept = unsynced.isEmpty() ? 0 : random.nextInt(unsynced.size() + 1);
        for (int i = 0; i < kept; i++) {
            apply(durable, unsynced.get(i));
        }
        int lost = unsynced.size() - kept;
        unsynced.clear();
        live = new TreeMap<>(durable);
        maxHlc = live.values().stream().mapToLong(Cell::hlc).max().orElse(0); // as a reopened store finds it
        return lost;
    }

    @Override
    public void close() {
        flush();
    }
}
