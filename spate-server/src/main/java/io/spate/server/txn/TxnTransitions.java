package io.spate.server.txn;

import io.spate.log.TopicPartition;
import io.spate.server.errors.ServiceError;

import java.util.HashSet;
import java.util.Set;

/**
 * The transaction coordinator's decisions, as pure functions of a transactional id's state, the
 * request and the clock: what to answer and what state to write. Kafka's rules (KIP-98, and
 * KIP-360 for producers that recover by asking for a new epoch with their current one), with
 * transaction version 1: partitions are added by AddPartitionsToTxn and EndTxn keeps the epoch.
 * {@link TransactionCoordinator} applies them on the runtime's thread.
 */
final class TxnTransitions {
    private TxnTransitions() {
    }

    /** A decision: refuse with {@code error}, or write {@code next} (null: write nothing) and answer. */
    record Decision(ServiceError error, String message, TxnMetadata next) {
        static Decision refuse(ServiceError error, String message) {
            return new Decision(error, message, null);
        }

        static Decision write(TxnMetadata next) {
            return new Decision(ServiceError.NONE, null, next);
        }

        static final Decision NOTHING = new Decision(ServiceError.NONE, null, null);

        boolean refused() {
            return error != ServiceError.NONE;
        }
    }

    /** An epoch this high is the last one: the next bump takes a new producer id instead (Kafka's rule). */
    static boolean epochExhausted(short epoch) {
        return epoch >= Short.MAX_VALUE - 1;
    }

    /**
     * InitProducerId for a transactional id. {@code freshProducerId} is a producer id never used,
     * taken in case this id is new or its epochs are used up. An open transaction is first
     * aborted under a bumped epoch (which fences the producer that opened it); the caller then
     * answers CONCURRENT_TRANSACTIONS and the client asks again once the abort is complete.
     *
     * <p>The previous epoch is remembered only when the current producer bumped its own epoch
     * (KIP-360: the request names the current id and epoch), so that its retry gets the answer it
     * missed. A new producer's bump, and the fence of an open transaction, forget it (Kafka's
     * lastProducerEpoch = -1): the producer that held it is fenced, and a late or retried request
     * of that producer must not be handed the new one's epoch.
     */
    static Decision init(TxnMetadata current, String transactionalId, int timeoutMs, long expectedProducerId, short expectedEpoch,
                         long freshProducerId, long nowMs) {
        if (current == null) {
            // New, or expired (a KIP-360 producer naming its old id too): nothing of an old transaction can still be
            // open, so it gets a fresh id, as Kafka does.
            return Decision.write(new TxnMetadata(transactionalId, freshProducerId, -1, (short) 0, (short) -1, timeoutMs,
                    TxnState.EMPTY, Set.of(), -1, nowMs));
        }
        boolean recovering = expectedProducerId >= 0;
        boolean retried = recovering && retriesLastBump(current, expectedProducerId, expectedEpoch);
        if (recovering && !retried && !(expectedProducerId == current.producerId() && expectedEpoch == current.producerEpoch())) {
            return Decision.refuse(ServiceError.PRODUCER_FENCED, "producer " + expectedProducerId + " at epoch " + expectedEpoch
                    + " is not the current producer of '" + transactionalId + "' (" + current.producerId() + " at epoch " + current.producerEpoch() + ")");
        }
        if (current.state().preparing()) {
            return Decision.refuse(ServiceError.CONCURRENT_TRANSACTIONS, "the last transaction of '" + transactionalId + "' is completing");
        }
        if (current.state() == TxnState.ONGOING) {
            return Decision.write(fenceAndAbort(current, nowMs));
        }
        if (retried) {
            // A retry of an InitProducerId that was bumped already: the answer it missed.
            return Decision.NOTHING;
        }
        short previousEpoch = recovering ? current.producerEpoch() : (short) -1;
        TxnMetadata bumped = epochExhausted(current.producerEpoch())
                ? current.withProducer(freshProducerId, current.producerId(), (short) 0, previousEpoch)
                : current.withProducer(current.producerId(), current.previousProducerId(), (short) (current.producerEpoch() + 1), previousEpoch);
        return Decision.write(bumped.withTimeout(timeoutMs).withState(TxnState.EMPTY, Set.of(), -1, nowMs));
    }

    /**
     * Whether a request naming {@code producerId} at {@code epoch} is the current producer asking
     * again for the bump it already got: the id and epoch it held before the last bump, which
     * was under the previous producer id when that bump took a new one (epoch 0).
     */
    private static boolean retriesLastBump(TxnMetadata current, long producerId, short epoch) {
        if (current.previousProducerEpoch() < 0 || epoch != current.previousProducerEpoch()) {
            return false;
        }
        boolean rotated = current.producerEpoch() == 0 && current.previousProducerId() >= 0;
        return producerId == (rotated ? current.previousProducerId() : current.producerId());
    }

    /**
     * The open transaction aborted under the next epoch: markers with that epoch fence the
     * producer that opened it on every partition it wrote to (a zombie, or one that timed out).
     * No previous epoch is kept: this epoch is never handed to the producer being fenced, whose
     * retry is refused (Kafka's prepareFenceProducerEpoch, then lastProducerEpoch = -1).
     */
    static TxnMetadata fenceAndAbort(TxnMetadata current, long nowMs) {
        // Up to the very last epoch (Kafka's rule): a marker without a bump would not fence the producer that opened the transaction.
        short epoch = current.producerEpoch() == Short.MAX_VALUE ? current.producerEpoch() : (short) (current.producerEpoch() + 1);
        return current.withProducer(current.producerId(), current.previousProducerId(), epoch, (short) -1)
                .withState(TxnState.PREPARE_ABORT, current.partitions(), current.startMs(), nowMs);
    }

    /** Checks that a request comes from the current producer of the transactional id. */
    static Decision checkProducer(TxnMetadata current, String transactionalId, long producerId, short epoch) {
        if (current == null) {
            return Decision.refuse(ServiceError.INVALID_PRODUCER_ID_MAPPING, "no producer has been initialised for '" + transactionalId + "'");
        }
        if (producerId != current.producerId()) {
            return Decision.refuse(ServiceError.INVALID_PRODUCER_ID_MAPPING, "producer " + producerId + " is not the producer of '"
                    + transactionalId + "' (" + current.producerId() + ")");
        }
        if (epoch != current.producerEpoch()) {
            return Decision.refuse(ServiceError.PRODUCER_FENCED, "producer " + producerId + " at epoch " + epoch
                    + " was fenced: '" + transactionalId + "' is at epoch " + current.producerEpoch());
        }
        return Decision.NOTHING;
    }

    /** AddPartitionsToTxn (and AddOffsetsToTxn, with the group's offsets partition). */
    static Decision addPartitions(TxnMetadata current, String transactionalId, long producerId, short epoch,
                                  Set<TopicPartition> partitions, long nowMs) {
        Decision producer = checkProducer(current, transactionalId, producerId, epoch);
        if (producer.refused()) {
            return producer;
        }
        if (current.state().preparing()) {
            return Decision.refuse(ServiceError.CONCURRENT_TRANSACTIONS, "the last transaction of '" + transactionalId + "' is completing");
        }
        if (current.state() == TxnState.ONGOING && current.partitions().containsAll(partitions)) {
            return Decision.NOTHING;
        }
        Set<TopicPartition> all = new HashSet<>(current.state() == TxnState.ONGOING ? current.partitions() : Set.of());
        all.addAll(partitions);
        long startMs = current.state() == TxnState.ONGOING ? current.startMs() : nowMs;
        return Decision.write(current.withState(TxnState.ONGOING, all, startMs, nowMs));
    }

    /** EndTxn: the Prepare state to write, nothing for a retry of one completed, or why not. */
    static Decision end(TxnMetadata current, String transactionalId, long producerId, short epoch, boolean commit, long nowMs) {
        Decision producer = checkProducer(current, transactionalId, producerId, epoch);
        if (producer.refused()) {
            return producer;
        }
        String outcome = commit ? "commit" : "abort";
        return switch (current.state()) {
            case ONGOING -> Decision.write(current.withState(commit ? TxnState.PREPARE_COMMIT : TxnState.PREPARE_ABORT,
                    current.partitions(), current.startMs(), nowMs));
            case COMPLETE_COMMIT, COMPLETE_ABORT -> current.commits() == commit ? Decision.NOTHING
                    : Decision.refuse(ServiceError.INVALID_TXN_STATE, "cannot " + outcome + ": the last transaction of '" + transactionalId
                    + "' ended with " + current.state().kafkaName());
            case PREPARE_COMMIT, PREPARE_ABORT -> current.commits() == commit
                    ? Decision.refuse(ServiceError.CONCURRENT_TRANSACTIONS, "the last transaction of '" + transactionalId + "' is completing")
                    : Decision.refuse(ServiceError.INVALID_TXN_STATE, "cannot " + outcome + ": '" + transactionalId + "' is in "
                    + current.state().kafkaName());
            case EMPTY -> Decision.refuse(ServiceError.INVALID_TXN_STATE, "cannot " + outcome + ": '" + transactionalId + "' has no open transaction");
        };
    }

    /** The Complete state that follows a Prepare state once every marker is written. */
    static TxnMetadata complete(TxnMetadata preparing, long nowMs) {
        return preparing.withState(preparing.state() == TxnState.PREPARE_COMMIT ? TxnState.COMPLETE_COMMIT : TxnState.COMPLETE_ABORT,
                Set.of(), -1, nowMs);
    }

    /** An open transaction older than its timeout: the coordinator aborts it. */
    static boolean timedOut(TxnMetadata current, long nowMs) {
        return current.state() == TxnState.ONGOING && current.startMs() >= 0 && nowMs - current.startMs() > current.timeoutMs();
    }
}
