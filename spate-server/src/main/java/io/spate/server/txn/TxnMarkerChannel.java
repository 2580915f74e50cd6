package io.spate.server.txn;

import io.spate.log.ScheduledTasks;
import io.spate.log.TopicPartition;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;
import io.spate.time.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Writes a transaction's markers to every partition it touched: on this node directly, on other
 * nodes with WriteTxnMarkers, retrying where a leader is missing, moving or short of in-sync
 * replicas, until each partition has its marker or is gone (its topic deleted). A partition that
 * answers that the producer or coordinator epoch is stale means a newer coordinator owns the
 * transaction: the writing stops there, as in Kafka.
 */
public final class TxnMarkerChannel {
    private static final Logger log = LoggerFactory.getLogger(TxnMarkerChannel.class);
    static final long RETRY_BACKOFF_MS = 100;

    /** Writes markers to partitions this node holds (as WriteTxnMarkers does on arrival). */
    public interface LocalWriter {
        CompletableFuture<ServiceError> write(TopicPartition partition, TxnMarker marker);
    }

    /** Sends markers to another node; completes with each partition's answer, or fails when the node cannot be reached. */
    public interface RemoteWriter {
        CompletableFuture<Map<TopicPartition, ServiceError>> write(int nodeId, TxnMarker marker, Set<TopicPartition> partitions);
    }

    /** Where partitions are led. */
    public interface Leaders {
        /** The leader of {@code partition}, -1 while it has none, {@link #GONE} when the partition no longer exists. */
        int leaderOf(TopicPartition partition);

        int localId();

        int GONE = -2;
    }

    private final Leaders leaders;
    private final LocalWriter local;
    private final RemoteWriter remote;
    private final Scheduler scheduler;

    public TxnMarkerChannel(Leaders leaders, LocalWriter local, RemoteWriter remote, Scheduler scheduler) {
        this.leaders = leaders;
        this.local = local;
        this.remote = remote;
        this.scheduler = scheduler;
    }

    /**
     * Writes {@code marker} to {@code partitions}. Completes once every partition has it (or is
     * gone); fails with TRANSACTION_COORDINATOR_FENCED when a partition says a newer coordinator
     * or epoch exists, and with NOT_COORDINATOR once {@code stillCoordinating} turns false.
     */
    public CompletableFuture<Void> write(TxnMarker marker, Set<TopicPartition> partitions, BooleanSupplier stillCoordinating) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        attempt(marker, new HashSet<>(partitions), stillCoordinating, done, 1);
        return done;
    }

    private void attempt(TxnMarker marker, Set<TopicPartition> remaining, BooleanSupplier stillCoordinating, CompletableFuture<Void> done, int round) {
        try {
            tryOnce(marker, remaining, stillCoordinating, done, round);
        } catch (RuntimeException e) {
            // The caller must hear of it: a round that threw would otherwise leave the transaction waiting for good.
            done.completeExceptionally(e);
        }
    }

    private void tryOnce(TxnMarker marker, Set<TopicPartition> remaining, BooleanSupplier stillCoordinating, CompletableFuture<Void> done, int round) {
        if (remaining.isEmpty()) {
            done.complete(null);
            return;
        }
        if (!stillCoordinating.getAsBoolean()) {
            done.completeExceptionally(new ServiceException(ServiceError.NOT_COORDINATOR,
                    "this node stopped coordinating the transaction of producer " + marker.producerId()));
            return;
        }
        Map<Integer, Set<TopicPartition>> byNode = new HashMap<>();
        Set<TopicPartition> written = java.util.concurrent.ConcurrentHashMap.newKeySet();
        for (TopicPartition partition : remaining) {
            int leader = leaders.leaderOf(partition);
            if (leader == Leaders.GONE) {
                log.info("no marker for {}: the partition no longer exists", partition);
                written.add(partition);
            } else if (leader >= 0) {
                byNode.computeIfAbsent(leader, n -> new HashSet<>()).add(partition);
            }
        }
        AtomicInteger outstanding = new AtomicInteger(1);
        boolean[] fenced = new boolean[1];
        Runnable oneDone = () -> {
            if (outstanding.decrementAndGet() == 0) {
                remaining.removeAll(written);
                if (fenced[0]) {
                    done.completeExceptionally(new ServiceException(ServiceError.TRANSACTION_COORDINATOR_FENCED,
                            "a partition knows a newer coordinator or epoch than producer " + marker.producerId() + " at epoch " + marker.producerEpoch()));
                } else if (remaining.isEmpty()) {
                    done.complete(null);
                } else {
                    if (round % 50 == 0) {
                        log.warn("markers of producer {} still missing on {} after {} rounds", marker.producerId(), remaining, round);
                    }
                    scheduler.schedule(RETRY_BACKOFF_MS, ScheduledTasks.logged("transaction markers",
                            () -> attempt(marker, remaining, stillCoordinating, done, round + 1)));
                }
            }
        };
        for (Map.Entry<Integer, Set<TopicPartition>> node : byNode.entrySet()) {
            if (node.getKey() == leaders.localId()) {
                for (TopicPartition partition : node.getValue()) {
                    outstanding.incrementAndGet();
                    local.write(partition, marker).whenComplete((error, failure) -> {
                        record(partition, failure != null ? ServiceException.errorOf(failure, ServiceError.UNKNOWN) : error, written, fenced);
                        oneDone.run();
                    });
                }
            } else {
                outstanding.incrementAndGet();
                remote.write(node.getKey(), marker, node.getValue()).whenComplete((answers, failure) -> {
                    if (failure != null) {
                        log.debug("markers to node {} failed; retrying", node.getKey(), failure);
                    } else {
                        answers.forEach((partition, error) -> record(partition, error, written, fenced));
                    }
                    oneDone.run();
                });
            }
        }
        oneDone.run();
    }

    private static void record(TopicPartition partition, ServiceError error, Set<TopicPartition> written, boolean[] fenced) {
        switch (error) {
            case NONE -> written.add(partition);
            case INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED -> {
                synchronized (fenced) {
                    fenced[0] = true;
                }
            }
            default -> {
                // retried: a leader moving, replicas short, a timeout, a node that does not know the partition yet
                // (a deleted one is seen as gone in the metadata)
            }
        }
    }
}
