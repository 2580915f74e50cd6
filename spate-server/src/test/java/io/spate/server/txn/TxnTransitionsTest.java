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
    void aNewProducersInitBumpsTheEpochAndForgetsThePreviousOne() {
        TxnMetadata next = TxnTransitions.init(empty((short) 3), "t", 30_000, -1, (short) -1, 42, 100).next();
        assertThat(next.producerId()).isEqualTo(7);
        assertThat(next.producerEpoch()).isEqualTo((short) 4);
        assertThat(next.previousProducerEpoch()).as("epoch 3 was fenced, not bumped by its holder").isEqualTo((short) -1);
        assertThat(next.timeoutMs()).isEqualTo(30_000);
    }

    @Test
    void theCurrentProducersOwnBumpRemembersTheEpochItCameFrom() {
        TxnMetadata next = TxnTransitions.init(empty((short) 3), "t", 30_000, 7, (short) 3, 42, 100).next();
        assertThat(next.producerEpoch()).isEqualTo((short) 4);
        assertThat(next.previousProducerEpoch()).isEqualTo((short) 3);
    }

    /**
     * A producer fenced by a new one (same transactional id, no expected epoch) that then asks
     * for an epoch bump with its own (KIP-360) is refused: answered as a retry of the new
     * producer's bump, it would get the new producer's epoch and the two would write as one.
     */
    @Test
    void aProducerFencedByANewOneIsNotHandedTheNewOnesEpoch() {
        TxnMetadata taken = TxnTransitions.init(empty((short) 3), "t", 60_000, -1, (short) -1, 42, 100).next();
        assertThat(taken.producerEpoch()).isEqualTo((short) 4);

        TxnTransitions.Decision fenced = TxnTransitions.init(taken, "t", 60_000, 7, (short) 3, 42, 200);
        assertThat(fenced.error()).isEqualTo(ServiceError.PRODUCER_FENCED);
    }

    /**
     * The abort of an open transaction under a bumped epoch fences whoever opened it, whoever
     * asked: a new producer, the timeout, or the producer itself asking for a bump while its
     * transaction is open (Kafka's rule, which is why its clients end the transaction first). The
     * fencing epoch is handed to nobody; the next new producer gets the one after.
     */
    @Test
    void theEpochThatAbortsAnOpenTransactionIsHandedToNobody() {
        TxnMetadata ongoing = empty((short) 3).withState(TxnState.ONGOING, Set.of(A), 50, 50);
        for (long askedBy : new long[]{-1, 7}) {
            short expected = askedBy < 0 ? -1 : (short) 3;
            TxnMetadata aborting = TxnTransitions.init(ongoing, "t", 60_000, askedBy, expected, 42, 100).next();
            assertThat(aborting.producerEpoch()).isEqualTo((short) 4);
            assertThat(aborting.previousProducerEpoch()).isEqualTo((short) -1);
            TxnMetadata aborted = TxnTransitions.complete(aborting, 150);

            assertThat(TxnTransitions.init(aborted, "t", 60_000, 7, (short) 3, 42, 200).error()).as("asked by %d", askedBy)
                    .isEqualTo(ServiceError.PRODUCER_FENCED);
            assertThat(TxnTransitions.init(aborted, "t", 60_000, -1, (short) -1, 42, 200).next().producerEpoch()).isEqualTo((short) 5);
        }
        assertThat(TxnTransitions.fenceAndAbort(ongoing.withProducer(7, -1, (short) 3, (short) 2), 61_001).previousProducerEpoch())
                .isEqualTo((short) -1);
    }

    /** A request naming an id with no epoch (-1) is no retry of anything, even where no previous epoch is known. */
    @Test
    void anExpectedIdWithoutAnEpochIsFenced() {
        assertThat(TxnTransitions.init(empty((short) 3), "t", 60_000, 7, (short) -1, 42, 100).error()).isEqualTo(ServiceError.PRODUCER_FENCED);
    }

    @Test
    void anExhaustedEpochTakesANewProducerId() {
        TxnMetadata next = TxnTransitions.init(empty((short) (Short.MAX_VALUE - 1)), "t", 30_000, -1, (short) -1, 42, 100).next();
        assertThat(next.producerId()).isEqualTo(42);
        assertThat(next.producerEpoch()).isZero();
        assertThat(next.previousProducerId()).isEqualTo(7);
    }

    /**
     * Past the last epoch the id changes; the old producer's retry (naming its old id) gets the
     * new id it missed, but only when it asked for that bump itself: after a new producer's, it
     * is fenced, not handed the new producer's id.
     */
    @Test
    void aNewProducerIdIsHandedToTheRetryOfTheBumpThatTookItOnly() {
        short last = (short) (Short.MAX_VALUE - 1);
        TxnMetadata recovered = TxnTransitions.init(empty(last), "t", 60_000, 7, last, 42, 100).next();
        assertThat(recovered.producerId()).isEqualTo(42);
        TxnTransitions.Decision retry = TxnTransitions.init(recovered, "t", 60_000, 7, last, 43, 200);
        assertThat(retry.refused()).isFalse();
        assertThat(retry.next()).isNull();
        assertThat(TxnTransitions.init(recovered, "t", 60_000, 42, last, 43, 200).error()).isEqualTo(ServiceError.PRODUCER_FENCED);

        TxnMetadata taken = TxnTransitions.init(empty(last), "t", 60_000, -1, (short) -1, 42, 100).next();
        assertThat(taken.producerId()).isEqualTo(42);
        assertThat(TxnTransitions.init(taken, "t", 60_000, 7, last, 43, 200).error()).isEqualTo(ServiceError.PRODUCER_FENCED);
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
