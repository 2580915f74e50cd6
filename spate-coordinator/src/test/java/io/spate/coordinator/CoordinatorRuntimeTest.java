package io.spate.coordinator;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.LogScanner;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import io.spate.record.ControlBatches;
import io.spate.record.RecordBatch;
import io.spate.record.RecordBatchBuilder;
import io.spate.replication.GroupCommit;
import io.spate.replication.LeadershipLease;
import io.spate.replication.Partition;
import io.spate.replication.PartitionContext;
import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The runtime with a real log and partition (leader 1, follower 2 in the in-sync set, so a
 * write commits only when the test says follower 2 copied it) and a manual clock: every task and
 * timer runs when the test runs them. The shard is a small counter store.
 */
class CoordinatorRuntimeTest {
    private static final String TOPIC = "__counters";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final long COMMIT_TIMEOUT_MS = 5_000;

    /** A counter set, or removed (a tombstone). */
    record Count(String key, Long value) {
    }

    /** Counters; those a producer sets inside its transaction count once the transaction commits. */
    static final class Counters implements CoordinatorShard<Count> {
        final ShardContext context;
        final Map<String, Long> values = new HashMap<>();
        final Map<Long, Map<String, Long>> inTransaction = new HashMap<>();
        /** What the runtime told the shard, in order. */
        final List<String> told = new ArrayList<>();
        final List<String> reminders = new ArrayList<>();
        boolean unloaded;
        /** How often it was told it serves. */
        int activations;

        Counters(ShardContext context) {
            this.context = context;
        }

        @Override
        public void replay(Count record) {
            told.add(record.key() + "=" + record.value());
            if (record.value() == null) {
                values.remove(record.key());
            } else {
                values.put(record.key(), record.value());
            }
        }

        @Override
        public void replayTransactional(long producerId, short producerEpoch, Count record) {
            told.add("producer " + producerId + "/" + producerEpoch + ": " + record.key() + "=" + record.value());
            inTransaction.computeIfAbsent(producerId, p -> new HashMap<>()).put(record.key(), record.value());
        }

        @Override
        public void replayEndTransaction(long producerId, boolean commit) {
            told.add((commit ? "commit " : "abort ") + producerId);
            Map<String, Long> ended = inTransaction.remove(producerId);
            if (commit && ended != null) {
                values.putAll(ended);
            }
        }

        @Override
        public void onLoaded() {
            told.add("loaded");
        }

        @Override
        public void onActive() {
            activations++;
        }

        @Override
        public void onUnloaded() {
            unloaded = true;
        }

        CoordinatorResult<Count, Long> increment(String key) {
            long next = values.getOrDefault(key, 0L) + 1;
            return CoordinatorResult.of(List.of(new Count(key, next)), next);
        }

        CoordinatorResult<Count, Long> incrementInTransaction(long producerId, short producerEpoch, String key) {
            long next = values.getOrDefault(key, 0L) + 1;
            return CoordinatorResult.transactional(producerId, producerEpoch, List.of(new Count(key, next)), next);
        }
    }

    static final class CountSerde implements RecordSerde<Count> {
        @Override
        public byte[] key(Count record) {
            return record.key().getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] value(Count record) {
            return record.value() == null ? null : ByteBuffer.allocate(8).putLong(record.value()).array();
        }

        @Override
        public Count read(ByteBuffer key, ByteBuffer value) {
            return new Count(StandardCharsets.UTF_8.decode(key).toString(), value == null ? null : value.getLong());
        }
    }

    @TempDir
    Path dataDir;

    private final ManualScheduler scheduler = new ManualScheduler(1_000);
    private final List<Counters> created = new ArrayList<>();
    private LogManager logs;
    private Partition partition;
    private CoordinatorRuntime<Counters, Count> runtime;

    @BeforeEach
    void open() throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        runtime = newRuntime();
        PartitionLog log = logs.getOrCreate(TP, LogConfig.from(Map.of()));
        partition = new Partition(TP, log, 1, Partition.Role.FOLLOWER,
                new PartitionContext(GroupCommit.IN_PLACE, LeadershipLease.ALWAYS, scheduler, runtime.leadership()));
    }

    @AfterEach
    void close() {
        logs.close();
    }

    private CoordinatorRuntime<Counters, Count> newRuntime() {
        CoordinatorRuntime.Partitions partitions = new CoordinatorRuntime.Partitions() {
            @Override
            public Partition partition(int p) {
                return p == 0 ? partition : null;
            }

            @Override
            public boolean leads(Partition candidate) {
                return candidate.isLeader();
            }
        };
        return new CoordinatorRuntime<>(TOPIC, scheduler, scheduler, partitions, context -> {
            Counters shard = new Counters(context);
            created.add(shard);
            return shard;
        }, new CountSerde(), COMMIT_TIMEOUT_MS);
    }

    private void lead(int epoch) {
        partition.becomeLeader(epoch, epoch, List.of(1, 2), List.of(1, 2), scheduler.millis());
        scheduler.runDue();
    }

    /** Follower 2 copies everything: the high watermark reaches the log end. */
    private void replicate() {
        partition.onFollowerFetch(2, partition.log().logEndOffset(), scheduler.millis(), "");
        scheduler.runDue();
    }

    private <T> T done(CompletableFuture<T> future) {
        scheduler.runDue();
        assertThat(future).isDone();
        return future.join();
    }

    private long read(String key) {
        return done(runtime.read(0, shard -> shard.values.getOrDefault(key, 0L)));
    }

    @Test
    void aWriteIsAnsweredAndReplayedOnlyOnceItsRecordsAreCommitted() {
        lead(1);
        CompletableFuture<Long> written = runtime.write(0, shard -> shard.increment("clicks"));
        scheduler.runDue();

        assertThat(written).as("follower 2 has not copied it").isNotDone();
        assertThat(partition.log().logEndOffset()).as("the record is in the leader's log").isEqualTo(1);
        assertThat(read("clicks")).as("the shard holds what is committed only").isZero();

        replicate();
        assertThat(written).isCompletedWithValue(1L);
        assertThat(read("clicks")).isEqualTo(1);
    }

    @Test
    void aShardIsDroppedWithItsLeadershipAndRebuiltFromTheLogWhenLedAgain() {
        lead(1);
        CompletableFuture<Long> first = runtime.write(0, shard -> shard.increment("clicks"));
        CompletableFuture<Long> second = runtime.write(0, shard -> shard.increment("views"));
        scheduler.runDue();
        replicate();
        assertThat(first).isCompletedWithValue(1L);
        assertThat(second).isCompletedWithValue(1L);

        partition.becomeFollower(2, 2, 2, List.of(1, 2), List.of(1, 2));
        scheduler.runDue();
        assertThat(created.get(0).unloaded).isTrue();
        assertThatThrownBy(() -> read("clicks")).hasCauseInstanceOf(CoordinatorException.class)
                .cause().extracting(e -> ((CoordinatorException) e).reason()).isEqualTo(CoordinatorException.Reason.NOT_COORDINATOR);

        lead(3);
        assertThat(created).as("a fresh shard, loaded from the log").hasSize(2);
        assertThat(read("clicks")).isEqualTo(1);
        assertThat(read("views")).isEqualTo(1);
    }

    @Test
    void aLeaderTheRuntimeHasNotLoadedYetAnswersLoading() {
        CoordinatorRuntime<Counters, Count> unaware = newRuntime();
        lead(1);
        CompletableFuture<Long> answer = unaware.read(0, shard -> 0L);
        scheduler.runDue();
        assertThat(answer).isCompletedExceptionally();
        assertThatThrownBy(answer::join).cause().isInstanceOf(CoordinatorException.class)
                .extracting(e -> ((CoordinatorException) e).reason()).isEqualTo(CoordinatorException.Reason.LOADING);
    }

    /**
     * What a new leader replayed past its high watermark may yet be truncated by the leader after
     * it: the shard answers LOADING until the high watermark covers it (an answer read from such a
     * record once let a transaction's offsets in, and no marker ever ended that transaction).
     */
    @Test
    void aShardAnswersOnlyOnceWhatItReplayedPastTheHighWatermarkIsCommitted() {
        copiedFromAnEarlierLeader(countBatch("clicks", 1, null));
        lead(1);
        assertThat(created).as("loaded").hasSize(1);
        CompletableFuture<Long> early = runtime.read(0, shard -> shard.values.getOrDefault("clicks", 0L));
        scheduler.runDue();
        assertThatThrownBy(early::join).cause().isInstanceOf(CoordinatorException.class)
                .extracting(e -> ((CoordinatorException) e).reason()).isEqualTo(CoordinatorException.Reason.LOADING);

        replicate();
        assertThat(read("clicks")).isEqualTo(1);
    }

    /**
     * A shard whose load replayed past the high watermark hears that it serves once the high
     * watermark gets there, whether or not an operation comes (a group's members' sessions start
     * then; started at the load, they ran while every heartbeat was refused as loading).
     */
    @Test
    void aShardIsToldItServesOnceTheHighWatermarkReachesWhatItsLoadReplayedAndOnlyOnce() {
        copiedFromAnEarlierLeader(countBatch("clicks", 1, null));
        lead(1);
        Counters shard = created.get(0);
        assertThat(shard.activations).as("what it replayed is not committed yet").isZero();

        replicate();
        assertThat(shard.activations).isEqualTo(1);
        assertThat(read("clicks")).isEqualTo(1);
        assertThat(shard.activations).isEqualTo(1);
    }

    @Test
    void aShardLoadedFromACommittedLogServesAtOnce() {
        lead(1);
        assertThat(created.get(0).activations).isEqualTo(1);
    }

    @Test
    void aWriteTheInSyncReplicasDoNotTakeInTimeFailsAndIsNotReplayed() {
        lead(1);
        CompletableFuture<Long> written = runtime.write(0, shard -> shard.increment("clicks"));
        scheduler.advance(COMMIT_TIMEOUT_MS);

        assertThat(written).isCompletedExceptionally();
        assertThatThrownBy(written::join).isInstanceOf(CompletionException.class).cause()
                .isInstanceOf(CoordinatorException.class)
                .extracting(e -> ((CoordinatorException) e).reason()).isEqualTo(CoordinatorException.Reason.WRITE_FAILED);
        assertThat(read("clicks")).isZero();
    }

    @Test
    void aWriteThatTimedOutButCommittedWithALaterOneIsReplayedBeforeIt() {
        lead(1);
        CompletableFuture<Long> late = runtime.write(0, shard -> shard.increment("clicks"));
        scheduler.advance(COMMIT_TIMEOUT_MS);
        assertThat(late).as("told it failed: its record stays in the log").isCompletedExceptionally();
        CompletableFuture<Long> next = runtime.write(0, shard -> shard.increment("views"));
        scheduler.runDue();

        replicate();
        assertThat(next).isCompletedWithValue(1L);
        // The high watermark passed both records: the shard holds what its log holds.
        assertThat(read("clicks")).isEqualTo(1);
        assertThat(read("views")).isEqualTo(1);
    }

    @Test
    void aWriteThatTimedOutIsReplayedAndSettledOnceTheHighWatermarkPassesIt() {
        lead(1);
        List<String> settled = new ArrayList<>();
        CompletableFuture<Long> late = runtime.write(0, shard -> shard.increment("clicks"), shard -> settled.add("clicks"));
        scheduler.advance(COMMIT_TIMEOUT_MS);
        assertThat(late).isCompletedExceptionally();
        assertThat(settled).as("its record may still commit: not settled yet").isEmpty();

        replicate(); // no later write: the next operation on the shard sees the high watermark past it
        assertThat(read("clicks")).isEqualTo(1);
        assertThat(settled).containsExactly("clicks");
    }

    /** A timer sees what committed meanwhile, with no request coming to the shard in between. */
    @Test
    void aShardsTimerSeesAWriteThatTimedOutAndCommittedSince() {
        lead(1);
        CompletableFuture<Long> late = runtime.write(0, shard -> shard.increment("clicks"));
        scheduler.advance(COMMIT_TIMEOUT_MS);
        assertThat(late).isCompletedExceptionally();
        List<Long> seen = new ArrayList<>();
        done(runtime.read(0, shard -> shard.context.schedule("look", 1_000, () -> seen.add(shard.values.getOrDefault("clicks", 0L)))));

        replicate();
        scheduler.advance(1_000);

        assertThat(seen).containsExactly(1L);
    }

    @Test
    void aShardsTimersRunOnItsThreadAndDieWithIt() {
        lead(1);
        done(runtime.read(0, shard -> shard.context.schedule("remind", 1_000, () -> shard.reminders.add("first"))));
        done(runtime.read(0, shard -> shard.context.schedule("remind", 5_000, () -> shard.reminders.add("second"))));
        scheduler.advance(1_000);
        assertThat(created.get(0).reminders).containsExactly("first");

        partition.becomeFollower(2, 2, 2, List.of(1, 2), List.of(1, 2));
        scheduler.advance(10_000);
        assertThat(created.get(0).reminders).as("dropped before the second was due").containsExactly("first");
    }

    @Test
    void aRestartedNodeLoadsEachShardFromWhatTheLogHolds() {
        lead(1);
        CompletableFuture<Long> written = runtime.write(0, shard -> shard.increment("clicks"));
        scheduler.runDue();
        replicate();
        assertThat(done(written)).isEqualTo(1L);
        runtime.close();

        // A restart: a new runtime and partition over the same log, led again.
        CoordinatorRuntime<Counters, Count> restarted = newRuntime();
        partition = new Partition(TP, partition.log(), 1, Partition.Role.FOLLOWER,
                new PartitionContext(GroupCommit.IN_PLACE, LeadershipLease.ALWAYS, scheduler, restarted.leadership()));
        lead(2);
        Long replayed = done(restarted.read(0, shard -> shard.values.get("clicks")));
        assertThat(replayed).isEqualTo(1L);
        CompletableFuture<Long> next = restarted.write(0, shard -> shard.increment("clicks"));
        scheduler.runDue();
        replicate();
        assertThat(done(next)).isEqualTo(2L);
    }

    /** Appends {@code batch} to the log as a follower does, at the log's end: the log as a previous leader left it. */
    private void copiedFromAnEarlierLeader(ByteBuffer batch) {
        RecordBatch.of(batch).assign(partition.log().logEndOffset(), 0);
        assertThat(partition.log().appendAsFollower(batch, scheduler.millis()).ok()).isTrue();
    }

    private ByteBuffer countBatch(String key, long value, Long producerId) {
        RecordBatchBuilder builder = new RecordBatchBuilder(scheduler.millis());
        if (producerId != null) {
            builder.producer(producerId, (short) 0, RecordBatch.NO_SEQUENCE).attributes(true, false);
        }
        CountSerde serde = new CountSerde();
        Count count = new Count(key, value);
        return builder.append(scheduler.millis(), ByteBuffer.wrap(serde.key(count)), ByteBuffer.wrap(serde.value(count))).build();
    }

    private List<Long> openTransactions() {
        return done(runtime.read(0, shard -> List.copyOf(shard.inTransaction.keySet())));
    }

    @Test
    void aLoadTellsTheShardTransactionalRecordsAndMarkersInLogOrderThenThatItIsLoaded() {
        copiedFromAnEarlierLeader(countBatch("clicks", 1, null));
        copiedFromAnEarlierLeader(countBatch("views", 5, 7L));
        copiedFromAnEarlierLeader(countBatch("likes", 9, 8L));
        copiedFromAnEarlierLeader(ControlBatches.endTxnMarker(7, (short) 0, 3, true, scheduler.millis()));
        copiedFromAnEarlierLeader(ControlBatches.endTxnMarker(8, (short) 0, 3, false, scheduler.millis()));

        lead(1);
        Counters shard = created.get(0);
        assertThat(shard.told).containsExactly("clicks=1", "producer 7/0: views=5", "producer 8/0: likes=9", "commit 7", "abort 8", "loaded");
        replicate(); // the shard answers once what it replayed is committed
        assertThat(read("views")).isEqualTo(5);
        assertThat(read("likes")).as("its transaction aborted").isZero();
    }

    @Test
    void aTransactionalWriteIsTheProducersBatchAndCountsOnceTheCommitMarkerWrittenAfterItIsCommitted() throws IOException {
        lead(1);
        CompletableFuture<Long> written = runtime.write(0, shard -> shard.incrementInTransaction(7, (short) 2, "clicks"));
        CompletableFuture<Void> committed = runtime.completeTransaction(0, 7, (short) 2, 4, true);
        scheduler.runDue();
        assertThat(written).isNotDone();
        assertThat(committed).as("follower 2 has copied neither").isNotDone();

        replicate();
        assertThat(written).isCompletedWithValue(1L);
        assertThat(committed).isCompleted();
        assertThat(created.get(0).told).as("in log order").containsExactly("loaded", "producer 7/2: clicks=1", "commit 7");
        assertThat(read("clicks")).isEqualTo(1);

        List<String> batches = new ArrayList<>();
        LogScanner.forEachBatch(partition.log(), 0, partition.log().logEndOffset(), batch -> batches.add(
                (batch.isControl() ? "marker " + ControlBatches.readMarker(batch) : "data") + " transactional=" + batch.isTransactional()
                        + " producer=" + batch.producerId() + "/" + batch.producerEpoch() + " sequence=" + batch.baseSequence()));
        assertThat(batches).containsExactly(
                "data transactional=true producer=7/2 sequence=-1",
                "marker " + new ControlBatches.EndTxnMarker(true, 4) + " transactional=true producer=7/2 sequence=-1");
    }

    @Test
    void anAbortMarkerVoidsTheTransactionsRecordsAndALoadRebuildsTheSame() {
        lead(1);
        runtime.write(0, shard -> shard.increment("clicks"));
        scheduler.runDue();
        replicate();
        runtime.write(0, shard -> shard.incrementInTransaction(7, (short) 0, "clicks"));
        runtime.write(0, shard -> shard.incrementInTransaction(8, (short) 0, "views"));
        CompletableFuture<Void> aborted = runtime.completeTransaction(0, 7, (short) 0, 1, false);
        scheduler.runDue();
        replicate();
        assertThat(aborted).isCompleted();
        assertThat(read("clicks")).isEqualTo(1);
        assertThat(openTransactions()).as("producer 8's transaction is still open").containsExactly(8L);

        partition.becomeFollower(2, 2, 2, List.of(1, 2), List.of(1, 2));
        lead(3);
        Counters reloaded = created.get(1);
        assertThat(reloaded.told).containsExactly("clicks=1", "producer 7/0: clicks=2", "producer 8/0: views=1", "abort 7", "loaded");
        assertThat(read("clicks")).isEqualTo(1);
        assertThat(openTransactions()).containsExactly(8L);
    }

    @Test
    void aMarkerForAPartitionThisNodeDoesNotLeadIsRefusedAndNothingIsWritten() {
        CompletableFuture<Void> marker = runtime.completeTransaction(0, 7, (short) 0, 1, true);
        scheduler.runDue();
        assertThatThrownBy(marker::join).cause().isInstanceOf(CoordinatorException.class)
                .extracting(e -> ((CoordinatorException) e).reason()).isEqualTo(CoordinatorException.Reason.NOT_COORDINATOR);
        assertThat(partition.log().logEndOffset()).isZero();
    }

    @Test
    void afterCloseNothingRunsAndOperationsAreRefused() {
        lead(1);
        done(runtime.read(0, shard -> shard.context.schedule("remind", 1_000, () -> shard.reminders.add("late"))));
        runtime.close();
        scheduler.advance(2_000);
        assertThat(created.get(0).reminders).isEmpty();
        assertThat(created.get(0).unloaded).isTrue();
        assertThat(runtime.read(0, shard -> 0L)).isCompletedExceptionally();
    }
}
