package io.spate.http;

import io.spate.log.LogError;
import io.spate.replication.WriteError;
import io.spate.replication.Written;
import org.apache.kafka.common.errors.NotEnoughReplicasAfterAppendException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Why a record was not written, in Kafka's error vocabulary (its code and name, as a Kafka client
 * would see them), with the node's message.
 */
record WriteFailure(int errorCode, String errorName, String message) {
    static final WriteFailure UNKNOWN = new WriteFailure(-1, "UNKNOWN_SERVER_ERROR", "unknown");

    static WriteFailure of(Written written) {
        String message = written.message() == null ? "" : written.message();
        return switch (written.error()) {
            case NONE -> throw new IllegalArgumentException("not a failure: " + written);
            case NOT_LEADER -> new WriteFailure(6, "NOT_LEADER_OR_FOLLOWER", message);
            case NOT_ENOUGH_REPLICAS -> new WriteFailure(19, "NOT_ENOUGH_REPLICAS", message);
            case NOT_ENOUGH_REPLICAS_AFTER_APPEND -> new WriteFailure(20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", message);
            case TIMED_OUT -> new WriteFailure(7, "REQUEST_TIMED_OUT", message);
            case NOT_DURABLE -> new WriteFailure(56, "KAFKA_STORAGE_ERROR", message);
            case REFUSED -> refused(written.logError(), message);
        };
    }

    private static WriteFailure refused(LogError error, String message) {
        return switch (error) {
            case CORRUPT_MESSAGE -> new WriteFailure(2, "CORRUPT_MESSAGE", message);
            case MESSAGE_TOO_LARGE -> new WriteFailure(10, "MESSAGE_TOO_LARGE", message);
            case RECORD_LIST_TOO_LARGE -> new WriteFailure(18, "RECORD_LIST_TOO_LARGE", message);
            case INVALID_TIMESTAMP -> new WriteFailure(32, "INVALID_TIMESTAMP", message);
            case INVALID_RECORD -> new WriteFailure(87, "INVALID_RECORD", message);
            default -> new WriteFailure(-1, "UNKNOWN_SERVER_ERROR", error + ": " + message);
        };
    }

    /** A failed send through the internal producer. */
    static WriteFailure of(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof ExecutionException || cause instanceof CompletionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        String message = String.valueOf(cause.getMessage());
        if (cause instanceof java.util.concurrent.TimeoutException || cause instanceof TimeoutException) {
            return new WriteFailure(7, "REQUEST_TIMED_OUT", message);
        }
        if (cause instanceof NotEnoughReplicasAfterAppendException) {
            return new WriteFailure(20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", message);
        }
        if (cause instanceof NotEnoughReplicasException) {
            return new WriteFailure(19, "NOT_ENOUGH_REPLICAS", message);
        }
        if (cause instanceof RecordTooLargeException) {
            return new WriteFailure(10, "MESSAGE_TOO_LARGE", message);
        }
        if (cause instanceof NotLeaderOrFollowerException) {
            return new WriteFailure(6, "NOT_LEADER_OR_FOLLOWER", message);
        }
        if (cause instanceof UnknownTopicOrPartitionException) {
            return new WriteFailure(3, "UNKNOWN_TOPIC_OR_PARTITION", message);
        }
        return new WriteFailure(-1, "UNKNOWN_SERVER_ERROR", cause.getClass().getSimpleName() + ": " + message);
    }

    static boolean isNotLeader(Written written) {
        return written.error() == WriteError.NOT_LEADER;
    }
}
