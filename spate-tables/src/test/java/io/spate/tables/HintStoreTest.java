package io.spate.tables;

import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class HintStoreTest {
    private final ManualScheduler time = new ManualScheduler(1_000_000);
    private final MemoryTableStore backing = new MemoryTableStore(Durability.SYNC_EACH, time);

    private long now() {
        return HybridLogicalClock.of(time.millis(), 0);
    }

    @Test
    void oneHintPerKeyTheNewestWriteWins() {
        HintStore hints = new HintStore(backing, time, 10, 60_000, 60_000);
        AtomicInteger durable = new AtomicInteger();
        assertThat(hints.add("n2", "t", "k".getBytes(), Cell.value(now(), "a".getBytes()), durable::incrementAndGet)).isTrue();
        assertThat(hints.add("n2", "t", "k".getBytes(), Cell.value(now() + 1, "b".getBytes()), durable::incrementAndGet)).isTrue();
        assertThat(hints.add("n3", "t", "k".getBytes(), Cell.value(now(), "a".getBytes()), durable::incrementAndGet)).isTrue();
        assertThat(durable).hasValue(3);
        assertThat(hints.pending()).isEqualTo(2);
        assertThat(hints.pending("n2")).isEqualTo(1);
        assertThat(hints.forTarget("n2", 10)).singleElement().satisfies(h -> {
            assertThat(h.table()).isEqualTo("t");
            assertThat(h.key()).isEqualTo("k".getBytes());
            assertThat(h.cell().value()).isEqualTo("b".getBytes());
        });
    }

    @Test
    void refusesPastItsBoundAndKeepsReplacingKnownKeys() {
        HintStore hints = new HintStore(backing, time, 3, 60_000, 60_000);
        for (int i = 0; i < 3; i++) {
            assertThat(hints.add("n2", "t", ("k" + i).getBytes(), Cell.value(now(), "v".getBytes()), () -> { })).isTrue();
        }
        assertThat(hints.add("n2", "t", "k9".getBytes(), Cell.value(now(), "v".getBytes()), () -> { })).isFalse();
        assertThat(hints.add("n2", "t", "k0".getBytes(), Cell.value(now() + 1, "w".getBytes()), () -> { })).isTrue();
        assertThat(hints.dropped()).isEqualTo(1);
        assertThat(hints.pending()).isEqualTo(3);
    }

    @Test
    void expiredHintsAreDroppedNotDelivered() {
        HintStore hints = new HintStore(backing, time, 10, 5_000, 5_000);
        hints.add("n2", "t", "old".getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
        time.advance(3_000);
        hints.add("n2", "t", "new".getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
        assertThat(hints.add("n2", "t", "stale".getBytes(), Cell.value(HybridLogicalClock.of(time.millis() - 6_000, 0),
                "v".getBytes()), () -> { })).isFalse();
        time.advance(2_500);
        assertThat(hints.forTarget("n2", 10)).extracting(h -> new String(h.key())).containsExactly("new");
        time.advance(3_000);
        hints.expire();
        assertThat(hints.pending()).isZero();
        assertThat(hints.expired()).isEqualTo(3);
    }

    @Test
    void aDeletionsHintOutlivesAValues() {
        HintStore hints = new HintStore(backing, time, 10, 1_000, 10_000);
        hints.add("n2", "t", "v".getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
        hints.add("n2", "t", "d".getBytes(), Cell.tombstone(now()), () -> { });
        time.advance(5_000);
        assertThat(hints.forTarget("n2", 10)).extracting(h -> new String(h.key())).containsExactly("d");
        time.advance(5_001);
        hints.expire();
        assertThat(hints.pending()).isZero();
    }

    @Test
    void aDeliveredHintIsForgottenUnlessANewerWriteReplacedIt() {
        HintStore hints = new HintStore(backing, time, 10, 60_000, 60_000);
        hints.add("n2", "t", "a".getBytes(), Cell.value(now(), "1".getBytes()), () -> { });
        hints.add("n2", "t", "b".getBytes(), Cell.value(now(), "1".getBytes()), () -> { });
        var batch = hints.forTarget("n2", 10);
        hints.add("n2", "t", "b".getBytes(), Cell.value(now() + 5, "2".getBytes()), () -> { });
        batch.forEach(hints::delivered);
        assertThat(hints.forTarget("n2", 10)).extracting(h -> new String(h.cell().value())).containsExactly("2");
        assertThat(hints.deliveredCount()).isEqualTo(1);
    }

    @Test
    void hintsSurviveARestartOnceDurable() {
        MemoryTableStore batched = new MemoryTableStore(Durability.batched(10), time);
        HintStore hints = new HintStore(batched, time, 10, 60_000, 60_000);
        AtomicInteger acked = new AtomicInteger();
        hints.add("n2", "t", "a".getBytes(), Cell.value(now(), "1".getBytes()), acked::incrementAndGet);
        assertThat(acked).hasValue(0);
        time.advance(10);
        assertThat(acked).hasValue(1);
        hints.add("n3", "t", "b".getBytes(), Cell.value(now(), "1".getBytes()), acked::incrementAndGet);
        batched.crash(new java.util.Random(1) {
            @Override
            public int nextInt(int bound) {
                return 0; // the power loss keeps none of the unsynced writes
            }
        });
        HintStore reopened = new HintStore(batched, time, 10, 60_000, 60_000);
        assertThat(reopened.pending()).isEqualTo(1);
        assertThat(reopened.pending("n2")).isEqualTo(1);
        assertThat(acked).hasValue(1);
    }

    @Test
    void aRoundGivesEachTargetItsBatchAndNeverAnExpiredHint() {
        HintStore hints = new HintStore(backing, time, 100, 5_000, 5_000);
        hints.add("n2", "t", "stale".getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
        time.advance(6_000);
        for (int i = 0; i < 5; i++) {
            hints.add("n2", "t", ("a" + i).getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
            hints.add("n3", "t", ("b" + i).getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
            hints.add("n4", "t", ("c" + i).getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
        }
        var batches = hints.forTargets(java.util.Set.of("n2", "n3"), 3);
        assertThat(batches.keySet()).containsExactlyInAnyOrder("n2", "n3");
        assertThat(batches.get("n2")).hasSize(3).allSatisfy(h -> assertThat(new String(h.key())).startsWith("a"));
        assertThat(batches.get("n3")).hasSize(3).allSatisfy(h -> assertThat(new String(h.key())).startsWith("b"));
        assertThat(hints.pending("n4")).isEqualTo(5);
        hints.expire();
        assertThat(hints.expired()).isEqualTo(1);
        assertThat(hints.pending("n2")).isEqualTo(5);
    }

    /**
     * A replica back after an outage takes its hints a batch a round, among many more hints for a
     * replica still down: each round reads on from where the last stopped, about as far as its
     * batch takes (a round read the whole store before), and every hint is handed over once.
     */
    @Test
    void eachRoundReadsOnlyAsFarAsItsBatchTakesAndEveryHintIsHandedOverOnce() {
        ValueCountingStore counting = new ValueCountingStore(backing);
        HintStore hints = new HintStore(counting, time, 100_000, 60_000, 60_000);
        int back = 5_000;
        int down = 20_000;
        for (int i = 0; i < down; i++) {
            hints.add("down", "t", ("d" + i).getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
            if (i < back) {
                hints.add("back", "t", ("b" + i).getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
            }
        }
        java.util.Set<String> handedOver = new java.util.HashSet<>();
        long headersBefore = counting.headers;
        int rounds = 0;
        while (hints.pending("back") > 0) {
            List<HintStore.Hint> batch = hints.forTarget("back", 100);
            assertThat(batch).hasSize(Math.min(100, hints.pending("back")));
            for (HintStore.Hint h : batch) {
                assertThat(handedOver.add(new String(h.key()))).as("handed over once: %s", new String(h.key())).isTrue();
                hints.delivered(h);
            }
            rounds++;
        }
        assertThat(handedOver).hasSize(back);
        assertThat(rounds).isEqualTo(back / 100);
        // About one pass over the store for the whole hand-off (a round reads ~500 headers to find
        // 100 of the replica's), where reading the store whole at every round read 50 passes.
        assertThat(counting.headers - headersBefore).isLessThan(2L * (back + down));
        assertThat(hints.pending("down")).isEqualTo(down);
    }

    /**
     * Hours down leave a node with many expired hints, and its first round after a restart expires
     * them: collecting every expired hint with its value before removing any held them all at once
     * (200,000 hints of 4 KB: 800 MB of heap). The store here counts the bytes of the values it
     * hands out, the memory such a pass can hold: expiry reads none, a delivery round only those
     * of the batch it sends, and expiry removes everything, in chunks, whichever its targets.
     */
    @Test
    void expiryReadsNoValuesAndDeliveryOnlyTheBatchItSends() {
        ValueCountingStore counting = new ValueCountingStore(backing);
        HintStore hints = new HintStore(counting, time, 10_000, 5_000, 10_000);
        byte[] value = new byte[1_024];
        int stale = 2 * HintStore.EXPIRY_CHUNK + 500;
        for (int i = 0; i < stale; i++) {
            hints.add("n" + (i % 3), "t", ("old" + i).getBytes(), Cell.value(now(), value), () -> { });
        }
        time.advance(6_000);
        for (int i = 0; i < 20; i++) {
            hints.add("n1", "t", ("new" + i).getBytes(), Cell.value(now(), value), () -> { });
        }
        counting.valueBytes = 0;

        hints.expire();
        assertThat(counting.valueBytes).isZero();
        assertThat(hints.expired()).isEqualTo(stale);
        assertThat(hints.pending()).isEqualTo(20);
        assertThat(hints.pending("n0")).isZero();
        assertThat(hints.pending("n1")).isEqualTo(20);
        assertThat(hints.targets()).containsExactly("n1");

        var batch = hints.forTarget("n1", 5);
        assertThat(batch).hasSize(5).allSatisfy(h -> assertThat(h.cell().value()).isEqualTo(value));
        assertThat(counting.valueBytes).isEqualTo(5L * value.length);
    }

    /**
     * A replica back after its hints all expired (the expiry pass had not run yet): its pending
     * count said thousands, its batch could never fill, and each round read round the whole
     * store, removing a chunk of the expired hints at most. One round now removes them all.
     */
    @Test
    void aRoundForAReplicaWhoseHintsAllExpiredRemovesThemAll() {
        HintStore hints = new HintStore(backing, time, 100_000, 5_000, 5_000);
        int expiredHints = 3 * HintStore.EXPIRY_CHUNK;
        for (int i = 0; i < expiredHints; i++) {
            hints.add("back", "t", ("b" + i).getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
        }
        time.advance(6_000);
        for (int i = 0; i < 5_000; i++) {
            hints.add("down", "t", ("d" + i).getBytes(), Cell.value(now(), "v".getBytes()), () -> { });
        }

        assertThat(hints.forTarget("back", 100)).isEmpty();

        assertThat(hints.pending("back")).isZero();
        assertThat(hints.expired()).isEqualTo(expiredHints);
        assertThat(hints.targets()).containsExactly("down");
        assertThat(hints.pending("down")).isEqualTo(5_000);
    }

    /** Counts the value bytes of the cells it hands out. */
    private static final class ValueCountingStore implements TableStore {
        private final TableStore inner;
        long valueBytes;
        long headers;

        ValueCountingStore(TableStore inner) {
            this.inner = inner;
        }

        private Cell counted(Cell c) {
            if (c != null) {
                valueBytes += c.value().length;
            }
            return c;
        }

        @Override
        public Cell get(byte[] key) {
            return counted(inner.get(key));
        }

        @Override
        public boolean merge(byte[] key, Cell cell, Runnable whenDurable) {
            return inner.merge(key, cell, whenDurable);
        }

        @Override
        public boolean removeIf(byte[] key, Cell expected) {
            return inner.removeIf(key, expected);
        }

        @Override
        public boolean removeIfHeader(byte[] key, long hlc, boolean tombstone) {
            return inner.removeIfHeader(key, hlc, tombstone);
        }

        @Override
        public void scanHeaders(byte[] afterKey, HeaderVisitor visitor) {
            inner.scanHeaders(afterKey, (key, hlc, tombstone) -> {
                headers++;
                return visitor.visit(key, hlc, tombstone);
            });
        }

        @Override
        public void scan(TokenRange range, java.util.function.BiConsumer<byte[], Cell> visitor) {
            inner.scan(range, (k, c) -> visitor.accept(k, counted(c)));
        }

        @Override
        public void scanAll(java.util.function.BiConsumer<byte[], Cell> visitor) {
            inner.scanAll((k, c) -> visitor.accept(k, counted(c)));
        }

        @Override
        public int purgeTombstones(long purgeBeforeMs) {
            return inner.purgeTombstones(purgeBeforeMs);
        }

        @Override
        public int purgeTombstones(TokenRange range, long purgeBeforeMs) {
            return inner.purgeTombstones(range, purgeBeforeMs);
        }

        @Override
        public long maxHlc() {
            return inner.maxHlc();
        }

        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public void flush() {
            inner.flush();
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
