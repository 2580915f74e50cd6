package io.spate.server.handlers;

import io.spate.log.LogError;
import io.spate.replication.WriteError;
import io.spate.replication.Written;
import io.spate.replication.node.NodeRoles;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.protocol.Errors;

/**
 * The one table from Spate's own reasons (the log's, the partition's, a leader's check, the
 * services') to the Kafka error a client acts on. Nothing behind the protocol edge names a Kafka
 * error; everything the edge answers with comes through here.
 */
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
            case INVALID_TXN_STATE -> Errors.INVALID_TXN_STATE;
            case TRANSACTION_COORDINATOR_FENCED -> Errors.TRANSACTION_COORDINATOR_FENCED;
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

    /** A leader's answer to a replica's or a client's epoch. */
    static Errors of(NodeRoles.LeaderCheck check) {
        return switch (check) {
            case SERVES -> Errors.NONE;
            case NOT_LEADER -> Errors.NOT_LEADER_OR_FOLLOWER;
            case UNKNOWN_EPOCH -> Errors.UNKNOWN_LEADER_EPOCH;
            case FENCED_EPOCH -> Errors.FENCED_LEADER_EPOCH;
        };
    }

    /** A service's refusal (groups, topics, the controller). */
    static Errors of(ServiceError error) {
        return switch (error) {
            case NONE -> Errors.NONE;
            case NOT_COORDINATOR -> Errors.NOT_COORDINATOR;
            case COORDINATOR_NOT_AVAILABLE -> Errors.COORDINATOR_NOT_AVAILABLE;
            case COORDINATOR_LOAD_IN_PROGRESS -> Errors.COORDINATOR_LOAD_IN_PROGRESS;
            case INVALID_GROUP_ID -> Errors.INVALID_GROUP_ID;
            case INVALID_SESSION_TIMEOUT -> Errors.INVALID_SESSION_TIMEOUT;
            case INCONSISTENT_GROUP_PROTOCOL -> Errors.INCONSISTENT_GROUP_PROTOCOL;
            case MEMBER_ID_REQUIRED -> Errors.MEMBER_ID_REQUIRED;
            case UNKNOWN_MEMBER_ID -> Errors.UNKNOWN_MEMBER_ID;
            case FENCED_INSTANCE_ID -> Errors.FENCED_INSTANCE_ID;
            case ILLEGAL_GENERATION -> Errors.ILLEGAL_GENERATION;
            case REBALANCE_IN_PROGRESS -> Errors.REBALANCE_IN_PROGRESS;
            case GROUP_ID_NOT_FOUND -> Errors.GROUP_ID_NOT_FOUND;
            case NON_EMPTY_GROUP -> Errors.NON_EMPTY_GROUP;
            case GROUP_SUBSCRIBED_TO_TOPIC -> Errors.GROUP_SUBSCRIBED_TO_TOPIC;
            case OFFSET_METADATA_TOO_LARGE -> Errors.OFFSET_METADATA_TOO_LARGE;
            case INVALID_COMMIT_OFFSET_SIZE -> Errors.INVALID_COMMIT_OFFSET_SIZE;
            case UNSTABLE_OFFSET_COMMIT -> Errors.UNSTABLE_OFFSET_COMMIT;
            case UNKNOWN_TOPIC_OR_PARTITION -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
            case TOPIC_ALREADY_EXISTS -> Errors.TOPIC_ALREADY_EXISTS;
            case INVALID_TOPIC -> Errors.INVALID_TOPIC_EXCEPTION;
            case INVALID_PARTITIONS -> Errors.INVALID_PARTITIONS;
            case INVALID_REPLICATION_FACTOR -> Errors.INVALID_REPLICATION_FACTOR;
            case INVALID_CONFIG -> Errors.INVALID_CONFIG;
            case NOT_CONTROLLER -> Errors.NOT_CONTROLLER;
            case TIMED_OUT -> Errors.REQUEST_TIMED_OUT;
            case NOT_LEADER -> Errors.NOT_LEADER_OR_FOLLOWER;
            case ELECTION_NOT_NEEDED -> Errors.ELECTION_NOT_NEEDED;
            case ELIGIBLE_LEADERS_NOT_AVAILABLE -> Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE;
            case PREFERRED_LEADER_NOT_AVAILABLE -> Errors.PREFERRED_LEADER_NOT_AVAILABLE;
            case INVALID_REPLICA_ASSIGNMENT -> Errors.INVALID_REPLICA_ASSIGNMENT;
            case NO_REASSIGNMENT_IN_PROGRESS -> Errors.NO_REASSIGNMENT_IN_PROGRESS;
            case POLICY_VIOLATION -> Errors.POLICY_VIOLATION;
            case OFFSET_OUT_OF_RANGE -> Errors.OFFSET_OUT_OF_RANGE;
            case STORAGE_ERROR -> Errors.KAFKA_STORAGE_ERROR;
            case CONCURRENT_TRANSACTIONS -> Errors.CONCURRENT_TRANSACTIONS;
            case PRODUCER_FENCED -> Errors.PRODUCER_FENCED;
            case INVALID_PRODUCER_EPOCH -> Errors.INVALID_PRODUCER_EPOCH;
            case INVALID_PRODUCER_ID_MAPPING -> Errors.INVALID_PRODUCER_ID_MAPPING;
            case INVALID_TXN_STATE -> Errors.INVALID_TXN_STATE;
            case INVALID_TRANSACTION_TIMEOUT -> Errors.INVALID_TRANSACTION_TIMEOUT;
            case TRANSACTIONAL_ID_NOT_FOUND -> Errors.TRANSACTIONAL_ID_NOT_FOUND;
            case TRANSACTION_COORDINATOR_FENCED -> Errors.TRANSACTION_COORDINATOR_FENCED;
            case UNKNOWN -> Errors.UNKNOWN_SERVER_ERROR;
        };
    }

    /** The Kafka exception a refusal is answered with, carrying its message. */
    static ApiException of(ServiceException refused) {
        return of(refused.error()).exception(refused.getMessage());
    }
}
