package io.spate.tests;

import io.spate.tests.support.Clients;
import io.spate.tests.support.RawKafkaClient;
import io.spate.tests.support.ReplicaBatches;
import io.spate.tests.support.SpateCluster;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Replicas that must copy a log which no longer starts at 0 or has holes: a follower that was
 * down while its leader compacted the topic or deleted old segments, and a new replica placed
 * by a partition move. Each must catch up, rejoin the in-sync set and hold what the leader holds.
 * Node processes, {@code kill -9} and restarts.
 */
class ReplicaCatchUpTest {
    private static final Duration CATCH_UP = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;

    private static SpateCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of(
                "log.cleaner.backoff.ms", "200",
                "log.retention.check.interval.ms", "200",
                "replica.lag.time.max.ms", "3000")).start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static final Map<String, String> COMPACTED = Map.of(
            "cleanup.policy", "compact", "segment.bytes", "8192", "min.cleanable.dirty.ratio", "0.01");
    private static final Map<String, String> SMALL_RETENTION = Map.of(
            "cleanup.policy", "delete", "segment.bytes", "4096", "retention.bytes", "16384");

    @Test
    void aFollowerThatWasDownWhileTheLeaderCompactedCrossesTheGapsAndRejoins() throws Exception {
        String topic = "compacted-" + UUID.randomUUID();
        createTopic(topic, 1, 3, COMPACTED);
        int leader = cluster.awaitLeader(topic, 0);
        int follower = otherReplica(topic, leader);
        write(topic, 0, 300, 5, "");
        long followerEnd = awaitReplicaEnd(follower, topic, endOf(leader, topic));

        cluster.kill9(follower);
        awaitIsrWithout(topic, follower);
        write(topic, 300, 20_000, 5, "");
        await("leader " + leader + " compacts away the offsets after " + followerEnd).atMost(CATCH_UP).pollInterval(Duration.ofMillis(200))
                .until(() -> ReplicaBatches.hasGapBetween(ReplicaBatches.read(cluster.dataDir(leader), topic, 0), followerEnd, followerEnd + 1));

        cluster.start(follower);
        awaitFullIsr(topic, 3);
        write(topic, 20_300, 10, 5, "after");
        await("every replica holds the same latest record per key").atMost(CATCH_UP).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            List<ReplicaBatches.Batch> leaderLog = ReplicaBatches.read(cluster.dataDir(leader), topic, 0);
            long end = ReplicaBatches.endOffset(leaderLog);
            var expected = ReplicaBatches.latestByKey(leaderLog, end);
            assertThat(expected).hasSize(5);
            for (int id : cluster.ids()) {
                List<ReplicaBatches.Batch> replica = ReplicaBatches.read(cluster.dataDir(id), topic, 0);
                assertThat(ReplicaBatches.endOffset(replica)).as("log end of node %d", id).isEqualTo(end);
                assertThat(ReplicaBatches.latestByKey(replica, end)).as("latest per key on node %d", id).isEqualTo(expected);
            }
        });
        assertThat(ReplicaBatches.hasGapBetween(ReplicaBatches.read(cluster.dataDir(follower), topic, 0), followerEnd, followerEnd + 1))
                .as("node %d copied the leader's compacted batches, gap included", follower).isTrue();
    }

    @Test
    void aFollowerWhoseLogEndsBelowTheLeadersLogStartStartsOverThereAndRejoins() throws Exception {
        String topic = "retained-" + UUID.randomUUID();
        createTopic(topic, 1, 3, SMALL_RETENTION);
        int leader = cluster.awaitLeader(topic, 0);
        int follower = otherReplica(topic, leader);
        write(topic, 0, 100, 0, "");
        long followerEnd = awaitReplicaEnd(follower, topic, endOf(leader, topic));

        cluster.kill9(follower);
        awaitIsrWithout(topic, follower);
        write(topic, 100, 3_000, 0, "x".repeat(100));
        await("leader " + leader + " deletes the segments past where node " + follower + " stopped").atMost(CATCH_UP)
                .until(() -> earliest(topic) > followerEnd);

        cluster.start(follower);
        awaitFullIsr(topic, 3);
        write(topic, 3_100, 10, 0, "after");
        await("the replicas hold the same batches").atMost(CATCH_UP).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            Map<Integer, List<ReplicaBatches.Batch>> logs = new HashMap<>();
            long start = 0;
            for (int id : cluster.ids()) {
                logs.put(id, ReplicaBatches.read(cluster.dataDir(id), topic, 0));
                assertThat(logs.get(id)).as("log of node %d", id).isNotEmpty();
                start = Math.max(start, logs.get(id).getFirst().baseOffset());
            }
            List<ReplicaBatches.Batch> expected = ReplicaBatches.from(logs.get(leader), start);
            for (int id : cluster.ids()) {
                assertThat(ReplicaBatches.from(logs.get(id), start)).as("batches of node %d from %d", id, start).isEqualTo(expected);
            }
        });
        assertThat(ReplicaBatches.read(cluster.dataDir(follower), topic, 0).getFirst().baseOffset())
                .as("node %d started over at the leader's log start", follower).isGreaterThan(followerEnd);
    }

    @Test
    void aFollowerThatStartsOverInsideABatchAfterDeleteRecordsCatchesUp() throws Exception {
        String topic = "deleted-inside-" + UUID.randomUUID();
        createTopic(topic, 1, 3, Map.of());
        int leader = cluster.awaitLeader(topic, 0);
        int follower = otherReplica(topic, leader);
        cluster.kill9(follower);
        awaitIsrWithout(topic, follower);
        write(topic, 0, 2_000, 0, "");
        // DeleteRecords (as Kafka Streams purges its repartition topics) to an offset inside a batch.
        ReplicaBatches.Batch batch = ReplicaBatches.read(cluster.dataDir(leader), topic, 0).stream()
                .filter(b -> b.lastOffset() > b.baseOffset()).findFirst().orElseThrow();
        long inside = batch.baseOffset() + 1;
        TopicPartition tp = new TopicPartition(topic, 0);
        assertThat(cluster.admin().deleteRecords(Map.of(tp, org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(inside)))
                .lowWatermarks().get(tp).get().lowWatermark()).isEqualTo(inside);

        // Its log ends below the leader's log start: it starts over there, and the leader's first
        // batch for it begins below that. Before the fix it refused that batch forever.
        cluster.start(follower);
        awaitFullIsr(topic, 3);
        assertThat(endOf(follower, topic)).isEqualTo(endOf(leader, topic));
    }

    @Test
    void partitionMovesCompleteForCompactedTopicsAndLogsThatNoLongerStartAtZero() throws Exception {
        String compacted = "moved-compacted-" + UUID.randomUUID();
        String retained = "moved-retained-" + UUID.randomUUID();
        createTopic(compacted, 1, 2, COMPACTED);
        createTopic(retained, 1, 2, SMALL_RETENTION);
        write(compacted, 0, 20_000, 5, "");
        write(retained, 0, 3_000, 0, "x".repeat(100));
        int compactedLeader = cluster.awaitLeader(compacted, 0);
        await("offset 0 of " + compacted + " is compacted away").atMost(CATCH_UP).pollInterval(Duration.ofMillis(200))
                .until(() -> ReplicaBatches.hasGapBetween(ReplicaBatches.read(cluster.dataDir(compactedLeader), compacted, 0), 0, 1));
        await("the log of " + retained + " starts above 0").atMost(CATCH_UP).until(() -> earliest(retained) > 0);

        Map<String, List<Integer>> targets = new HashMap<>();
        Map<TopicPartition, Optional<NewPartitionReassignment>> moves = new HashMap<>();
        for (String topic : List.of(compacted, retained)) {
            TopicPartitionInfo info = cluster.partitionInfo(topic, 0);
            List<Integer> replicas = info.replicas().stream().map(Node::id).toList();
            int added = cluster.ids().stream().filter(id -> !replicas.contains(id)).findFirst().orElseThrow();
            List<Integer> target = new ArrayList<>(List.of(info.leader().id(), added));
            targets.put(topic, target);
            moves.put(new TopicPartition(topic, 0), Optional.of(new NewPartitionReassignment(target)));
        }
        SpateCluster.log("moving " + targets);
        try {
            cluster.admin().alterPartitionReassignments(moves).all().get();
        } catch (java.util.concurrent.ExecutionException e) {
            // Under load the answer may come after the controller committed the move; what counts is below.
            assertThat(e.getCause()).isInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
            SpateCluster.log("the move request timed out (" + e.getCause().getMessage() + "); awaiting the moves anyway");
        }
        await("the moves complete").atMost(CATCH_UP).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).as("moves still running").isEmpty();
            for (String topic : targets.keySet()) {
                TopicPartitionInfo info = cluster.partitionInfo(topic, 0);
                assertThat(info.replicas().stream().map(Node::id).toList()).containsExactlyElementsOf(targets.get(topic));
                assertThat(info.isr().stream().map(Node::id).toList()).containsExactlyInAnyOrderElementsOf(targets.get(topic));
            }
        });
        int newCompacted = targets.get(compacted).get(1);
        await("the new replica of " + compacted + " holds the latest record per key").atMost(CATCH_UP).untilAsserted(() -> {
            List<ReplicaBatches.Batch> leaderLog = ReplicaBatches.read(cluster.dataDir(compactedLeader), compacted, 0);
            long end = ReplicaBatches.endOffset(leaderLog);
            List<ReplicaBatches.Batch> moved = ReplicaBatches.read(cluster.dataDir(newCompacted), compacted, 0);
            assertThat(ReplicaBatches.endOffset(moved)).isEqualTo(end);
            assertThat(ReplicaBatches.latestByKey(moved, end)).isEqualTo(ReplicaBatches.latestByKey(leaderLog, end)).hasSize(5);
        });
        int retainedLeader = targets.get(retained).get(0);
        int newRetained = targets.get(retained).get(1);
        await("the new replica of " + retained + " holds the leader's batches").atMost(CATCH_UP).untilAsserted(() -> {
            List<ReplicaBatches.Batch> leaderLog = ReplicaBatches.read(cluster.dataDir(retainedLeader), retained, 0);
            List<ReplicaBatches.Batch> moved = ReplicaBatches.read(cluster.dataDir(newRetained), retained, 0);
            assertThat(moved).isNotEmpty();
            long start = Math.max(leaderLog.getFirst().baseOffset(), moved.getFirst().baseOffset());
            assertThat(moved.getFirst().baseOffset()).as("the new replica starts at the leader's log start, not 0").isPositive();
            assertThat(ReplicaBatches.from(moved, start)).isEqualTo(ReplicaBatches.from(leaderLog, start));
        });
    }

    @Test
    void theOffsetsTopicWaitsForAsManyLiveNodesAsItsReplicationFactor() throws Exception {
        String offsets = "__consumer_offsets";
        assertThat(cluster.admin().listTopics(new ListTopicsOptions().listInternal(true)).names().get()).doesNotContain(offsets);
        int down = 3;
        cluster.kill9(down);
        // Every node up must know it: a node whose image still counts it live would create the
        // offsets topic with a replica there (a CI run: the killed node held the controller, and
        // the check above and the coordinator request met nodes whose images differed for a moment).
        for (int id : cluster.ids()) {
            if (id != down) {
                await("node " + id + " sees node " + down + " fenced").atMost(CATCH_UP).ignoreExceptions()
                        .until(() -> liveNodesSeenBy(id).stream().noneMatch(n -> n.id() == down));
            }
        }

        // The first group arrives while only two of three nodes are up: no coordinator yet, and no
        // offsets topic with two replicas that would stay with two for good.
        assertThatThrownBy(() -> cluster.admin().describeConsumerGroups(List.of("early-group"),
                new DescribeConsumerGroupsOptions().timeoutMs(3_000)).all().get())
                .hasCauseInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
        assertThat(cluster.admin().listTopics(new ListTopicsOptions().listInternal(true)).names().get()).doesNotContain(offsets);

        cluster.start(down);
        await("the group gets a coordinator once every node is up").atMost(CATCH_UP).ignoreExceptions().untilAsserted(() ->
                assertThat(cluster.admin().listConsumerGroupOffsets("early-group").partitionsToOffsetAndMetadata().get()).isEmpty());
        var description = cluster.admin().describeTopics(List.of(offsets)).allTopicNames().get().get(offsets);
        assertThat(description.partitions()).isNotEmpty().allSatisfy(p -> assertThat(p.replicas()).hasSize(3));
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** The brokers node {@code id} itself lists in a Metadata answer (an admin client may ask any node). */
    private static java.util.Collection<Node> liveNodesSeenBy(int id) throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(cluster.bootstrap(id))) {
            org.apache.kafka.common.requests.MetadataResponse response = client.send(new org.apache.kafka.common.requests.MetadataRequest.Builder(
                    new org.apache.kafka.common.message.MetadataRequestData().setTopics(List.of()).setAllowAutoTopicCreation(false)).build((short) 12));
            return response.brokers();
        }
    }

    /**
     * Creates a topic (a fresh name) and waits for its whole in-sync set. On a loaded machine the
     * admin client may resend CreateTopics after its 2 s request timeout although the first one
     * was committed: TOPIC_ALREADY_EXISTS then means created.
     */
    private static void createTopic(String topic, int partitions, int rf, Map<String, String> configs) throws Exception {
        try {
            cluster.createTopic(topic, partitions, rf, configs);
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                throw e;
            }
            SpateCluster.log(topic + ": CreateTopics was resent and found its own topic");
            cluster.awaitFullIsr(topic, partitions, rf);
        }
    }

    /** Writes {@code count} records numbered from {@code first}, keyed over {@code keys} keys (0: unkeyed), acks=all. */
    private static void write(String topic, int first, int count, int keys, String padding) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of(
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 5))) {
            List<Future<?>> sent = new ArrayList<>();
            for (int i = first; i < first + count; i++) {
                String key = keys == 0 ? null : "key-" + (i % keys);
                sent.add(producer.send(new ProducerRecord<>(topic, 0, key, "value-" + i + padding)));
            }
            for (Future<?> f : sent) {
                f.get();
            }
        }
    }

    private static int otherReplica(String topic, int leader) throws Exception {
        return cluster.partitionInfo(topic, 0).replicas().stream().map(Node::id).filter(id -> id != leader).findFirst().orElseThrow();
    }

    private static long endOf(int node, String topic) throws Exception {
        return ReplicaBatches.endOffset(ReplicaBatches.read(cluster.dataDir(node), topic, 0));
    }

    /** Waits until {@code node}'s copy reaches {@code end}; returns its end offset. */
    private static long awaitReplicaEnd(int node, String topic, long end) {
        await("node " + node + " holds " + topic + " up to " + end).atMost(CATCH_UP).pollInterval(Duration.ofMillis(100))
                .until(() -> endOf(node, topic) >= end);
        return end;
    }

    private static long earliest(String topic) throws Exception {
        TopicPartition tp = new TopicPartition(topic, 0);
        return cluster.admin().listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get().offset();
    }

    private static void awaitIsrWithout(String topic, int node) {
        await("node " + node + " leaves the in-sync set of " + topic).atMost(CATCH_UP).ignoreExceptions().pollInterval(Duration.ofMillis(200))
                .until(() -> cluster.partitionInfo(topic, 0).isr().stream().noneMatch(n -> n.id() == node));
    }

    private static void awaitFullIsr(String topic, int rf) {
        try {
            cluster.awaitFullIsr(topic, 1, rf);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("the in-sync set of " + topic + " never became whole again: " + cluster.describeForHumans(topic), e);
        }
    }
}
