package io.spate.processing;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.processing.store.RocksDbStores;
import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.replication.PartitionContext;
import io.spate.replication.WriteError;
import io.spate.stream.KStream;
import io.spate.stream.Named;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;
import io.spate.stream.engine.ChangelogRecord;
import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.engine.InputRecord;
import io.spate.stream.engine.Output;
import io.spate.stream.engine.PipelineCompiler;
import io.spate.stream.engine.Task;
import io.spate.stream.engine.TaskStats;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@link StandbyTask} over a real changelog partition (spate-replication, a log on disk) and a
 * real compiled pipeline (an aggregate that concatenates values per key, so a store holding the
 * wrong history shows in the next result): what it applies survives an orderly leader change and
 * is handed over whole; a replica that an unclean election cut back and let grow past the old
 * position is seen as such, and nothing is handed over; a hand-over or closing does not wait on
 * a catch-up stuck in the pipeline's code.
 */
class StandbyTaskTest {
    private static final Serde<String> S = Serdes.string();
    private static final int PARTITION = 2;
    private static final String CHANGELOG = "h-concat-changelog";
    private static final io.spate.log.TopicPartition LOG_TP = new io.spate.log.TopicPartition(CHANGELOG, PARTITION);
    private static final TaskId ID = new TaskId("h", 0, PARTITION);

    @TempDir
    Path dataDir;
    private LogManager logs;
    private Partition changelog;
    private final CompiledPipeline pipeline = PipelineCompiler.compile("h", b -> b.stream("in", S, S).groupByKey()
            .aggregate(() -> "", (k, v, a) -> a + v, S, Named.as("concat")).toStream().to("out", S, S), Map.of());

    @BeforeEach
    void open() throws IOException {
        logs = LogManager.open(dataDir, Clock.systemUTC(), 300_000);
        PartitionLog log = logs.getOrCreate(LOG_TP, LogConfig.from(Map.of()));
        changelog = new Partition(LOG_TP, log, 1, Partition.Role.FOLLOWER, PartitionContext.defaults());
        changelog.becomeLeader(3, 1, List.of(1, 2), List.of(1), System.currentTimeMillis());
    }

    @AfterEach
    void close() {
        logs.close();
    }

    private StandbyTask standby(Task task) {
        return standby(task, null);
    }

    private StandbyTask standby(Task task, RocksDbStores onDisk) {
        return new StandbyTask(ID, 1, task, onDisk, false, 1 << 20,
                tp -> tp.equals(new TopicPartition(CHANGELOG, PARTITION)) ? changelog : null, getClass().getClassLoader(),
                inputs -> {
                    throw new AssertionError("no source table here, yet asked for the positions of " + inputs);
                }, System::currentTimeMillis);
    }

    @Test
    void whatItAppliedSurvivesAnOrderlyLeaderChangeAndIsHandedOverWhole() throws Exception {
        StandbyTask standby = standby(pipeline.createTask(0, PARTITION));
        write("a", "1", "a", "12", "b", "3");
        standby.catchUp();
        // The replica follows another leader for a while, then leads again: a new epoch, nothing cut.
        changelog.becomeFollower(4, 2, 2, List.of(1, 2), List.of(1, 2));
        changelog.becomeLeader(5, 3, List.of(1, 2), List.of(1), System.currentTimeMillis());
        write("a", "123");
        standby.catchUp();

        StandbyTask.Warm warm = standby.handOver();

        assertThat(warm).isNotNull();
        assertThat(warm.positions()).isEqualTo(Map.of("concat", 4L));
        assertThat(warm.records()).isEqualTo(4);
        assertThat(process(warm.task(), "a", "4")).isEqualTo("1234");
        assertThat(process(warm.task(), "b", "4")).isEqualTo("34");
        warm.task().close();
    }

    @Test
    void rocksDbStoresAreKeptWarmInTheStandbysOwnDirectoryAndHandedOverOpen() throws Exception {
        Path dir = StandbyTask.stateDir(dataDir.resolve("state"), ID);
        RocksDbStores onDisk = RocksDbStores.open(dir);
        StandbyTask standby = standby(pipeline.createTask(0, PARTITION, onDisk), onDisk);
        write("a", "1", "a", "12", "b", "3");
        standby.catchUp();
        write("b", "34");
        standby.catchUp();

        StandbyTask.Warm warm = standby.handOver();

        assertThat(warm.onDisk()).isSameAs(onDisk);
        assertThat(warm.positions()).isEqualTo(Map.of("concat", 4L));
        assertThat(process(warm.task(), "a", "4")).isEqualTo("124");
        assertThat(process(warm.task(), "b", "5")).isEqualTo("345");
        standby.close(); // handed over: the task's now, nothing closes
        assertThat(process(warm.task(), "b", "6")).isEqualTo("3456");
        warm.task().close();
        warm.onDisk().close();
        assertThat(dir).doesNotExist();
    }

    @Test
    void aRocksDbStandbyClosedWithoutAHandOverLeavesNothingOnDisk() throws Exception {
        Path dir = StandbyTask.stateDir(dataDir.resolve("state"), ID);
        RocksDbStores onDisk = RocksDbStores.open(dir);
        StandbyTask standby = standby(pipeline.createTask(0, PARTITION, onDisk), onDisk);
        write("a", "1");
        standby.catchUp();
        assertThat(dir).isNotEmptyDirectory();

        standby.close();

        assertThat(dir).doesNotExist();
        assertThat(standby.handOver()).isNull();
    }

    @Test
    void aReplicaAnUncleanElectionCutBackAndGrewAgainIsNotHandedOver() throws Exception {
        StandbyTask standby = standby(pipeline.createTask(0, PARTITION));
        write("a", "1");
        write("a", "12", "b", "3");
        standby.catchUp();
        // An out-of-sync replica was elected: this one cuts its log back to that leader's (offset 1),
        // leads again later, and the partition grows past where the standby stood under a new epoch.
        changelog.becomeFollower(4, 2, 2, List.of(1, 2), List.of(2));
        assertThat(changelog.truncateAsFollower(1, 4)).isTrue();
        changelog.becomeLeader(5, 3, List.of(1, 2), List.of(1), System.currentTimeMillis());
        write("a", "9", "b", "8", "c", "7");
        assertThat(changelog.readLimit(io.spate.replication.ReadBound.HIGH_WATERMARK)).isGreaterThan(3);

        assertThatThrownBy(standby::catchUp).isInstanceOf(IllegalStateException.class).hasMessageContaining("unclean election");
        assertThat(standby.handOver()).isNull();
    }

    @Test
    void aHandOverAndAClosingDoNotWaitForACatchUpStuckInThePipelinesCode() throws Exception {
        CountDownLatch inRestore = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean closed = new AtomicBoolean();
        Task stuck = new StuckInRestore(pipeline.createTask(0, PARTITION), inRestore, release, closed);
        StandbyTask standby = standby(stuck);
        write("a", "1");
        CompletableFuture<Void> catchUp = CompletableFuture.runAsync(() -> {
            try {
                standby.catchUp();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertThat(inRestore.await(30, TimeUnit.SECONDS)).isTrue();

        assertThat(standby.handOver()).isNull();
        standby.close();
        assertThat(closed).isFalse(); // still inside the pipeline's restore

        release.countDown();
        catchUp.get(30, TimeUnit.SECONDS);
        await().untilTrue(closed);
        assertThat(standby.handOver()).isNull();
    }

    @Test
    void aSourceTableIsAppliedUpToItsInputsCommittedPositionAsLastReadAndNoFurther() throws Exception {
        Partition users = leaderOf("users");
        AtomicReference<Map<TopicPartition, Long>> committed = new AtomicReference<>(Map.of());
        AtomicLong now = new AtomicLong(1_000_000);
        AtomicInteger reads = new AtomicInteger();
        StandbyTask.CommittedPositions positions = inputs -> {
            assertThat(inputs).containsExactly(USERS);
            reads.incrementAndGet();
            return CompletableFuture.completedFuture(committed.get());
        };
        // One batch of four: the committed position falls inside it.
        write(users, "u1", "ada", "u2", "bob", "u1", "ada2", "u3", "cy");

        // Never committed: nothing applied (a starting task would read the table whole).
        StandbyTask first = sourceTableStandby(users, positions, now);
        first.catchUp();
        StandbyTask.Warm none = first.handOver();
        assertThat(none.positions()).isEmpty();
        assertThat(none.records()).isZero();
        none.task().close();

        StandbyTask standby = sourceTableStandby(users, positions, now);
        committed.set(Map.of(USERS, 2L));
        standby.catchUp();
        // Committed further, read again only once COMMITTED_READ_MS has passed.
        committed.set(Map.of(USERS, 3L));
        standby.catchUp();
        assertThat(reads).hasValue(2);
        StandbyTask.Warm warm = standby.handOver();
        assertThat(warm.positions()).isEqualTo(Map.of("users", 2L));
        assertThat(warm.records()).isEqualTo(2);
        assertThat(enrich(warm.task(), "u1")).containsExactly("page@ada");
        assertThat(enrich(warm.task(), "u3")).isEmpty();
        warm.task().close();

        StandbyTask later = sourceTableStandby(users, positions, now);
        committed.set(Map.of(USERS, 2L));
        later.catchUp();
        committed.set(Map.of(USERS, 3L));
        now.addAndGet(StandbyTask.COMMITTED_READ_MS);
        later.catchUp();
        StandbyTask.Warm warmer = later.handOver();
        assertThat(warmer.positions()).isEqualTo(Map.of("users", 3L));
        assertThat(enrich(warmer.task(), "u1")).containsExactly("page@ada2");
        assertThat(enrich(warmer.task(), "u3")).isEmpty();
        warmer.task().close();
    }

    @Test
    void aSourceTableWhoseCommittedPositionMovedBackBelowWhatWasAppliedFailsItsStandby() throws Exception {
        Partition users = leaderOf("users");
        AtomicReference<Map<TopicPartition, Long>> committed = new AtomicReference<>(Map.of(USERS, 3L));
        AtomicLong now = new AtomicLong(1_000_000);
        write(users, "u1", "ada", "u2", "bob", "u1", "ada2");
        StandbyTask standby = sourceTableStandby(users, inputs -> CompletableFuture.completedFuture(committed.get()), now);
        standby.catchUp();

        committed.set(Map.of(USERS, 1L)); // the group's offsets were reset
        now.addAndGet(StandbyTask.COMMITTED_READ_MS);

        assertThatThrownBy(standby::catchUp).isInstanceOf(IllegalStateException.class).hasMessageContaining("moved back");
        standby.close();
    }

    @Test
    void aFailedReadOfTheCommittedPositionsKeepsTheLastOneRead() throws Exception {
        Partition users = leaderOf("users");
        AtomicLong now = new AtomicLong(1_000_000);
        AtomicBoolean coordinatorAway = new AtomicBoolean();
        write(users, "u1", "ada", "u2", "bob", "u1", "ada2");
        StandbyTask standby = sourceTableStandby(users, inputs -> coordinatorAway.get()
                ? CompletableFuture.failedFuture(new org.apache.kafka.common.errors.TimeoutException("no coordinator"))
                : CompletableFuture.completedFuture(Map.of(USERS, 1L)), now);
        standby.catchUp();
        coordinatorAway.set(true);
        now.addAndGet(StandbyTask.COMMITTED_READ_MS);
        write(users, "u2", "bo");
        standby.catchUp();

        StandbyTask.Warm warm = standby.handOver();
        assertThat(warm.positions()).isEqualTo(Map.of("users", 1L));
        assertThat(enrich(warm.task(), "u1")).containsExactly("page@ada");
        assertThat(enrich(warm.task(), "u2")).isEmpty();
        warm.task().close();
    }

    @Test
    void aReadOfTheCommittedPositionsStillUnansweredHoldsUpNoCatchUpAndIsTakenWhenItIs() throws Exception {
        Partition users = leaderOf("users");
        AtomicLong now = new AtomicLong(1_000_000);
        List<CompletableFuture<Map<TopicPartition, Long>>> asked = new ArrayList<>();
        StandbyTask standby = sourceTableStandby(users, inputs -> {
            CompletableFuture<Map<TopicPartition, Long>> answer = new CompletableFuture<>();
            asked.add(answer);
            return answer;
        }, now);
        write(users, "u1", "ada", "u2", "bob", "u1", "ada2");
        standby.catchUp();
        now.addAndGet(3 * StandbyTask.COMMITTED_READ_MS);
        standby.catchUp(); // still unanswered: not asked again, nothing applied
        assertThat(asked).hasSize(1);

        asked.get(0).complete(Map.of(USERS, 2L));
        standby.catchUp();

        StandbyTask.Warm warm = standby.handOver();
        assertThat(warm.positions()).isEqualTo(Map.of("users", 2L));
        assertThat(enrich(warm.task(), "u2")).containsExactly("page@bob");
        warm.task().close();
    }

    private static final TopicPartition USERS = new TopicPartition("users", PARTITION);
    private final CompiledPipeline joins = PipelineCompiler.compile("h", b -> {
        KStream<String, String> clicks = b.stream("clicks", S, S);
        clicks.join(b.table("users", S, S, Named.as("users")), (page, user) -> page + "@" + user).to("enriched", S, S);
    }, Map.of());

    private StandbyTask sourceTableStandby(Partition users, StandbyTask.CommittedPositions committed, AtomicLong clock) {
        Task task = joins.createTask(0, PARTITION);
        assertThat(task.inputTopics()).contains("users");
        assertThat(task.changelogTopics()).containsEntry("users", "users");
        return new StandbyTask(ID, 1, task, null, false, 1 << 20, tp -> tp.equals(USERS) ? users : null, getClass().getClassLoader(),
                committed, clock::get);
    }

    private Partition leaderOf(String topic) throws IOException {
        io.spate.log.TopicPartition tp = new io.spate.log.TopicPartition(topic, PARTITION);
        Partition partition = new Partition(tp, logs.getOrCreate(tp, LogConfig.from(Map.of())), 1, Partition.Role.FOLLOWER,
                PartitionContext.defaults());
        partition.becomeLeader(1, 1, List.of(1, 2), List.of(1), System.currentTimeMillis());
        return partition;
    }

    /** What a click on {@code user}'s page gives, joined with the table as the task holds it. */
    private static List<String> enrich(Task task, String user) {
        List<String> out = new ArrayList<>();
        task.process(List.of(new InputRecord("clicks", PARTITION, 100, 100, bytes(user), bytes("page"))),
                (topic, partition, k, v, ts) -> {
                    if (topic.equals("enriched")) {
                        out.add(new String(v, StandardCharsets.UTF_8));
                    }
                }, 0);
        return out;
    }

    private void write(String... keyValues) {
        write(changelog, keyValues);
    }

    private static void write(Partition partition, String... keyValues) {
        SimpleRecord[] records = new SimpleRecord[keyValues.length / 2];
        for (int i = 0; i < records.length; i++) {
            records[i] = new SimpleRecord(System.currentTimeMillis(), bytes(keyValues[2 * i]), bytes(keyValues[2 * i + 1]));
        }
        var written = partition.append(MemoryRecords.withRecords(Compression.NONE, records).buffer(), Acks.ALL, 30_000,
                System.currentTimeMillis()).join();
        assertThat(written.error()).isEqualTo(WriteError.NONE);
    }

    /** The value the task's aggregate gives for {@code key} after one more record. */
    private static String process(Task task, String key, String value) {
        List<String> out = new ArrayList<>();
        task.process(List.of(new InputRecord("in", PARTITION, 100, 100, bytes(key), bytes(value))),
                (topic, partition, k, v, ts) -> {
                    if (topic.equals("out")) {
                        out.add(new String(v, StandardCharsets.UTF_8));
                    }
                }, 0);
        assertThat(out).hasSize(1);
        return out.get(0);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The pipeline's real task, whose restore hangs until released, as a user serde stuck in a call would. */
    private record StuckInRestore(Task task, CountDownLatch inRestore, CountDownLatch release, AtomicBoolean closed) implements Task {
        @Override
        public void restore(String store, List<ChangelogRecord> records) {
            inRestore.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            task.restore(store, records);
        }

        @Override
        public void close() {
            task.close();
            closed.set(true);
        }

        @Override
        public int subTopologyId() {
            return task.subTopologyId();
        }

        @Override
        public int partition() {
            return task.partition();
        }

        @Override
        public List<String> inputTopics() {
            return task.inputTopics();
        }

        @Override
        public Map<String, String> changelogTopics() {
            return task.changelogTopics();
        }

        @Override
        public void restoreStreamTime(long streamTimeMs) {
            task.restoreStreamTime(streamTimeMs);
        }

        @Override
        public void process(List<InputRecord> batch, Output out, long wallClockMs) {
            task.process(batch, out, wallClockMs);
        }

        @Override
        public boolean advanceWallClock(long wallClockMs, Output out) {
            return task.advanceWallClock(wallClockMs, out);
        }

        @Override
        public long wallClockDeadlineMs() {
            return task.wallClockDeadlineMs();
        }

        @Override
        public TaskStats stats() {
            return task.stats();
        }
    }
}
