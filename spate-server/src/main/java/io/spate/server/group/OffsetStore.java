package io.spate.server.group;

import io.spate.replication.Written;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicManager;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The internal topic {@code __consumer_offsets} as the group coordinator sees it: created on
 * first use, which of its partitions holds a group, and what a failed write of group records
 * means to a member. The records themselves are {@link GroupRecord}s, laid out by
 * {@link GroupRecordSerde} and written and replayed by the coordinator runtime.
 */
final class OffsetStore {
    static final String TOPIC = "__consumer_offsets";
    /** How long a commit waits for the offsets partition's in-sync replicas (Kafka's offsets.commit.timeout.ms). */
    static final long COMMIT_WAIT_MS = 5_000;

    private final TopicManager topics;
    private final int numPartitions;
    private final short replicationFactor;

    OffsetStore(TopicManager topics, int numPartitions, short replicationFactor) {
        this.topics = topics;
        this.numPartitions = numPartitions;
        this.replicationFactor = replicationFactor;
    }

    boolean topicExists() {
        return topics.registry().get(TOPIC) != null;
    }

    /**
     * Creates the internal topic on first use, as Kafka does when the first group appears; never
     * blocks (the callers are network threads and the coordinator's own).
     */
    CompletableFuture<TopicInfo> ensureTopicAsync() {
        TopicInfo topic = topics.registry().get(TOPIC);
        if (topic != null) {
            return CompletableFuture.completedFuture(topic);
        }
        return topics.createInternalAsync(TOPIC, numPartitions, replicationFactor, Map.of("cleanup.policy", "compact", "segment.bytes", "104857600"));
    }

    /** Kafka's placement, so that a group lands on the same partition as on a Kafka cluster: |hash| mod the count, 0 for Integer.MIN_VALUE. */
    int partitionFor(String groupId) {
        int hash = groupId.hashCode();
        return (hash == Integer.MIN_VALUE ? 0 : Math.abs(hash)) % partitionCount();
    }

    private int partitionCount() {
        TopicInfo topic = topics.registry().get(TOPIC);
        return topic == null ? numPartitions : topic.partitions();
    }

    /**
     * What a group member is told when its group's records could not be stored: as Kafka's group
     * coordinator does, NOT_COORDINATOR when this node no longer leads (or holds) the offsets
     * partition, so the member looks the coordinator up again; COORDINATOR_NOT_AVAILABLE when the
     * replicas are short or slow, so it retries; a refusal of a transaction's write as it is.
     */
    static ServiceException coordinatorError(Written written) {
        ServiceError error = switch (written.error()) {
            case NOT_LEADER, NOT_DURABLE -> ServiceError.NOT_COORDINATOR;
            case REFUSED -> switch (written.logError()) {
                case STORAGE_ERROR -> ServiceError.NOT_COORDINATOR;
                // Too many offsets in one commit for the offsets topic's max.message.bytes, as Kafka answers it.
                case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE -> ServiceError.INVALID_COMMIT_OFFSET_SIZE;
                // A transactional commit or an end marker the partition's producer state refuses: the
                // producer or the transaction coordinator was superseded, or the transaction is not open.
                case INVALID_PRODUCER_EPOCH -> ServiceError.INVALID_PRODUCER_EPOCH;
                case TRANSACTION_COORDINATOR_FENCED -> ServiceError.TRANSACTION_COORDINATOR_FENCED;
                case INVALID_TXN_STATE -> ServiceError.INVALID_TXN_STATE;
                default -> ServiceError.UNKNOWN;
            };
            default -> ServiceError.COORDINATOR_NOT_AVAILABLE;
        };
        return new ServiceException(error, "could not store group data: " + written.message());
    }
}
