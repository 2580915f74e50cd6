package io.spate.log;

/**
 * KIP-890 part 1: what a partition leader holds while it asks the transaction coordinator whether
 * a producer's transaction includes this partition, before taking its first transactional batch
 * here. The guard is the partition's for that producer until a marker for the producer lands (or
 * the batch is appended and opens the transaction): an append that brings a guard no longer
 * current is refused, so a transaction ended while its verification was in flight cannot be
 * reopened by a late write (a hanging transaction).
 */
public final class TxnVerificationGuard {
    /** The producer's transaction was open here already: nothing to verify, but it must still be open at the append. */
    public static final TxnVerificationGuard ALREADY_OPEN = new TxnVerificationGuard(-1, Long.MAX_VALUE);

    private final long producerId;
    private final long createdMs;

    TxnVerificationGuard(long producerId, long createdMs) {
        this.producerId = producerId;
        this.createdMs = createdMs;
    }

    /** When the verification began: one whose write never comes expires with idle producers (producer.id.expiration.ms). */
    long createdMs() {
        return createdMs;
    }

    @Override
    public String toString() {
        return this == ALREADY_OPEN ? "TxnVerificationGuard[already open]" : "TxnVerificationGuard[producer " + producerId + "]";
    }
}
