package io.spate.server.txn;

/** One record of {@code __transaction_state}: a transactional id's whole state, or (null) its removal. */
public record TxnRecord(String transactionalId, TxnMetadata metadata) {
}
