package io.spate.replication;

import io.spate.log.LogConfig;
import io.spate.log.LogError;
import io.spate.log.LogManager;
import io.spate.log.LogReadResult;
import io.spate.log.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.SimpleRecord;
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
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The follower's side of replication without a network: two replicas with real logs, the
 * leader's answers computed from its log the way the leader's handlers do, carried by the test.
 */
class FollowerFetchLogicTest {
    private static final TopicPartition TP = new TopicPartition("orders", 0);
    private static final long NOW = 1_000;

    @TempDir
    Path dirOne;
    @TempDir
    Path dirTwo;

    private LogManager logsOne;
    private LogManager logsTwo;
    private Partition one;
    private Partition two;

    @BeforeEach
    void open() throws IOException {
        logsOne = LogManager.open(dirOne, Clock.systemUTC(), 300_000);
        logsTwo = LogManager.open(dirTwo, Clock.systemUTC(), 300_000);
        one = new Partition(TP, logsOne.getOrCreate(TP, LogConfig.defaultConfig()), 1, Partition.Role.FOLLOWER);
        two = new Partition(TP, logsTwo.getOrCreate(TP, LogConfig.defaultConfig()), 2, Partition.Role.FOLLOWER);
    }

    @AfterEach
    void close() {
        logsOne.close();
        logsTwo.close();
    }

    private static ByteBuffer records(String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(NOW, null, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withRecords(Compression.NONE, records).buffer();
    }

    private static void append(Partition leader, String... values) {
        assertThat(leader.appendAsLeader(records(values), NOW).ok()).isTrue();
    }

    /** The leader's fetch answer for a replica (bounded by its log end), from its log. */
    private static List<FollowerFetchLogic.Fetched> fetch(Partition leader, List<FollowerFetchLogic.FetchPosition> positions) throws IOException {
        List<FollowerFetchLogic.Fetched> answers = new ArrayList<>();
        for (FollowerFetchLogic.FetchPosition p : positions) {
            long[] diverging = leader.log().divergingEpoch(p.lastFetchedEpoch(), p.fetchOffset());
            if (diverging != null) {
                answers.add(FollowerFetchLogic.Fetched.diverging(p.partition(), p.currentLeaderEpoch(), leader.log().highWatermark(),
                        leader.log().logStartOffset(), p.topicId(), (int) diverging[0], diverging[1]));
                continue;
            }
            LogReadResult read = leader.log().read(p.fetchOffset(), 1 << 20, leader.log().logEndOffset(), true);
            if (read.error() == LogError.OFFSET_OUT_OF_RANGE) {
                answers.add(new FollowerFetchLogic.Fetched(p.partition(), p.currentLeaderEpoch(), FollowerFetchLogic.Fetched.Outcome.OUT_OF_RANGE, null,
                        leader.log().highWatermark(), leader.log().logStartOffset()));
            } else {
                answers.add(new FollowerFetchLogic.Fetched(p.partition(), p.currentLeaderEpoch(), FollowerFetchLogic.Fetched.Outcome.RECORDS,
                        read.slice().readIntoHeap(), leader.log().highWatermark(), leader.log().logStartOffset()));
            }
        }
        return answers;
    }

    /** One round of the follower's loop: one fetch. */
    private static void round(FollowerFetchLogic follower, Partition leader) throws IOException {
        follower.onFetched(fetch(leader, follower.fetchPositions()), NOW);
    }

    private static List<String> values(Partition p) throws IOException {
        List<String> values = new ArrayList<>();
        LogReadResult read = p.log().read(p.log().logStartOffset(), 1 << 24, p.log().logEndOffset(), true);
        for (Record r : MemoryRecords.readableRecords(read.slice().readIntoHeap()).records()) {
            values.add(StandardCharsets.UTF_8.decode(r.value()).toString());
        }
        return values;
    }

    @Test
    void aFollowerDropsWhatOnlyItsOldLeadershipWroteAndCopiesTheNewLeaders() throws IOException {
        one.becomeLeader(1, 1, List.of(1, 2), List.of(1, 2), NOW);
        two.becomeFollower(1, 1, 1, List.of(1, 2), List.of(1, 2));
        FollowerFetchLogic twoFromOne = new FollowerFetchLogic(1);
        twoFromOne.follow(two, 1);
        append(one, "a", "b", "c");
        round(twoFromOne, one);
        assertThat(values(two)).containsExactly("a", "b", "c");

        // Replica 1 takes two more writes that replica 2 never copies, then loses the lead.
        append(one, "d", "e");
        two.becomeLeader(2, 2, List.of(1, 2), List.of(2), NOW);
        append(two, "f", "g");
        one.becomeFollower(2, 2, 2, List.of(1, 2), List.of(2));

        FollowerFetchLogic oneFromTwo = new FollowerFetchLogic(2);
        assertThat(oneFromTwo.follow(one, 2)).isTrue();
        assertThat(oneFromTwo.follow(one, 2)).as("already copying at that epoch").isFalse();
        List<FollowerFetchLogic.FetchPosition> positions = oneFromTwo.fetchPositions();
        assertThat(positions).singleElement().satisfies(p -> {
            assertThat(p.fetchOffset()).isEqualTo(5);
            assertThat(p.lastFetchedEpoch()).as("its log's newest epoch").isEqualTo(1);
        });
        List<FollowerFetchLogic.Fetched> answers = fetch(two, positions);
        assertThat(answers).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(FollowerFetchLogic.Fetched.Outcome.DIVERGING);
            assertThat(a.divergingEpoch()).isEqualTo(1);
            assertThat(a.divergingEndOffset()).as("epoch 1 ends at 3 on the new leader").isEqualTo(3);
            assertThat(a.records()).as("nothing is copied past where the histories part").isNull();
        });
        oneFromTwo.onFetched(answers, NOW);
        assertThat(one.log().logEndOffset()).isEqualTo(3);
        oneFromTwo.onFetched(fetch(two, oneFromTwo.fetchPositions()), NOW);
        assertThat(values(one)).containsExactly("a", "b", "c", "f", "g").isEqualTo(values(two));
        assertThat(one.log().latestEpoch()).isEqualTo(2);
    }

    /** An empty log whose start is past the leader's end (nothing to compare epochs with) starts over at the leader's log start. */
    @Test
    void anEmptyLogStartingPastTheLeadersEndStartsOverAtTheLeadersStart() throws IOException {
        two.becomeLeader(1, 1, List.of(1, 2), List.of(2), NOW);
        append(two, "a", "b");
        two.log().updateHighWatermark(2);
        one.log().truncateFullyAndStartAt(10);
        one.becomeFollower(1, 1, 2, List.of(1, 2), List.of(2));
        FollowerFetchLogic logic = new FollowerFetchLogic(2);
        logic.follow(one, 1);
        round(logic, two);
        assertThat(one.log().logStartOffset()).isZero();
        round(logic, two);
        assertThat(values(one)).containsExactly("a", "b");
    }

    /**
     * A compacted copy cut inside its gap keeps its log start (0) below its end (20) with no
     * batch in between, so no epoch to send: a leader ending below 20 answered out of range, and
     * the follower, whose log did not look empty, fetched 20 again for good.
     */
    @Test
    void aFollowerLeftWithNoBatchByACutInsideAGapStartsOverAtTheLeadersStart() throws IOException {
        TopicPartition compacted = new TopicPartition("compacted", 0);
        LogConfig config = LogConfig.from(java.util.Map.of("cleanup.policy", "compact"));
        Partition follower = new Partition(compacted, logsOne.getOrCreate(compacted, config), 1, Partition.Role.FOLLOWER);
        Partition leader = new Partition(compacted, logsTwo.getOrCreate(compacted, config), 2, Partition.Role.FOLLOWER);
        ByteBuffer far = MemoryRecords.withRecords(40L, Compression.NONE, 1,
                new SimpleRecord(NOW, "k".getBytes(StandardCharsets.UTF_8), "far".getBytes(StandardCharsets.UTF_8))).buffer();
        assertThat(follower.log().appendAsFollower(far, NOW).ok()).isTrue();
        follower.log().truncateTo(20);
        assertThat(follower.log().logStartOffset()).isZero();
        assertThat(follower.log().logEndOffset()).isEqualTo(20);
        assertThat(follower.log().latestEpoch()).as("no batch left, so no epoch").isEqualTo(-1);
        leader.becomeLeader(2, 2, List.of(1, 2), List.of(2), NOW);
        assertThat(leader.appendAsLeader(MemoryRecords.withRecords(Compression.NONE,
                new SimpleRecord(NOW, "a".getBytes(StandardCharsets.UTF_8), "a".getBytes(StandardCharsets.UTF_8)),
                new SimpleRecord(NOW, "b".getBytes(StandardCharsets.UTF_8), "b".getBytes(StandardCharsets.UTF_8))).buffer(), NOW).ok()).isTrue();
        follower.becomeFollower(2, 2, 2, List.of(1, 2), List.of(2));
        FollowerFetchLogic logic = new FollowerFetchLogic(2);
        logic.follow(follower, 2);

        List<FollowerFetchLogic.Fetched> answers = fetch(leader, logic.fetchPositions());
        assertThat(answers).singleElement().extracting(FollowerFetchLogic.Fetched::outcome).isEqualTo(FollowerFetchLogic.Fetched.Outcome.OUT_OF_RANGE);
        logic.onFetched(answers, NOW);
        round(logic, leader);

        assertThat(follower.log().logEndOffset()).isEqualTo(2);
        assertThat(values(follower)).containsExactly("a", "b");
    }

    @Test
    void aFollowerWhoseLogEndsBelowTheLeadersLogStartStartsOverThere() throws IOException {
        two.becomeLeader(1, 1, List.of(1, 2), List.of(2), NOW);
        for (int i = 0; i < 10; i++) {
            append(two, "v" + i);
        }
        two.log().updateHighWatermark(10);
        two.log().advanceLogStartOffset(6);
        one.becomeFollower(1, 1, 2, List.of(1, 2), List.of(2));
        FollowerFetchLogic logic = new FollowerFetchLogic(2);
        logic.follow(one, 1);
        round(logic, two);
        assertThat(one.log().logStartOffset()).isEqualTo(6);
        round(logic, two);
        assertThat(values(one)).containsExactly("v6", "v7", "v8", "v9");
    }

    /**
     * Replica 1 led at epoch 1 and was cut off; replica 2 took over at epoch 2 and deleted
     * records past everything replica 1 holds, so it holds no epoch as old as replica 1's newest.
     * Replica 1 starts over at the new leader's log start; cutting back to its own log start first
     * moved its high watermark back (the replication simulation with DeleteRecords).
     */
    @Test
    void aFollowerWhoseEpochsTheLeaderDeletedStartsOverAtItsLogStartWithoutGoingBack() throws IOException {
        one.becomeLeader(1, 1, List.of(1, 2), List.of(1, 2), NOW);
        two.becomeFollower(1, 1, 1, List.of(1, 2), List.of(1, 2));
        FollowerFetchLogic twoFromOne = new FollowerFetchLogic(1);
        twoFromOne.follow(two, 1);
        append(one, "a", "b", "c");
        round(twoFromOne, one);
        one.log().updateHighWatermark(3);
        two.log().updateHighWatermark(3);

        two.becomeLeader(2, 2, List.of(1, 2), List.of(2), NOW);
        for (int i = 0; i < 7; i++) {
            append(two, "v" + i);
        }
        two.log().updateHighWatermark(10);
        two.log().deleteRecordsBefore(6);
        one.becomeFollower(2, 2, 2, List.of(1, 2), List.of(2));
        FollowerFetchLogic oneFromTwo = new FollowerFetchLogic(2);
        oneFromTwo.follow(one, 2);
        List<FollowerFetchLogic.Fetched> answers = fetch(two, oneFromTwo.fetchPositions());
        assertThat(answers).singleElement().satisfies(a -> assertThat(a.outcome())
                .as("no epoch as old as 1 here, and replica 1 ends below where the oldest begins: nothing to cut, its offset is gone")
                .isEqualTo(FollowerFetchLogic.Fetched.Outcome.OUT_OF_RANGE));
        oneFromTwo.onFetched(answers, NOW);
        assertThat(one.log().logStartOffset()).as("at the leader's log start at once").isEqualTo(6);
        assertThat(one.log().highWatermark()).as("never back below 3").isEqualTo(6);
        round(oneFromTwo, two);
        assertThat(values(one)).containsExactly("v3", "v4", "v5", "v6").isEqualTo(values(two));
    }

    /**
     * Replica 2 copied a compacted log whose first surviving batch, of epoch 3, is at offset 5,
     * and leads; replica 1 holds offsets 0-7 of epoch 1, committed up to 5. It keeps what lies
     * below where the leader's oldest epoch begins (compacted away there) with its high
     * watermark, drops the rest, and copies the leader's (the replication simulation with
     * compaction: it used to cut back to its own log start, its high watermark with it).
     */
    @Test
    void aFollowerOlderThanEveryEpochOfACompactedLeaderKeepsWhatLiesBelowItsOldestEpoch() throws IOException {
        one.becomeLeader(1, 1, List.of(1, 2), List.of(1), NOW);
        for (int i = 0; i < 8; i++) {
            append(one, "old" + i);
        }
        one.log().updateHighWatermark(5);
        replicaTwoLeadsACompactedCopyAtEpoch4();
        append(two, "new6");
        FollowerFetchLogic oneFromTwo = replicaOneFollowsTwoAtEpoch4();
        List<FollowerFetchLogic.Fetched> answers = fetch(two, oneFromTwo.fetchPositions());
        assertThat(answers).singleElement().satisfies(a -> {
            assertThat(a.outcome()).isEqualTo(FollowerFetchLogic.Fetched.Outcome.DIVERGING);
            assertThat(a.divergingEpoch()).isNegative();
            assertThat(a.divergingEndOffset()).as("where the leader's oldest epoch begins").isEqualTo(5);
        });
        oneFromTwo.onFetched(answers, NOW);
        assertThat(one.log().logEndOffset()).isEqualTo(5);
        assertThat(one.log().highWatermark()).as("never back").isEqualTo(5);
        round(oneFromTwo, two);
        assertThat(values(one)).containsExactly("old0", "old1", "old2", "old3", "old4", "new5", "new6");
    }

    /**
     * Where the leader's oldest epoch begins may fall inside one of the follower's batches: the
     * cut goes before that batch (cutting inside it threw, and the follower asked again forever).
     */
    @Test
    void aCutWhereTheLeadersOldestEpochBeginsInsideAFollowersBatchGoesBeforeThatBatch() throws IOException {
        one.becomeLeader(1, 1, List.of(1, 2), List.of(1), NOW);
        append(one, "old0", "old1", "old2", "old3", "old4", "old5", "old6", "old7"); // one batch, offsets 0-7
        replicaTwoLeadsACompactedCopyAtEpoch4();
        FollowerFetchLogic oneFromTwo = replicaOneFollowsTwoAtEpoch4();
        List<FollowerFetchLogic.Fetched> answers = fetch(two, oneFromTwo.fetchPositions());
        assertThat(answers).singleElement().satisfies(a -> assertThat(a.divergingEndOffset()).isEqualTo(5));
        assertThat(oneFromTwo.onFetched(answers, NOW)).as("no back-off: the cut was made").isFalse();
        assertThat(one.log().logEndOffset()).as("before the batch holding offset 5").isZero();
        round(oneFromTwo, two);
        assertThat(values(one)).containsExactly("new5").isEqualTo(values(two));
    }

    /** Replica 2 holds a copy of a compacted log whose first surviving batch, "new5" of epoch 3, is at offset 5, and leads at epoch 4. */
    private void replicaTwoLeadsACompactedCopyAtEpoch4() throws IOException {
        ByteBuffer copied = MemoryRecords.withRecords(5L, Compression.NONE, 3,
                new SimpleRecord(NOW, "k".getBytes(StandardCharsets.UTF_8), "new5".getBytes(StandardCharsets.UTF_8))).buffer();
        assertThat(two.log().appendAsFollower(copied, NOW).ok()).isTrue();
        two.becomeLeader(4, 4, List.of(1, 2), List.of(2), NOW);
    }

    private FollowerFetchLogic replicaOneFollowsTwoAtEpoch4() throws IOException {
        one.becomeFollower(4, 4, 2, List.of(1, 2), List.of(2));
        FollowerFetchLogic oneFromTwo = new FollowerFetchLogic(2);
        oneFromTwo.follow(one, 4);
        return oneFromTwo;
    }

    /** Replica 1 leads at epoch 1 with "a" and "b"; replica 2 follows it and has a fetch out, whose answer is returned. */
    private List<FollowerFetchLogic.Fetched> replicaTwoFetchesAAndBFromOneAtEpoch1(FollowerFetchLogic logic) throws IOException {
        one.becomeLeader(1, 1, List.of(1, 2), List.of(1, 2), NOW);
        append(one, "a", "b");
        two.becomeFollower(1, 1, 1, List.of(1, 2), List.of(1, 2));
        logic.follow(two, 1);
        return fetch(one, logic.fetchPositions());
    }

    @Test
    void aFetchForAnEpochThePartitionLeftIsDropped() throws IOException {
        FollowerFetchLogic logic = new FollowerFetchLogic(1);
        List<FollowerFetchLogic.Fetched> inFlight = replicaTwoFetchesAAndBFromOneAtEpoch1(logic);
        // Meanwhile the metadata moved replica 2 to epoch 2 (another leader): the old fetch's records are not its to append.
        two.becomeFollower(2, 2, 3, List.of(1, 2, 3), List.of(2, 3));
        logic.onFetched(inFlight, NOW);
        assertThat(two.log().logEndOffset()).isZero();
    }

    /**
     * The same leader node can lead a partition again at a later epoch, and its log may have
     * changed in between: an answer to a request sent under the earlier epoch is dropped, and the
     * new epoch's own fetches say where the histories part (a review found answers matched by
     * partition only).
     */
    @Test
    void answersToRequestsSentUnderAnEpochThePartitionLeftAreDropped() throws IOException {
        FollowerFetchLogic logic = new FollowerFetchLogic(1);
        List<FollowerFetchLogic.Fetched> inFlight = replicaTwoFetchesAAndBFromOneAtEpoch1(logic);
        // Replica 1 leads again at epoch 3 (the metadata moved on while the fetch was out).
        one.becomeLeader(3, 3, List.of(1, 2), List.of(1, 2), NOW);
        two.becomeFollower(3, 3, 1, List.of(1, 2), List.of(1, 2));
        logic.follow(two, 3);
        logic.onFetched(inFlight, NOW);
        assertThat(two.log().logEndOffset()).as("records fetched under epoch 1").isZero();
        round(logic, one);
        assertThat(values(two)).containsExactly("a", "b");
        // A diverging answer to a fetch of the old epoch is dropped the same way: it may not be the new epoch's history.
        two.becomeFollower(4, 4, 1, List.of(1, 2), List.of(1, 2));
        logic.follow(two, 4);
        logic.onFetched(List.of(FollowerFetchLogic.Fetched.diverging(TP, 3, 2, 0, null, 0, 0)), NOW);
        assertThat(values(two)).containsExactly("a", "b");
    }
}
