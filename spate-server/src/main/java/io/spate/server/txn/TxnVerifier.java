package io.spate.server.txn;

import io.spate.log.TopicPartition;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;
import io.spate.server.metadata.ClusterView;

import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * KIP-890 part 1, the partition leader's half: before a producer's first transactional batch on
 * a partition is taken, the transaction coordinator is asked whether the producer's open
 * transaction includes the partition (directly when this node coordinates the transactional id,
 * else with AddPartitionsToTxn v4 verify-only). A write that arrives after its transaction ended
 * (a late retry, a zombie) is refused instead of opening a transaction nobody will end.
 */
public final class TxnVerifier {
    /** Asks another node's coordinator; completes with the verdict or fails with why it could not be had. */
    public interface Remote {
        CompletableFuture<Boolean> verify(int nodeId, String transactionalId, long producerId, short epoch, Set<TopicPartition> partitions);
    }

    private final TransactionCoordinator transactions;
    private final ClusterView cluster;
    private final int localId;
    private final Remote remote;

    public TxnVerifier(TransactionCoordinator transactions, ClusterView cluster, int localId, Remote remote) {
        this.transactions = transactions;
        this.cluster = cluster;
        this.localId = localId;
        this.remote = remote;
    }

    /**
     * Whether {@code partitions} are in the open transaction of {@code producerId} at
     * {@code epoch}; fails with a {@link ServiceException}: PRODUCER_FENCED (or
     * INVALID_PRODUCER_ID_MAPPING) for a producer that is not the transactional id's current
     * one, COORDINATOR_NOT_AVAILABLE when the coordinator could not be asked (the client retries).
     */
    public CompletableFuture<Boolean> verify(String transactionalId, long producerId, short epoch, Set<TopicPartition> partitions) {
        ClusterView.PartitionView coordinator = cluster.partition(TransactionCoordinator.TOPIC, transactions.partitionFor(transactionalId));
        if (coordinator == null || coordinator.leader() < 0) {
            return CompletableFuture.failedFuture(new ServiceException(ServiceError.COORDINATOR_NOT_AVAILABLE,
                    "the coordinator of '" + transactionalId + "' is not known right now"));
        }
        if (coordinator.leader() == localId) {
            return transactions.verifyPartitions(transactionalId, producerId, epoch, partitions);
        }
        try {
            return remote.verify(coordinator.leader(), transactionalId, producerId, epoch, partitions);
        } catch (RuntimeException e) {
            // Stopping: the question cannot be asked; the writer retries elsewhere.
            return CompletableFuture.failedFuture(new ServiceException(ServiceError.COORDINATOR_NOT_AVAILABLE, "could not ask node "
                    + coordinator.leader() + ": " + e.getMessage()));
        }
    }
}
