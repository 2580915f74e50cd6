package io.spate.log;

import io.spate.record.TestBatches;

import io.spate.record.RecordBatch;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;

class ProducerStateTableTest {
    private final ProducerStateTable table = new ProducerStateTable();
    private long nextOffset;

    private RecordBatch batch(long pid, int epoch, int seq, int count) {
        ByteBuffer buf = TestBatches.idempotent(pid, (short) epoch, seq, count);
        RecordBatch b = RecordBatch.of(buf);
        b.assign(nextOffset, 0);
        return b;
    }

    private void store(RecordBatch b) {
        assertThat(table.check(b)).isInstanceOf(ProducerStateTable.Accept.class);
        table.update(b);
        nextOffset = b.lastOffset() + 1;
    }

    @Test
    void batchesWithoutProducerAreAlwaysAccepted() {
        RecordBatch plain = RecordBatch.of(TestBatches.batch(1, "a"));
        assertThat(table.check(plain)).isSameAs(ProducerStateTable.Check.ACCEPT);
        table.update(plain);
        assertThat(table.producerCount()).isZero();
    }

    @Test
    void duplicateCarriesTheOriginalMetadata() {
        store(batch(1, 0, 0, 3));
        RecordBatch retry = batch(1, 0, 0, 3);
        var check = table.check(retry);
        assertThat(check).isInstanceOf(ProducerStateTable.Duplicate.class);
        var original = ((ProducerStateTable.Duplicate) check).original();
        assertThat(original.firstSequence()).isZero();
        assertThat(original.lastSequence()).isEqualTo(2);
        assertThat(original.firstOffset()).isZero();
        assertThat(original.lastOffset()).isEqualTo(2);
    }

    @Test
    void aRetryOlderThanTheKeptBatchesIsADuplicateNotAGap() {
        // Found by the fault campaigns (seed 1011): after a leader change the client retried a batch
        // the old leader had written while six later ones had reached the new leader. Out of order
        // made the client bump its epoch and write all of them again (21 duplicates).
        for (int i = 0; i < 7; i++) {
            store(batch(1, 0, i * 3, 3));
        }
        var check = table.check(batch(1, 0, 0, 3));
        assertThat(check).isInstanceOf(ProducerStateTable.OldDuplicate.class);
        assertThat(((ProducerStateTable.OldDuplicate) check).before()).as("the oldest kept batch starts at 6").isEqualTo(6);
        // A real gap is still out of order.
        var gap = table.check(batch(1, 0, 30, 3));
        assertThat(((ProducerStateTable.Reject) gap).error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
    }

    @Test
    void aRetryFromBeforeTheFirstSequenceSeenHereIsNotTakenForWritten() {
        // KIP-360: a producer this table did not know started at sequence 10; 9 may never have
        // been written (refused before the append), so its retry is out of order, not "written".
        for (int i = 0; i < 7; i++) {
            store(batch(2, 0, 10 + i, 1));
        }
        var check = table.check(batch(2, 0, 9, 1));
        assertThat(check).isInstanceOf(ProducerStateTable.Reject.class);
        assertThat(((ProducerStateTable.Reject) check).error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
        assertThat(table.check(batch(2, 0, 11, 1))).as("seen here, before the kept five").isInstanceOf(ProducerStateTable.OldDuplicate.class);
    }

    @Test
    void aBatchOverlappingButNotEqualToAStoredOneIsOutOfOrder() {
        store(batch(1, 0, 0, 3));
        var check = table.check(batch(1, 0, 0, 2));
        assertThat(check).isInstanceOf(ProducerStateTable.Reject.class);
        assertThat(((ProducerStateTable.Reject) check).error()).isEqualTo(LogError.OUT_OF_ORDER_SEQUENCE);
    }

    @Test
    void sequenceWrapsAfterIntMax() {
        ProducerStateTable t = new ProducerStateTable();
        RecordBatch top = RecordBatch.of(TestBatches.builder().producer(5, (short) 0, Integer.MAX_VALUE - 1)
                .record(null, "a").record(null, "b").build());
        t.update(top); // as found in the log at load
        RecordBatch wrapped = RecordBatch.of(TestBatches.idempotent(5, (short) 0, 0, 1));
        assertThat(t.check(wrapped)).isInstanceOf(ProducerStateTable.Accept.class);
        RecordBatch notWrapped = RecordBatch.of(TestBatches.idempotent(5, (short) 0, 1, 1));
        assertThat(t.check(notWrapped)).isInstanceOf(ProducerStateTable.Reject.class);
    }

    @Test
    void aNewEpochForgetsTheOldBatches() {
        store(batch(1, 0, 0, 1));
        store(batch(1, 0, 1, 1));
        store(batch(1, 1, 0, 1));
        // sequence 1 of epoch 1 is next; epoch 0's batches are no longer duplicates
        assertThat(table.check(batch(1, 1, 1, 1))).isInstanceOf(ProducerStateTable.Accept.class);
        var old = table.check(batch(1, 0, 1, 1));
        assertThat(((ProducerStateTable.Reject) old).error()).isEqualTo(LogError.INVALID_PRODUCER_EPOCH);
    }

    @Test
    void onlyTheLastFiveBatchesAreKept() {
        for (int i = 0; i < ProducerStateTable.BATCHES_KEPT + 2; i++) {
            store(batch(1, 0, i, 1));
        }
        // older than the five kept: written, offset unknown
        assertThat(table.check(batch(1, 0, 1, 1))).isInstanceOf(ProducerStateTable.OldDuplicate.class);
        assertThat(table.check(batch(1, 0, 2, 1))).isInstanceOf(ProducerStateTable.Duplicate.class);
        assertThat(table.check(batch(1, 0, 6, 1))).isInstanceOf(ProducerStateTable.Duplicate.class);
        assertThat(table.check(batch(1, 0, 7, 1))).isInstanceOf(ProducerStateTable.Accept.class);
    }

    @Test
    void truncateFromDropsLaterBatchesAndEmptyProducers() {
        store(batch(1, 0, 0, 1)); // offset 0
        store(batch(2, 0, 0, 1)); // offset 1
        store(batch(1, 0, 1, 1)); // offset 2
        assertThat(table.truncateFrom(1)).as("producer 2 wrote nothing before the cut: no replay").isTrue();
        assertThat(table.producerCount()).isEqualTo(1);
        assertThat(table.check(batch(1, 0, 1, 1))).isInstanceOf(ProducerStateTable.Accept.class);
        assertThat(table.check(batch(2, 0, 0, 1))).isInstanceOf(ProducerStateTable.Accept.class);
        // producer 2 has no state left: like a producer never seen, it may go on at any sequence (KIP-360)
        assertThat(table.check(batch(2, 0, 1, 1))).isInstanceOf(ProducerStateTable.Accept.class);
        assertThat(table.check(batch(1, 0, 3, 1))).isInstanceOf(ProducerStateTable.Reject.class);
    }

    @Test
    void aCutThatTakesEveryKeptBatchOfATransactionalProducerThatWroteBeforeItAsksForAReplay() {
        // Seen in review: six batches, only the first one below the cut. The cut took the five
        // kept; the transaction kept the entry, whose stale contiguousSince sent the next check to
        // the oldest of no batches (NoSuchElementException, an unknown server error).
        for (int i = 0; i < 6; i++) {
            store(transactional(1, i)); // offsets 0..5
        }

        assertThat(table.truncateFrom(1)).isFalse();

        // Until the log replays it the table stays usable: out of order, not a crash.
        assertThat(table.check(transactional(1, 1))).isInstanceOf(ProducerStateTable.Reject.class);
    }

    @Test
    void aCutThatTakesEveryKeptBatchOfAnIdempotentProducerThatWroteBeforeItAsksForAReplay() {
        for (int i = 0; i < 6; i++) {
            store(batch(1, 0, i, 1)); // offsets 0..5
        }
        // Without a replay the producer is forgotten, and a retry of its batch at offset 0 would be stored again.
        assertThat(table.truncateFrom(1)).isFalse();
    }

    private RecordBatch transactional(long pid, int seq) {
        RecordBatch b = RecordBatch.of(TestBatches.builder().attributes(RecordBatch.TRANSACTIONAL_MASK).producer(pid, (short) 0, seq)
                .record(null, "t" + seq).build());
        b.assign(nextOffset, 0);
        return b;
    }

    private RecordBatch batchAt(long pid, int seq, long timestamp) {
        ByteBuffer buf = TestBatches.builder().producer(pid, (short) 0, seq).baseTimestamp(timestamp).record(null, "v").build();
        RecordBatch b = RecordBatch.of(buf);
        b.assign(nextOffset, 0);
        return b;
    }

    @Test
    void producersIdleForTheExpirationAreForgottenAndMayComeBackAtAnySequence() {
        store(batchAt(1, 0, 1_000));
        store(batchAt(2, 0, 1_000));
        store(batchAt(2, 1, 5_000));
        assertThat(table.removeExpired(6_000, 5_000)).isEqualTo(1);
        assertThat(table.producerCount()).isEqualTo(1);
        assertThat(table.check(batchAt(1, 7, 6_000))).as("an expired producer starts again anywhere").isInstanceOf(ProducerStateTable.Accept.class);
        assertThat(table.check(batchAt(2, 7, 6_000))).as("a live one is still checked").isInstanceOf(ProducerStateTable.Reject.class);
        assertThat(table.removeExpired(10_000, 5_000)).isEqualTo(1);
        assertThat(table.producerCount()).isZero();
    }
}
