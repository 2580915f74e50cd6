package io.spate.server.txn;

import io.spate.log.TopicPartition;
import io.spate.server.errors.ServiceError;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The transaction coordinator's decisions, state by state, and the layout of its records. */
class TxnTransitionsTest {
    private static final TopicPartition A = new TopicPartition("a", 0);
    private static final TopicPartition B = new TopicPartition("b", 1);

    private static TxnMetadata empty(short epoch) {
        return new TxnMetadata("t", 7, -1, epoch, (short) -1, 60_000, TxnState.EMPTY, Set.of(), -1, 0);
    }

    @Test
    void aNewTransactionalIdGetsTheFreshProducerIdAtEpochZero() {
        TxnTransitions.Decision decision = TxnTransitions.init(null, "t", 60_000, -1, (short) -1, 42, 100);
        assertThat(decision.next().producerId()).isEqualTo(42);
        assertThat(decision.next().producerEpoch()).isZero();
        assertThat(decision.next().state()).isEqualTo(TxnState.EMPTY);
    }

    @Test
    void initAgainBumpsTheEpochAndRemembersThePreviousOne() {
        TxnMetadata next = TxnTransitions.init(empty((short) 3), "t", 30_000, -1, (short) -1, 42, 100).next();
        assertThat(next.producerId()).isEqualTo(7);
        assertThat(next.producerEpoch()).isEqualTo((short) 4);
        assertThat(next.previousProducerEpoch()).isEqualTo((short) 3);
        assertThat(next.timeoutMs()).isEqualTo(30_000);
    }

    @Test
    void anExhaustedEpochTakesANewProducerId() {
        TxnMetadata next = TxnTransitions.init(empty((short) (Short.MAX_VALUE - 1)), "t", 30_000, -1, (short) -1, 42, 100).next();
        assertThat(next.producerId()).isEqualTo(42);
        assertThat(next.producerEpoch()).isZero();
        assertThat(next.previousProducerId()).isEqualTo(7);
    }

    @Test
    void initWithAnOpenTransactionAbortsItUnderTheNextEpoch() {
        TxnMetadata ongoing = empty((short) 3).withState(TxnState.ONGOING, Set.of(A, B), 50, 50);
        TxnMetadata next = TxnTransitions.init(ongoing, "t", 60_000, -1, (short) -1, 42, 100).next();
        assertThat(next.state()).isEqualTo(TxnState.PREPARE_ABORT);
        assertThat(next.producerEpoch()).isEqualTo((short) 4);
        assertThat(next.partitions()).containsExactlyInAnyOrder(A, B);
    }

    @Test
    void kip360RecoveryAcceptsTheCurrentProducerAndFencesAnOlderOne() {
        TxnMetadata current = empty((short) 3);
        assertThat(TxnTransitions.init(current, "t", 60_000, 7, (short) 3, 42, 100).next().producerEpoch()).isEqualTo((short) 4);
        assertThat(TxnTransitions.init(current, "t", 60_000, 7, (short) 1, 42, 100).error()).isEqualTo(ServiceError.PRODUCER_FENCED);
        // A retry of the init that bumped 2 -> 3 gets the answer it missed, no second bump.
        TxnMetadata bumped = current.withProducer(7, -1, (short) 3, (short) 2);
        TxnTransitions.Decision retry = TxnTransitions.init(bumped, "t", 60_000, 7, (short) 2, 42, 100);
        assertThat(retry.refused()).isFalse();
        assertThat(retry.next()).isNull();
    }

    @Test
    void addPartitionsOpensATransactionAndOnlyWritesWhatIsNew() {
        TxnMetadata ongoing = TxnTransitions.addPartitions(empty((short) 0), "t", 7, (short) 0, Set.of(A), 100).next();
        assertThat(ongoing.state()).isEqualTo(TxnState.ONGOING);
        assertThat(ongoing.startMs()).isEqualTo(100);
        assertThat(TxnTransitions.addPartitions(ongoing, "t", 7, (short) 0, Set.of(A), 200)).isEqualTo(TxnTransitions.Decision.NOTHING);
        TxnMetadata wider = TxnTransitions.addPartitions(ongoing, "t", 7, (short) 0, Set.of(B), 200).next();
        assertThat(wider.partitions()).containsExactlyInAnyOrder(A, B);
        assertThat(wider.startMs()).isEqualTo(100);
    }

    @Test
    void requestsFromAnotherProducerOrEpochAreRefused() {
        TxnMetadata current = empty((short) 2);
        assertThat(TxnTransitions.addPartitions(current, "t", 8, (short) 2, Set.of(A), 0).error()).isEqualTo(ServiceError.INVALID_PRODUCER_ID_MAPPING);
        assertThat(TxnTransitions.addPartitions(current, "t", 7, (short) 1, Set.of(A), 0).error()).isEqualTo(ServiceError.PRODUCER_FENCED);
        assertThat(TxnTransitions.addPartitions(null, "t", 7, (short) 1, Set.of(A), 0).error()).isEqualTo(ServiceError.INVALID_PRODUCER_ID_MAPPING);
    }

    @Test
    void endTxnPreparesThenRetriesAnswerAndMismatchesAreRefused() {
        TxnMetadata ongoing = empty((short) 0).withState(TxnState.ONGOING, Set.of(A), 10, 10);
        TxnMetadata preparing = TxnTransitions.end(ongoing, "t", 7, (short) 0, true, 20).next();
        assertThat(preparing.state()).isEqualTo(TxnState.PREPARE_COMMIT);
        assertThat(TxnTransitions.end(preparing, "t", 7, (short) 0, true, 30).error()).isEqualTo(ServiceError.CONCURRENT_TRANSACTIONS);
        assertThat(TxnTransitions.end(preparing, "t", 7, (short) 0, false, 30).error()).isEqualTo(ServiceError.INVALID_TXN_STATE);
        TxnMetadata done = TxnTransitions.complete(preparing, 40);
        assertThat(done.state()).isEqualTo(TxnState.COMPLETE_COMMIT);
        assertThat(done.partitions()).isEmpty();
        assertThat(TxnTransitions.end(done, "t", 7, (short) 0, true, 50)).isEqualTo(TxnTransitions.Decision.NOTHING);
        assertThat(TxnTransitions.end(done, "t", 7, (short) 0, false, 50).error()).isEqualTo(ServiceError.INVALID_TXN_STATE);
        assertThat(TxnTransitions.end(empty((short) 0), "t", 7, (short) 0, true, 50).error()).isEqualTo(ServiceError.INVALID_TXN_STATE);
    }

    @Test
    void aTransactionTimesOutOnlyWhenOpenLongerThanItsTimeout() {
        TxnMetadata ongoing = empty((short) 0).withState(TxnState.ONGOING, Set.of(A), 1_000, 1_000);
        assertThat(TxnTransitions.timedOut(ongoing, 61_000)).isFalse();
        assertThat(TxnTransitions.timedOut(ongoing, 61_001)).isTrue();
        assertThat(TxnTransitions.timedOut(empty((short) 0), Long.MAX_VALUE)).isFalse();
        TxnMetadata aborting = TxnTransitions.fenceAndAbort(ongoing, 61_001);
        assertThat(aborting.state()).isEqualTo(TxnState.PREPARE_ABORT);
        assertThat(aborting.producerEpoch()).isEqualTo((short) 1);
        // Even the next-to-last epoch is bumped: markers at the old one would not fence the producer.
        TxnMetadata late = ongoing.withProducer(7, -1, (short) (Short.MAX_VALUE - 1), (short) (Short.MAX_VALUE - 2));
        assertThat(TxnTransitions.fenceAndAbort(late, 61_001).producerEpoch()).isEqualTo(Short.MAX_VALUE);
    }

    @Test
    void recordsRoundTripThroughTheirLayout() {
        TxnMetadata state = new TxnMetadata("t-ü", 7, 3, (short) 5, (short) 4, 60_000, TxnState.PREPARE_ABORT, Set.of(A, B), 10, 20);
        TxnRecord record = new TxnRecord("t-ü", state);
        TxnRecord read = TxnRecordSerde.INSTANCE.read(ByteBuffer.wrap(TxnRecordSerde.INSTANCE.key(record)),
                ByteBuffer.wrap(TxnRecordSerde.INSTANCE.value(record)));
        assertThat(read).isEqualTo(record);
        TxnRecord removed = new TxnRecord("t", null);
        assertThat(TxnRecordSerde.INSTANCE.value(removed)).isNull();
        assertThat(TxnRecordSerde.INSTANCE.read(ByteBuffer.wrap(TxnRecordSerde.INSTANCE.key(removed)), null)).isEqualTo(removed);
    }
}
