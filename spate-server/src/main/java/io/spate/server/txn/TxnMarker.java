package io.spate.server.txn;

/**
 * An end-transaction marker to write: the producer's id and epoch (a bumped epoch fences the
 * producer that opened the transaction), the coordinator's epoch (the leader epoch of its
 * {@code __transaction_state} partition, so that a partition can refuse a deposed coordinator),
 * and the outcome.
 */
public record TxnMarker(long producerId, short producerEpoch, int coordinatorEpoch, boolean commit) {
}
