package io.spate.coordinator;

import java.util.List;

/**
 * What an operation on a shard decided: the records to write (none for a read-only answer), the
 * answer to give once they are committed, and the transaction they belong to when a producer
 * writes them inside one (null otherwise).
 */
public record CoordinatorResult<R, T>(List<R> records, T response, Transaction transaction) {
    /**
     * The producer whose transaction the records are part of: they are written as its
     * transactional batch and count only once its commit marker follows them in the log.
     * {@code verified}, when not null, is the guard taken on the partition while the transaction
     * coordinator was asked whether the transaction includes it (KIP-890): the append is refused
     * unless the transaction is open there by then or the guard is still current.
     */
    public record Transaction(long producerId, short producerEpoch, io.spate.log.TxnVerificationGuard verified) {
        public Transaction(long producerId, short producerEpoch) {
            this(producerId, producerEpoch, null);
        }
    }

    public CoordinatorResult {
        records = List.copyOf(records);
    }

    public CoordinatorResult(List<R> records, T response) {
        this(records, response, null);
    }

    /** An answer that writes nothing. */
    public static <R, T> CoordinatorResult<R, T> of(T response) {
        return new CoordinatorResult<>(List.of(), response);
    }

    /** Records to write, answered with {@code response} once they are committed. */
    public static <R, T> CoordinatorResult<R, T> of(List<R> records, T response) {
        return new CoordinatorResult<>(records, response);
    }

    /**
     * Records {@code producerId} writes inside its transaction, answered with {@code response}
     * once they are committed to the log (the transaction itself may still abort).
     */
    public static <R, T> CoordinatorResult<R, T> transactional(long producerId, short producerEpoch, List<R> records, T response) {
        return new CoordinatorResult<>(records, response, new Transaction(producerId, producerEpoch));
    }
}
