package io.spate.tables;

import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** What every {@link TableStore} does, run against the in-memory one and RocksDB. */
abstract class TableStoreContract {
    final ManualScheduler scheduler = new ManualScheduler();

    abstract TableStore open(Durability durability);

    static byte[] key(int i) {
        return ("key-" + i).getBytes();
    }

    @Test
    void mergeKeepsTheWinnerAndReportsChanges() {
        try (TableStore store = open(Durability.SYNC_EACH)) {
            assertThat(store.merge(key(1), Cell.value(5, "a".getBytes()), () -> { })).isTrue();
            assertThat(store.merge(key(1), Cell.value(4, "old".getBytes()), () -> { })).isFalse();
            assertThat(store.merge(key(1), Cell.tombstone(6), () -> { })).isTrue();
            assertThat(store.get(key(1))).isEqualTo(Cell.tombstone(6));
            assertThat(store.get(key(2))).isNull();
            assertThat(store.size()).isEqualTo(1);
            assertThat(store.removeIf(key(1), Cell.tombstone(5))).isFalse();
            assertThat(store.removeIf(key(1), Cell.tombstone(6))).isTrue();
            assertThat(store.size()).isZero();
        }
    }

    @Test
    void tracksTheLargestTimestampStored() {
        try (TableStore store = open(Durability.SYNC_EACH)) {
            assertThat(store.maxHlc()).isZero();
            store.merge(key(1), Cell.value(5, "a".getBytes()), () -> { });
            store.merge(key(2), Cell.tombstone(9), () -> { });
            store.merge(key(1), Cell.value(4, "old".getBytes()), () -> { });
            assertThat(store.maxHlc()).isEqualTo(9);
        }
    }

    @Test
    void scansARangeInTokenOrderIncludingWrappingAndWholeRanges() {
        try (TableStore store = open(Durability.NONE)) {
            for (int i = 0; i < 500; i++) {
                store.merge(key(i), Cell.value(1, new byte[]{(byte) i}), () -> { });
            }
            TokenRing ring = TokenRing.of(List.of("a", "b", "c"), 4);
            Set<String> seen = new HashSet<>();
            int total = 0;
            for (TokenRing.RangeReplicas r : ring.ranges(1)) {
                List<Long> tokens = new ArrayList<>();
                store.scan(r.range(), (k, c) -> {
                    assertThat(r.range().contains(TokenRing.token(k))).isTrue();
                    tokens.add(TokenRing.token(k));
                    seen.add(new String(k));
                });
                if (!r.range().wraps()) {
                    assertThat(tokens).isSorted();
                }
                total += tokens.size();
            }
            assertThat(total).isEqualTo(500);
            assertThat(seen).hasSize(500);
            AtomicInteger all = new AtomicInteger();
            store.scan(new TokenRange(42, 42), (k, c) -> all.incrementAndGet());
            assertThat(all).hasValue(500);
        }
    }

    @Test
    void batchedDurabilityAcknowledgesAGroupAfterOneFsync() {
        try (TableStore store = open(Durability.batched(20))) {
            AtomicInteger acked = new AtomicInteger();
            for (int i = 0; i < 10; i++) {
                store.merge(key(i), Cell.value(1, "v".getBytes()), acked::incrementAndGet);
                scheduler.advance(1);
            }
            assertThat(acked).hasValue(0);
            scheduler.advance(11);
            assertThat(acked).hasValue(10);
            assertThat(((GroupCommitStore) store).syncs()).isEqualTo(1);
        }
    }

    @Test
    void syncEachAndNoneAcknowledgeAtOnce() {
        for (Durability d : List.of(Durability.SYNC_EACH, Durability.NONE)) {
            try (TableStore store = open(d)) {
                AtomicInteger acked = new AtomicInteger();
                store.merge(key(1), Cell.value(1, "v".getBytes()), acked::incrementAndGet);
                assertThat(acked).hasValue(1);
                assertThat(((GroupCommitStore) store).syncs()).isEqualTo(d == Durability.NONE ? 0 : 1);
            }
        }
    }

    @Test
    void headersInStoreOrderResumableAfterAKeyEvenARemovedOne() {
        try (TableStore store = open(Durability.NONE)) {
            for (int i = 0; i < 50; i++) {
                store.merge(key(i), i % 2 == 0 ? Cell.tombstone(HybridLogicalClock.of(100 + i, 0))
                        : Cell.value(HybridLogicalClock.of(100 + i, 0), ("v" + i).repeat(50).getBytes()), () -> { });
            }
            List<String> all = new ArrayList<>();
            store.scanAll((k, c) -> all.add(java.util.Arrays.toString(k) + c.hlc() + c.tombstone()));
            List<String> headers = new ArrayList<>();
            store.scanHeaders(null, (k, hlc, tombstone) -> !headers.add(java.util.Arrays.toString(k) + hlc + tombstone));
            assertThat(headers).containsExactly(all.getFirst()); // a visitor's false stops the scan
            headers.clear();
            store.scanHeaders(null, (k, hlc, tombstone) -> {
                headers.add(java.util.Arrays.toString(k) + hlc + tombstone);
                return true;
            });
            assertThat(headers).isEqualTo(all);

            // Ten at a time, resuming after the last key seen, which is removed meanwhile.
            List<String> resumed = new ArrayList<>();
            byte[][] last = new byte[1][];
            int[] removed = {0};
            do {
                List<byte[]> chunk = new ArrayList<>();
                store.scanHeaders(last[0], (k, hlc, tombstone) -> {
                    resumed.add(java.util.Arrays.toString(k) + hlc + tombstone);
                    chunk.add(k);
                    return chunk.size() < 10;
                });
                last[0] = chunk.isEmpty() ? null : chunk.getLast();
                if (last[0] != null) {
                    Cell c = store.get(last[0]);
                    assertThat(store.removeIfHeader(last[0], c.hlc(), !c.tombstone())).isFalse();
                    assertThat(store.removeIfHeader(last[0], c.hlc() + 1, c.tombstone())).isFalse();
                    assertThat(store.removeIfHeader(last[0], c.hlc(), c.tombstone())).isTrue();
                    assertThat(store.get(last[0])).isNull();
                    removed[0]++;
                }
            } while (last[0] != null);
            assertThat(resumed).isEqualTo(all);
            assertThat(store.size()).isEqualTo(50 - removed[0]);
            assertThat(store.removeIfHeader(key(999), 1, false)).isFalse();
        }
    }

    @Test
    void collectsOnlyTombstonesPastTheGrace() {
        try (TableStore store = open(Durability.NONE)) {
            store.merge(key(1), Cell.tombstone(HybridLogicalClock.of(1000, 0)), () -> { });
            store.merge(key(2), Cell.tombstone(HybridLogicalClock.of(3000, 0)), () -> { });
            store.merge(key(3), Cell.value(HybridLogicalClock.of(10, 0), "v".getBytes()), () -> { });
            assertThat(store.purgeTombstones(2000)).isEqualTo(1);
            assertThat(store.get(key(1))).isNull();
            assertThat(store.get(key(2))).isNotNull();
            assertThat(store.get(key(3))).isNotNull();
            assertThat(store.size()).isEqualTo(2);
        }
    }

    @Test
    void collectsSliceBySliceOnlyTheTombstonesOfEachSlice() {
        try (TableStore store = open(Durability.NONE)) {
            List<byte[]> old = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                // Old tombstones, recent tombstones, old values (with a value, to see the header read right past it), and an empty key.
                Cell cell = switch (i % 3) {
                    case 0 -> Cell.tombstone(HybridLogicalClock.of(1000, i));
                    case 1 -> Cell.tombstone(HybridLogicalClock.of(3000, i));
                    default -> Cell.value(HybridLogicalClock.of(10, i), ("value-" + i).repeat(20).getBytes());
                };
                store.merge(key(i), cell, () -> { });
                if (i % 3 == 0) {
                    old.add(key(i));
                }
            }
            store.merge(new byte[0], Cell.tombstone(HybridLogicalClock.of(1000, 0)), () -> { });
            old.add(new byte[0]);
            // One slice takes only the old tombstones whose token it holds.
            TokenRange first = TokenRange.slice(0, 4);
            long inFirst = old.stream().filter(k -> first.contains(TokenRing.token(k))).count();
            assertThat(inFirst).isPositive().isLessThan(old.size());
            assertThat(store.purgeTombstones(first, 2000)).isEqualTo((int) inFirst);
            for (byte[] k : old) {
                assertThat(store.get(k) == null).as(new String(k)).isEqualTo(first.contains(TokenRing.token(k)));
            }
            // The other slices take the rest, and nothing else.
            int purged = 0;
            for (int i = 1; i < 4; i++) {
                purged += store.purgeTombstones(TokenRange.slice(i, 4), 2000);
            }
            assertThat(purged).isEqualTo(old.size() - (int) inFirst);
            assertThat(old).allMatch(k -> store.get(k) == null);
            assertThat(store.size()).isEqualTo(401 - old.size());
            assertThat(store.get(key(2)).value()).isEqualTo(("value-2").repeat(20).getBytes());
        }
    }
}
