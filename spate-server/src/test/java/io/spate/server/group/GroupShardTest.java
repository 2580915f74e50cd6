package io.spate.server.group;

import io.spate.coordinator.ShardContext;
import io.spate.time.ManualScheduler;
import io.spate.time.Scheduler;
import io.spate.time.Time;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shard's bookkeeping of offsets committed inside transactions, replayed record by record as
 * the runtime hands them over (in log order): what counts when, whatever order the markers and
 * other commits come in.
 */
class GroupShardTest {
    private static final GroupCoordinator.TopicPartitionKey ORDERS_0 = new GroupCoordinator.TopicPartitionKey("orders", 0);
    private static final GroupCoordinator.TopicPartitionKey ORDERS_1 = new GroupCoordinator.TopicPartitionKey("orders", 1);

    private final ManualScheduler scheduler = new ManualScheduler(0);
    private final GroupShard shard = new GroupShard(new ShardContext() {
        @Override
        public int partition() {
            return 0;
        }

        @Override
        public Time time() {
            return scheduler;
        }

        @Override
        public Scheduler.Timer schedule(String name, long delayMs, Runnable task) {
            return scheduler.schedule(delayMs, task);
        }
    });

    private static GroupRecord.Offset offset(GroupCoordinator.TopicPartitionKey partition, long offset) {
        return new GroupRecord.Offset("billing", partition.topic(), partition.partition(), new CommittedOffset(offset, -1, "", 0));
    }

    private static GroupRecord.Offset tombstone(GroupCoordinator.TopicPartitionKey partition) {
        return new GroupRecord.Offset("billing", partition.topic(), partition.partition(), null);
    }

    private Long committed(GroupCoordinator.TopicPartitionKey partition) {
        CommittedOffset offset = shard.offsets.getOrDefault("billing", java.util.Map.of()).get(partition);
        return offset == null ? null : offset.offset();
    }

    @Test
    void aTransactionsOffsetsCountOnItsCommitMarkerAndNotBefore() {
        shard.replay(offset(ORDERS_0, 10));
        shard.replayTransactional(7, (short) 0, offset(ORDERS_0, 20));
        shard.replayTransactional(7, (short) 0, offset(ORDERS_1, 30));

        assertThat(committed(ORDERS_0)).isEqualTo(10);
        assertThat(committed(ORDERS_1)).isNull();
        assertThat(shard.pendingTxnOffsets.partitions("billing")).containsExactlyInAnyOrder(ORDERS_0, ORDERS_1);

        shard.replayEndTransaction(7, true);
        assertThat(committed(ORDERS_0)).isEqualTo(20);
        assertThat(committed(ORDERS_1)).isEqualTo(30);
        assertThat(shard.pendingTxnOffsets.has("billing")).isFalse();
    }

    @Test
    void anAbortMarkerVoidsOnlyItsProducersOffsets() {
        shard.replayTransactional(7, (short) 0, offset(ORDERS_0, 20));
        shard.replayTransactional(8, (short) 0, offset(ORDERS_1, 30));

        shard.replayEndTransaction(7, false);
        assertThat(committed(ORDERS_0)).isNull();
        assertThat(shard.pendingTxnOffsets.partitions("billing")).containsExactly(ORDERS_1);

        shard.replayEndTransaction(8, true);
        assertThat(committed(ORDERS_1)).isEqualTo(30);
    }

    /** Kafka keeps the offset written last: a compacted log, which keeps only that one, rebuilds the same. */
    @Test
    void anOffsetCommittedAfterTheTransactionsOwnIsKeptWhenTheTransactionCommits() {
        shard.replayTransactional(7, (short) 0, offset(ORDERS_0, 20));
        shard.replay(offset(ORDERS_0, 25));
        shard.replayTransactional(8, (short) 0, offset(ORDERS_1, 40));
        shard.replayTransactional(9, (short) 0, offset(ORDERS_1, 50));

        shard.replayEndTransaction(7, true);
        assertThat(committed(ORDERS_0)).as("written after the transaction's").isEqualTo(25);

        shard.replayEndTransaction(9, true);
        shard.replayEndTransaction(8, true);
        assertThat(committed(ORDERS_1)).as("producer 9 wrote last, though its marker came first").isEqualTo(50);
    }

    @Test
    void aTombstoneVoidsWhatOpenTransactionsHoldForItsPartition() {
        shard.replay(offset(ORDERS_0, 10));
        shard.replayTransactional(7, (short) 0, offset(ORDERS_0, 20));
        shard.replayTransactional(7, (short) 0, offset(ORDERS_1, 30));

        shard.replay(tombstone(ORDERS_0));
        assertThat(shard.pendingTxnOffsets.partitions("billing")).containsExactly(ORDERS_1);

        shard.replayEndTransaction(7, true);
        assertThat(committed(ORDERS_0)).isNull();
        assertThat(committed(ORDERS_1)).isEqualTo(30);
    }

    /** An empty group's offsets expire a retention after it emptied: a record of a release that did not store when counts from the load. */
    @Test
    void anEmptyGroupLoadedFromARecordWithoutItsEmptySinceIsEmptySinceTheLoad() {
        scheduler.advance(5_000);
        shard.replay(new GroupRecord.Metadata("billing", "consumer", "", 4, null, java.util.List.of()));
        shard.replay(new GroupRecord.Metadata("audit", "consumer", "", 2, null, java.util.List.of(), 1_000));
        shard.onLoaded();

        assertThat(shard.groups.get("billing").emptySince).isEqualTo(scheduler.millis());
        assertThat(shard.groups.get("audit").emptySince).isEqualTo(1_000);
    }
}
