package io.spate.server.txn;

import io.spate.log.TopicPartition;

import java.util.Set;

/**
 * A transactional id's durable state: the producer id and epoch it hands out, the previous ones
 * (so that a retried InitProducerId after an epoch bump is recognised, KIP-360), the transaction
 * timeout, the state of the current transaction and the partitions it wrote to.
 *
 * @param previousProducerEpoch the epoch before the last bump, -1 for none
 * @param startMs               when the current transaction began (its first partition), -1 when none is open
 */
public record TxnMetadata(String transactionalId, long producerId, long previousProducerId, short producerEpoch,
                          short previousProducerEpoch, int timeoutMs, TxnState state, Set<TopicPartition> partitions,
                          long startMs, long lastUpdateMs) {
    public TxnMetadata {
        partitions = Set.copyOf(partitions);
    }

    TxnMetadata withState(TxnState next, Set<TopicPartition> nextPartitions, long nextStartMs, long nowMs) {
        return new TxnMetadata(transactionalId, producerId, previousProducerId, producerEpoch, previousProducerEpoch, timeoutMs,
                next, nextPartitions, nextStartMs, nowMs);
    }

    TxnMetadata withProducer(long nextProducerId, long nextPreviousProducerId, short nextEpoch, short nextPreviousEpoch) {
        return new TxnMetadata(transactionalId, nextProducerId, nextPreviousProducerId, nextEpoch, nextPreviousEpoch, timeoutMs,
                state, partitions, startMs, lastUpdateMs);
    }

    TxnMetadata withTimeout(int nextTimeoutMs) {
        return new TxnMetadata(transactionalId, producerId, previousProducerId, producerEpoch, previousProducerEpoch, nextTimeoutMs,
                state, partitions, startMs, lastUpdateMs);
    }

    /** The outcome the current transaction is being (or was) completed with. */
    boolean commits() {
        return state == TxnState.PREPARE_COMMIT || state == TxnState.COMPLETE_COMMIT;
    }
}
