package io.spate.server.txn;

import io.spate.log.LogConfig;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.server.StandaloneCore;
import io.spate.server.metadata.ProducerIdManager;
import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The transaction coordinator on a manual clock over a standalone node's real logs: its state
 * writes, and the markers it writes to the node's own partitions.
 */
class TransactionCoordinatorTest {
    @TempDir
    Path dataDir;

    private final ManualScheduler scheduler = new ManualScheduler(1_700_000_000_000L);
    private StandaloneCore node;
    /** While set, "orders" has no leader: the markers for it wait, as they do for a leader moving. */
    private boolean ordersLeaderless;
    private TransactionCoordinator coordinator;

    @BeforeEach
    void start() throws IOException {
        node = StandaloneCore.start(dataDir);
        node.topics.create("orders", 1, (short) 1, Map.of());
        ProducerIdManager producerIds = new ProducerIdManager(node.control, StandaloneCore.NODE_ID);
        // Its first block is reserved through the metadata log's own thread: reserved now, ids come at once.
        producerIds.nextProducerIdAsync().join();
        TxnMarkerChannel.Leaders leaders = new TxnMarkerChannel.Leaders() {
            @Override
            public int leaderOf(TopicPartition partition) {
                return ordersLeaderless && partition.topic().equals("orders") ? -1 : StandaloneCore.NODE_ID;
            }

            @Override
            public int localId() {
                return StandaloneCore.NODE_ID;
            }
        };
        var local = new LocalTxnMarkers(node.replicas, node.registry, "__consumer_offsets",
                (p, marker) -> CompletableFuture.failedFuture(new IllegalStateException("no groups here")), scheduler);
        var markers = new TxnMarkerChannel(leaders, local,
                (nodeId, marker, partitions) -> CompletableFuture.failedFuture(new IllegalStateException("a single node")), scheduler);
        coordinator = new TransactionCoordinator(new TransactionCoordinator.Settings(1, (short) 1, 1, 900_000, 10_000, 604_800_000L),
                scheduler, scheduler, node.topics, node.replicas, producerIds, markers);
        node.replicas.addLeadershipListener(coordinator.leadership());
        node.topics.createInternal(TransactionCoordinator.TOPIC, 1, (short) 1, Map.of("cleanup.policy", "compact"));
        scheduler.runDue();
    }

    @AfterEach
    void stop() {
        coordinator.close();
        node.close();
    }

    private <T> T settled(CompletableFuture<T> future) {
        scheduler.runDue();
        assertThat(future).as("answered without the clock moving").isDone();
        return future.join();
    }

    /**
     * Each transactional id that ends a transaction starts a completion attempt (markers, then the
     * Complete state); once it is over the shard forgets it, or a long-lived coordinator would
     * hold one entry for every id that ever committed.
     */
    @Test
    void aCompletedTransactionLeavesNoCompletionAttemptBehind() {
        for (String id : new String[]{"payments-1", "payments-2"}) {
            TransactionCoordinator.ProducerIdAndEpoch producer = settled(coordinator.initProducerId(id, 60_000, -1, (short) -1));
            settled(coordinator.addPartitions(id, producer.producerId(), producer.epoch(), Set.of(new TopicPartition("orders", 0))));
            settled(coordinator.endTransaction(id, producer.producerId(), producer.epoch(), true));
            scheduler.runDue();
            assertThat(settled(coordinator.describe(id)).state()).isEqualTo(TxnState.COMPLETE_COMMIT);
        }

        assertThat(settled(coordinator.completionsTracked())).isZero();
    }

    /** {@code id} commits a transaction on "orders" while "orders" has no leader: its markers wait. */
    private void commitWithItsMarkersWaiting(String id) {
        TransactionCoordinator.ProducerIdAndEpoch producer = settled(coordinator.initProducerId(id, 60_000, -1, (short) -1));
        settled(coordinator.addPartitions(id, producer.producerId(), producer.epoch(), Set.of(new TopicPartition("orders", 0))));
        ordersLeaderless = true;
        settled(coordinator.endTransaction(id, producer.producerId(), producer.epoch(), true));
    }

    /**
     * A completion whose Complete state is refused (here the transaction log is short of
     * min.insync.replicas, for a moment) is stored on the next try, 100 ms later: not at the next
     * timeout check (10 s here), while the transaction holds back the last stable offset of its
     * partitions and its producer's next transaction.
     */
    @Test
    void aCompletionWhoseStateWasRefusedIsStoredPromptlyNotAtTheNextTimeoutCheck() {
        String id = "payments-refused";
        commitWithItsMarkersWaiting(id);
        assertThat(settled(coordinator.describe(id)).state()).isEqualTo(TxnState.PREPARE_COMMIT);

        // As a change of the topic's settings applies it: the Complete state cannot be written.
        Partition transactionLog = node.replicas.partition(TransactionCoordinator.TOPIC, 0);
        LogConfig usual = transactionLog.log().config();
        transactionLog.log().updateConfig(LogConfig.from(Map.of(LogConfig.CLEANUP_POLICY, "compact", LogConfig.MIN_INSYNC_REPLICAS, "2")));
        ordersLeaderless = false;
        scheduler.advance(TxnMarkerChannel.RETRY_BACKOFF_MS);
        Partition orders = node.replicas.partition("orders", 0);
        assertThat(orders.log().logEndOffset()).as("its marker").isEqualTo(1);
        assertThat(settled(coordinator.describe(id)).state()).as("the Complete state refused").isEqualTo(TxnState.PREPARE_COMMIT);

        transactionLog.log().updateConfig(usual);
        scheduler.advance(TransactionCoordinator.COMPLETION_RETRY_MS);
        assertThat(settled(coordinator.describe(id)).state()).isEqualTo(TxnState.COMPLETE_COMMIT);
        assertThat(orders.log().logEndOffset()).as("the markers are not written again").isEqualTo(1);
        assertThat(settled(coordinator.completionsTracked())).isZero();
    }
    /**
     * A coordinator that takes over a transaction log whose last Prepare state is not committed yet
     * completes nothing before it is, the timeout checks included: a check 10 s after the load
     * wrote the markers of a decision that could still vanish with this leader (the next one then
     * sees the transaction open, and its producer's commit is refused where those markers landed).
     */
    @Test
    void aLoadedPrepareStateIsCompletedOnlyOnceItIsCommittedTheTimeoutChecksIncluded() {
        String id = "payments-takeover";
        commitWithItsMarkersWaiting(id);
        Partition transactionLog = node.replicas.partition(TransactionCoordinator.TOPIC, 0);
        long prepareAt = transactionLog.log().logEndOffset() - 1;

        // This node leads the log again, its last record (the PrepareCommit) not known committed yet.
        coordinator.leadership().onResigned(transactionLog, transactionLog.leaderEpoch());
        scheduler.runDue();
        transactionLog.log().resetHighWatermark(prepareAt);
        coordinator.leadership().onBecameLeader(transactionLog, transactionLog.leaderEpoch());
        scheduler.runDue();

        scheduler.advance(3 * 10_000);
        assertThat(settled(coordinator.completionsTracked())).as("no completion started on an uncommitted decision").isZero();

        transactionLog.log().updateHighWatermark(transactionLog.log().logEndOffset());
        ordersLeaderless = false;
        scheduler.advance(TransactionCoordinator.RESUME_POLL_MS);
        scheduler.advance(TxnMarkerChannel.RETRY_BACKOFF_MS);
        scheduler.advance(TransactionCoordinator.COMPLETION_RETRY_MS);
        assertThat(settled(coordinator.describe(id)).state()).isEqualTo(TxnState.COMPLETE_COMMIT);
    }
}
