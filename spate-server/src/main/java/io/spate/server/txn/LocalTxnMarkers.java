package io.spate.server.txn;

import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.replication.Written;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.partition.ReplicaManager;
import io.spate.time.Time;

import java.util.concurrent.CompletableFuture;

/**
 * Writes markers to the partitions this node leads, for the transaction coordinator on this node
 * and for WriteTxnMarkers from others. A marker goes in with acks=all, as Kafka writes them: the
 * transaction is complete only once every in-sync replica holds its markers. The offsets topic's
 * markers go through the group coordinator, which must see them to make transactional offset
 * commits visible (or drop them).
 */
public final class LocalTxnMarkers implements TxnMarkerChannel.LocalWriter {
    /** How long a marker waits for the in-sync replicas before the sender tries again. */
    static final long REPLICATION_WAIT_MS = 5_000;

    /** Completes a transaction on a partition of {@code __consumer_offsets} (the group coordinator). */
    public interface OffsetsMarkers {
        CompletableFuture<Void> complete(int offsetsPartition, TxnMarker marker);
    }

    private final ReplicaManager replicas;
    private final TopicRegistry topics;
    private final OffsetsMarkers offsets;
    private final String offsetsTopic;
    private final Time time;

    public LocalTxnMarkers(ReplicaManager replicas, TopicRegistry topics, String offsetsTopic, OffsetsMarkers offsets, Time time) {
        this.replicas = replicas;
        this.topics = topics;
        this.offsetsTopic = offsetsTopic;
        this.offsets = offsets;
        this.time = time;
    }

    @Override
    public CompletableFuture<ServiceError> write(TopicPartition tp, TxnMarker marker) {
        if (tp.topic().equals(offsetsTopic)) {
            return offsets.complete(tp.partition(), marker).handle((ok, failure) ->
                    failure == null ? ServiceError.NONE : ServiceException.errorOf(failure, ServiceError.COORDINATOR_NOT_AVAILABLE));
        }
        Partition partition = replicas.partition(tp);
        if (partition == null) {
            var topic = topics.get(tp.topic());
            boolean exists = topic != null && tp.partition() >= 0 && tp.partition() < topic.partitions();
            return CompletableFuture.completedFuture(exists ? ServiceError.NOT_LEADER : ServiceError.UNKNOWN_TOPIC_OR_PARTITION);
        }
        return partition.appendControl(marker.producerId(), marker.producerEpoch(), marker.coordinatorEpoch(), marker.commit(),
                REPLICATION_WAIT_MS, time.millis()).thenApply(LocalTxnMarkers::errorOf);
    }

    static ServiceError errorOf(Written written) {
        return switch (written.error()) {
            case NONE -> ServiceError.NONE;
            case NOT_LEADER -> ServiceError.NOT_LEADER;
            case NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, TIMED_OUT -> ServiceError.TIMED_OUT;
            case NOT_DURABLE -> ServiceError.STORAGE_ERROR;
            case REFUSED -> switch (written.logError()) {
                case INVALID_PRODUCER_EPOCH -> ServiceError.INVALID_PRODUCER_EPOCH;
                case TRANSACTION_COORDINATOR_FENCED -> ServiceError.TRANSACTION_COORDINATOR_FENCED;
                case STORAGE_ERROR -> ServiceError.STORAGE_ERROR;
                default -> ServiceError.UNKNOWN;
            };
        };
    }
}
