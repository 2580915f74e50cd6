package io.spate.log;

/** Why the log refused an append or a read; the server maps each to a Kafka error code. */
public enum LogError {
    NONE,
    CORRUPT_MESSAGE,
    MESSAGE_TOO_LARGE,
    RECORD_LIST_TOO_LARGE,
    OUT_OF_ORDER_SEQUENCE,
    /** A retry of a batch written before the batches this log still remembers: written already, offset unknown. */
    DUPLICATE_SEQUENCE,
    INVALID_PRODUCER_EPOCH,
    OFFSET_OUT_OF_RANGE,
    UNSUPPORTED_TRANSACTIONS,
    /** Non-transactional data from a producer with an open transaction, or a marker that fits no transaction. */
    INVALID_TXN_STATE,
    /** A marker from a transaction coordinator older than the one whose marker the partition has seen. */
    TRANSACTION_COORDINATOR_FENCED,
    INVALID_RECORD,
    INVALID_TIMESTAMP,
    STORAGE_ERROR
}
