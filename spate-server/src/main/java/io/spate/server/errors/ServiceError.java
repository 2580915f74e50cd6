package io.spate.server.errors;

/**
 * Why a service of this node (the group coordinator, topic administration, the controller's
 * answers) refused or could not finish a request, in Spate's own words. The protocol edge turns
 * each into the Kafka error code a client acts on (see {@code handlers.KafkaErrors}), so the
 * services behind it never name kafka-clients' classes.
 */
public enum ServiceError {
    NONE,
    // Groups and their coordinator.
    NOT_COORDINATOR,
    COORDINATOR_NOT_AVAILABLE,
    COORDINATOR_LOAD_IN_PROGRESS,
    INVALID_GROUP_ID,
    INVALID_SESSION_TIMEOUT,
    INCONSISTENT_GROUP_PROTOCOL,
    MEMBER_ID_REQUIRED,
    UNKNOWN_MEMBER_ID,
    FENCED_INSTANCE_ID,
    ILLEGAL_GENERATION,
    REBALANCE_IN_PROGRESS,
    GROUP_ID_NOT_FOUND,
    NON_EMPTY_GROUP,
    /** OffsetDelete of a partition of a topic the group's members are subscribed to. */
    GROUP_SUBSCRIBED_TO_TOPIC,
    OFFSET_METADATA_TOO_LARGE,
    INVALID_COMMIT_OFFSET_SIZE,
    /** An offset a transaction committed and has not ended yet, asked for with requireStable (KIP-447). */
    UNSTABLE_OFFSET_COMMIT,
    // Topics and the controller.
    UNKNOWN_TOPIC_OR_PARTITION,
    TOPIC_ALREADY_EXISTS,
    INVALID_TOPIC,
    INVALID_PARTITIONS,
    INVALID_REPLICATION_FACTOR,
    INVALID_CONFIG,
    NOT_CONTROLLER,
    TIMED_OUT,
    // Partitions: leaders, replica moves, records.
    NOT_LEADER,
    ELECTION_NOT_NEEDED,
    ELIGIBLE_LEADERS_NOT_AVAILABLE,
    PREFERRED_LEADER_NOT_AVAILABLE,
    INVALID_REPLICA_ASSIGNMENT,
    NO_REASSIGNMENT_IN_PROGRESS,
    POLICY_VIOLATION,
    OFFSET_OUT_OF_RANGE,
    STORAGE_ERROR,
    // Transactions and their coordinator.
    CONCURRENT_TRANSACTIONS,
    PRODUCER_FENCED,
    INVALID_PRODUCER_EPOCH,
    INVALID_PRODUCER_ID_MAPPING,
    INVALID_TXN_STATE,
    INVALID_TRANSACTION_TIMEOUT,
    TRANSACTIONAL_ID_NOT_FOUND,
    TRANSACTION_COORDINATOR_FENCED,
    // Nothing a client can act on.
    UNKNOWN
}
