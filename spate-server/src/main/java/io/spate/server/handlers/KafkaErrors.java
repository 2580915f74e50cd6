package io.spate.server.handlers;

import io.spate.log.LogError;
import io.spate.replication.WriteError;
import io.spate.replication.Written;
import org.apache.kafka.common.protocol.Errors;

/** The Kafka error code for each reason the log and the partition give: the one table of them. */
final class KafkaErrors {
    private KafkaErrors() {
    }

    static Errors of(LogError error) {
        return switch (error) {
            case NONE -> Errors.NONE;
            case CORRUPT_MESSAGE -> Errors.CORRUPT_MESSAGE;
            case MESSAGE_TOO_LARGE -> Errors.MESSAGE_TOO_LARGE;
            case RECORD_LIST_TOO_LARGE -> Errors.RECORD_LIST_TOO_LARGE;
            case OUT_OF_ORDER_SEQUENCE -> Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
            // The Java client completes such a batch as written, with an unknown offset.
            case DUPLICATE_SEQUENCE -> Errors.DUPLICATE_SEQUENCE_NUMBER;
            case INVALID_PRODUCER_EPOCH -> Errors.INVALID_PRODUCER_EPOCH;
            case OFFSET_OUT_OF_RANGE -> Errors.OFFSET_OUT_OF_RANGE;
            case UNSUPPORTED_TRANSACTIONS, INVALID_RECORD -> Errors.INVALID_RECORD;
            case INVALID_TIMESTAMP -> Errors.INVALID_TIMESTAMP;
            case STORAGE_ERROR -> Errors.KAFKA_STORAGE_ERROR;
        };
    }

    /** A produce answer. */
    static Errors of(Written written) {
        return switch (written.error()) {
            case NONE -> written.logError() == LogError.DUPLICATE_SEQUENCE ? Errors.DUPLICATE_SEQUENCE_NUMBER : Errors.NONE;
            case NOT_LEADER -> Errors.NOT_LEADER_OR_FOLLOWER;
            case NOT_ENOUGH_REPLICAS -> Errors.NOT_ENOUGH_REPLICAS;
            case NOT_ENOUGH_REPLICAS_AFTER_APPEND -> Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
            case TIMED_OUT -> Errors.REQUEST_TIMED_OUT;
            case NOT_DURABLE -> Errors.KAFKA_STORAGE_ERROR;
            case REFUSED -> of(written.logError());
        };
    }

    /** Whether a produce answer should carry the error message (only for the log's own refusals, as Kafka does). */
    static boolean carriesMessage(WriteError error) {
        return error == WriteError.REFUSED;
    }
}
