package io.spate.tables;

import io.spate.time.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes held for a replica that could not take them (down, or silent past the request
 * timeout), kept durably in a {@link TableStore} of their own and handed over when the replica is
 * live again. One hint per (replica, table, key): a newer write to the key replaces the older hint,
 * last writer wins, so a long outage costs one hint per key written, not one per write.
 *
 * <p>Bounded: at most {@code maxHints}; past that a new hint is refused (counted as dropped) and
 * anti-entropy repairs that replica instead. Expiring: a hint of a value whose write is older than
 * {@code maxHintAgeMs} is dropped rather than delivered. That age must stay below the tables'
 * tombstone grace: a value delivered after the deletion that replaced it was collected
 * everywhere would come back. A hint of a deletion is the other way round: delivered late it
 * harms nothing, and not delivered within the grace it lets the deleted value come back; it is
 * kept for the longer {@code maxTombstoneHintAgeMs}. (The table simulation found this: with one
 * age for both, a replica cut off and then restarted for most of the grace lost its tombstone
 * hint to expiry, and the value it still held came back once the others collected theirs.)
 *
 * <pre>
 * hint key: [target length: 2][target UTF-8][table length: 2][table UTF-8][key bytes]
 * hint cell: the write itself
 * </pre>
 */
public final class HintStore {
    private static final Logger log = LoggerFactory.getLogger(HintStore.class);

    public record Hint(String target, String table, byte[] key, Cell cell) {
    }

    private final TableStore store;
    private final Time time;
    private final int maxHints;
    private final long maxHintAgeMs;
    private final long maxTombstoneHintAgeMs;
    private final Map<String, Integer> pendingByTarget = new HashMap<>();
    private long stored;
    private long delivered;
    private long dropped;
    private long expired;

    public HintStore(TableStore store, Time time, int maxHints, long maxHintAgeMs, long maxTombstoneHintAgeMs) {
        if (maxTombstoneHintAgeMs < maxHintAgeMs) {
            throw new IllegalArgumentException("tombstone hints must not expire before value hints");
        }
        this.store = store;
        this.time = time;
        this.maxHints = maxHints;
        this.maxHintAgeMs = maxHintAgeMs;
        this.maxTombstoneHintAgeMs = maxTombstoneHintAgeMs;
        store.scanHeaders(null, (k, hlc, tombstone) -> {
            pendingByTarget.merge(targetOf(k), 1, Integer::sum);
            return true;
        });
    }

    static byte[] encodeKey(String target, String table, byte[] key) {
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        byte[] tb = table.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + t.length + tb.length + key.length)
                .putShort((short) t.length).put(t).putShort((short) tb.length).put(tb).put(key).array();
    }

    static String targetOf(byte[] hintKey) {
        ByteBuffer b = ByteBuffer.wrap(hintKey);
        return new String(hintKey, 2, b.getShort(), StandardCharsets.UTF_8);
    }

    static Hint decode(byte[] hintKey, Cell cell) {
        ByteBuffer b = ByteBuffer.wrap(hintKey);
        byte[] t = new byte[b.getShort()];
        b.get(t);
        byte[] tb = new byte[b.getShort()];
        b.get(tb);
        byte[] key = Arrays.copyOfRange(hintKey, b.position(), hintKey.length);
        return new Hint(new String(t, StandardCharsets.UTF_8), new String(tb, StandardCharsets.UTF_8), key, cell);
    }

    private boolean isExpired(Cell cell) {
        return isExpired(cell.hlc(), cell.tombstone());
    }

    private boolean isExpired(long hlc, boolean tombstone) {
        long maxAgeMs = tombstone ? maxTombstoneHintAgeMs : maxHintAgeMs;
        return HybridLogicalClock.physicalMs(hlc) < time.millis() - maxAgeMs;
    }

    /**
     * Keeps a hint. {@code whenDurable} runs once it is on disk, per the hint store's durability.
     *
     * @return false when refused (the store is full, its disk fails, or the write is already too old to hint)
     */
    public boolean add(String target, String table, byte[] key, Cell cell, Runnable whenDurable) {
        if (isExpired(cell)) {
            expired++;
            return false;
        }
        try {
            return store(target, table, key, cell, whenDurable);
        } catch (RuntimeException e) {
            // A hint is a best effort that anti-entropy backs up; a coordinator that failed here
            // instead would leave its request unanswered (and counted in flight) for good.
            dropped++;
            log.warn("tables: hint for {} of a write to {} dropped, the hint store failed: {}", target, table, e.toString());
            return false;
        }
    }

    private boolean store(String target, String table, byte[] key, Cell cell, Runnable whenDurable) {
        byte[] hintKey = encodeKey(target, table, key);
        Cell existing = store.get(hintKey);
        if (existing == null && store.size() >= maxHints) {
            dropped++;
            return false;
        }
        store.merge(hintKey, cell, whenDurable);
        if (existing == null) {
            pendingByTarget.merge(target, 1, Integer::sum);
        }
        stored++;
        return true;
    }

    /** Up to {@code max} hints for {@code target}; expired ones met on the way are dropped. */
    public List<Hint> forTarget(String target, int max) {
        return forTargets(Set.of(target), max).getOrDefault(target, List.of());
    }

    /**
     * Up to {@code max} hints for each of {@code targets}, read from where the last round stopped
     * and only as far as it takes to fill every batch (or once round the store): the hints lie in
     * token order, not by target, and a round that read the whole store to find one replica's
     * next batch cost that replica's hand-off a full pass a second over hundreds of thousands of
     * hints. Expired ones met on the way are dropped, a chunk at a time, and never sent.
     */
    public Map<String, List<Hint>> forTargets(Set<String> targets, int max) {
        Map<String, Integer> pending = new HashMap<>();
        for (String target : targets) {
            if (pending(target) > 0) {
                pending.put(target, pending(target));
            }
        }
        if (pending.isEmpty() || max <= 0) {
            return Map.of();
        }
        BatchScan scan = new BatchScan(pending, max);
        scanFrom(cursor, scan);
        if (!scan.filled() && cursor != null) {
            // Round the end of the store to where this round began: its first hint not expired, which
            // no one removed meanwhile (the scan runs on the tables' thread, and removes only expired ones).
            scan.stopAt = scan.first;
            scanFrom(null, scan);
        }
        cursor = scan.filled() ? scan.last : null;
        // Only the hints about to be sent have their values read.
        Map<String, List<Hint>> out = new HashMap<>();
        scan.keys.forEach((target, batch) -> {
            for (byte[] hintKey : batch) {
                Cell cell = store.get(hintKey);
                if (cell != null && !isExpired(cell)) {
                    out.computeIfAbsent(target, t -> new ArrayList<>()).add(decode(hintKey, cell));
                }
            }
        });
        return out;
    }

    /**
     * Reads on from {@code from} until the scan stops (batches filled, its stop key met) or the
     * store ends, removing the expired hints it meets a chunk at a time.
     */
    private void scanFrom(byte[] from, BatchScan scan) {
        while (true) {
            scan.chunkFull = false;
            store.scanHeaders(from, scan);
            for (Stale h : scan.stale) {
                if (store.removeIfHeader(h.hintKey, h.hlc, h.tombstone)) {
                    pendingByTarget.computeIfPresent(targetOf(h.hintKey), (t, n) -> n == 1 ? null : n - 1);
                    expired++;
                }
            }
            scan.stale.clear();
            if (!scan.chunkFull || scan.filled()) {
                return;
            }
            from = scan.last; // removed: the scan goes on after where it was
        }
    }

    /** Where the next delivery round starts reading the store (null: at its start). */
    private byte[] cursor;

    /** One round's read of the store: the keys of each target's next batch, and the expired hints met. */
    private final class BatchScan implements TableStore.HeaderVisitor {
        private final int max;
        /** Each target's hints not yet known to be expired, from its pending count down. */
        private final Map<String, Integer> live;
        private final java.util.Set<String> filled = new java.util.HashSet<>();
        final Map<String, List<byte[]>> keys = new HashMap<>();
        final List<Stale> stale = new ArrayList<>();
        /** The first hint not expired the round met: where a scan round the end stops. */
        byte[] first;
        byte[] last;
        byte[] stopAt;
        boolean chunkFull;

        BatchScan(Map<String, Integer> pending, int max) {
            this.live = new HashMap<>(pending);
            this.max = max;
        }

        boolean filled() {
            return filled.size() == live.size();
        }

        /** A target's batch is full with {@code max} hints, or with every hint of it that is not expired. */
        private void checkFilled(String target) {
            int taken = keys.getOrDefault(target, List.of()).size();
            if (taken >= Math.min(max, live.get(target))) {
                filled.add(target);
            }
        }

        @Override
        public boolean visit(byte[] hintKey, long hlc, boolean tombstone) {
            if (stopAt != null && Arrays.equals(hintKey, stopAt)) {
                return false;
            }
            last = hintKey;
            String target = targetOf(hintKey);
            boolean wanted = live.containsKey(target) && !filled.contains(target);
            if (isExpired(hlc, tombstone)) {
                stale.add(new Stale(hintKey, hlc, tombstone));
                if (stale.size() >= EXPIRY_CHUNK) {
                    chunkFull = true;
                }
                if (live.containsKey(target)) {
                    // Counted as pending, never to be sent: a target whose hints have all expired
                    // since the last expiry pass would otherwise never fill, and send every round
                    // round the whole store.
                    live.merge(target, -1, Integer::sum);
                    if (wanted) {
                        checkFilled(target);
                    }
                }
                return !filled() && !chunkFull;
            }
            if (first == null) {
                first = hintKey;
            }
            if (wanted) {
                keys.computeIfAbsent(target, t -> new ArrayList<>()).add(hintKey);
                checkFilled(target);
            }
            return !filled();
        }
    }

    /**
     * Expired hints removed per chunk of a pass. A pass reads keys and cell headers only and
     * holds one chunk's keys at a time: collecting every expired hint with its value before
     * removing any held them all at once, and a node restarted after hours down (whose first
     * round expires the most) could run out of memory on hundreds of thousands of hints of up to
     * a MiB each.
     */
    static final int EXPIRY_CHUNK = 1_000;

    private record Stale(byte[] hintKey, long hlc, boolean tombstone) {
    }

    /**
     * One pass over the store in key order: hints past their age are removed a chunk at a time
     * (removed only if the store still holds the cell judged, by its header), every other hint's
     * key goes to {@code unexpired} with its target.
     */
    private void sweep(java.util.function.BiConsumer<byte[], String> unexpired) {
        byte[] after = null;
        while (true) {
            List<Stale> stale = new ArrayList<>();
            store.scanHeaders(after, (hintKey, hlc, tombstone) -> {
                if (isExpired(hlc, tombstone)) {
                    stale.add(new Stale(hintKey, hlc, tombstone));
                    return stale.size() < EXPIRY_CHUNK;
                }
                unexpired.accept(hintKey, targetOf(hintKey));
                return true;
            });
            for (Stale h : stale) {
                if (store.removeIfHeader(h.hintKey, h.hlc, h.tombstone)) {
                    pendingByTarget.computeIfPresent(targetOf(h.hintKey), (t, n) -> n == 1 ? null : n - 1);
                    expired++;
                }
            }
            if (stale.size() < EXPIRY_CHUNK) {
                return; // the scan reached the end
            }
            after = stale.getLast().hintKey;
        }
    }

    /** The target took the hint: forget it, unless a newer write replaced it meanwhile. */
    public void delivered(Hint hint) {
        if (remove(hint)) {
            delivered++;
        }
    }

    private boolean remove(Hint h) {
        if (!store.removeIf(encodeKey(h.target, h.table, h.key), h.cell)) {
            return false;
        }
        pendingByTarget.computeIfPresent(h.target, (t, n) -> n == 1 ? null : n - 1);
        return true;
    }

    /** Drops hints past their age for every target (those that stay down too). */
    public void expire() {
        sweep((hintKey, target) -> { });
    }

    public Iterable<String> targets() {
        return List.copyOf(pendingByTarget.keySet());
    }

    public long pending() {
        return store.size();
    }

    /** The largest timestamp of a hint stored (the node's own writes among them): see {@link TableStore#maxHlc()}. */
    public long maxHlc() {
        return store.maxHlc();
    }

    public int pending(String target) {
        return pendingByTarget.getOrDefault(target, 0);
    }

    public long stored() {
        return stored;
    }

    public long deliveredCount() {
        return delivered;
    }

    public long dropped() {
        return dropped;
    }

    public long expired() {
        return expired;
    }

    public long maxHintAgeMs() {
        return maxHintAgeMs;
    }
}
