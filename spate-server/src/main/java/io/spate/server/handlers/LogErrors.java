package io.spate.server.handlers;

import io.spate.log.LogError;
import org.apache.kafka.common.protocol.Errors;

/** The Kafka error code for each reason the log gives. */
final class LogErrors {
    private LogErrors() {
    }

    static Errors toKafka(LogError error) {
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
}
