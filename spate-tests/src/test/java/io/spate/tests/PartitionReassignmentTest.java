package io.spate.tests;

import io.spate.tests.support.AckVerifier;
import io.spate.tests.support.ReplicaFiles;
import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.SteadyProducer;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.NoReassignmentInProgressException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Adding a server and moving partitions to it, as an operator does with
 * {@code kafka-reassign-partitions.sh}: node processes, Admin#alterPartitionReassignments, and a
 * steady acks=all producer whose every acknowledged record must survive the move.
 */
class PartitionReassignmentTest {
    private static final int PARTITIONS = 2;

    @TempDir
    static Path tmp;

    private static SpateCluster cluster;
    /** Each node's HTTP port (its /metrics and admin API). */
    private static final Map<Integer, Integer> HTTP_PORTS = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeAll
    static void startCluster() throws Exception {
        // Moves here are the operator's: the node added empty is not filled on its own.
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("partition.autobalancing.mode", "off"),
                id -> Map.of("http.port", String.valueOf(HTTP_PORTS.computeIfAbsent(id, n -> freePort())))).start();
    }

    private static int freePort() {
        try {
            return io.spate.tests.support.SpateProcess.freePort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String httpGet(int node, String path) throws Exception {
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + HTTP_PORTS.get(node) + path)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void partitionsMoveToAnAddedNodeWhileAProducerWritesAndNoAcknowledgedRecordIsLost() throws Exception {
        String topic = "moving-" + UUID.randomUUID();
        cluster.createTopic(topic, PARTITIONS, 3, Map.of("min.insync.replicas", "2"));
        cluster.awaitFullIsr(topic, PARTITIONS, 3);
        int added;
        List<SteadyProducer.Ack> acks;
        Map<Integer, List<Integer>> targets = new HashMap<>();
        Map<Integer, Integer> dropped = new HashMap<>();
        try (SteadyProducer producer = new SteadyProducer(cluster.bootstrap(), topic, PARTITIONS, 500, Map.of()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= 500);
            added = cluster.addNode();

            // Each partition's leader makes way for the new node: the hardest move, a leader change at the end.
            Map<TopicPartition, Optional<NewPartitionReassignment>> moves = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartitionInfo info = cluster.partitionInfo(topic, p);
                int leader = info.leader().id();
                List<Integer> target = new ArrayList<>(List.of(added));
                info.replicas().stream().map(Node::id).filter(id -> id != leader).forEach(target::add);
                targets.put(p, target);
                dropped.put(p, leader);
                moves.put(new TopicPartition(topic, p), Optional.of(new NewPartitionReassignment(target)));
            }
            SpateCluster.log("moving " + topic + ": " + targets + " (dropping " + dropped + ")");
            cluster.admin().alterPartitionReassignments(moves).all().get();

            await("the moves complete").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                Map<TopicPartition, PartitionReassignment> running = cluster.admin().listPartitionReassignments().reassignments().get();
                assertThat(running).as("reassignments still running").isEmpty();
                for (int p = 0; p < PARTITIONS; p++) {
                    TopicPartitionInfo info = cluster.partitionInfo(topic, p);
                    assertThat(info.replicas().stream().map(Node::id).toList()).containsExactlyElementsOf(targets.get(p));
                    assertThat(info.isr().stream().map(Node::id).toList()).containsExactlyInAnyOrderElementsOf(targets.get(p));
                    assertThat(info.leader().id()).isEqualTo(added);
                }
            });
            long afterMove = producer.sent();
            await("acks after the move").atMost(Duration.ofSeconds(30)).until(() -> producer.ackedOnEveryPartitionFrom(afterMove));
            producer.stop();
            assertThat(producer.failures()).as(producer.failureSummary()).isEmpty();
            acks = producer.acks();
        }

        AckVerifier.Read read = AckVerifier.verify(cluster.bootstrap(), topic, PARTITIONS, acks);
        ReplicaFiles.assertReplicasAgree(cluster, topic, read.endOffsets(), targets::get);
        for (int p = 0; p < PARTITIONS; p++) {
            Path oldReplica = cluster.dataDir(dropped.get(p)).resolve(topic + "-" + p);
            await("node " + dropped.get(p) + " deletes its replica of partition " + p).atMost(Duration.ofSeconds(30))
                    .until(() -> !Files.exists(oldReplica));
            assertThat(cluster.dataDir(added).resolve(topic + "-" + p)).isDirectory();
        }
        // What kafka-log-dirs.sh and kafka-reassign-partitions.sh read: the added node now holds the moved replicas.
        var dirs = cluster.admin().describeLogDirs(List.of(added)).allDescriptions().get().get(added);
        assertThat(dirs).hasSize(1);
        var replicaInfos = dirs.values().iterator().next().replicaInfos();
        for (int p = 0; p < PARTITIONS; p++) {
            TopicPartition tp = new TopicPartition(topic, p);
            assertThat(replicaInfos).containsKey(tp);
            assertThat(replicaInfos.get(tp).size()).as("bytes of %s on node %d", tp, added)
                    .isEqualTo(ReplicaFiles.read(cluster.dataDir(added), topic, p).length).isPositive();
        }
    }

    @Test
    void cancellingWithNothingRunningOrMovingToAnUnknownNodeIsRefused() throws Exception {
        String topic = "still-" + UUID.randomUUID();
        cluster.createTopic(topic, 1, 2, Map.of());
        TopicPartition tp = new TopicPartition(topic, 0);
        assertThatThrownBy(() -> cluster.admin().alterPartitionReassignments(Map.of(tp, Optional.empty())).all().get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(NoReassignmentInProgressException.class);
        assertThatThrownBy(() -> cluster.admin().alterPartitionReassignments(
                Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(1, 42))))).all().get())
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("42");
        assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).isEmpty();

        // Clearing throttles that were never set succeeds (kafka-reassign-partitions.sh --verify does it after every
        // move); broker settings other than the throttles are static, and a throttle is a number.
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
        cluster.admin().incrementalAlterConfigs(Map.of(broker, List.of(
                new AlterConfigOp(new ConfigEntry("leader.replication.throttled.rate", ""), AlterConfigOp.OpType.DELETE)))).all().get();
        assertThatThrownBy(() -> cluster.admin().incrementalAlterConfigs(Map.of(broker, List.of(
                new AlterConfigOp(new ConfigEntry("num.io.threads", "4"), AlterConfigOp.OpType.SET)))).all().get())
                .hasCauseInstanceOf(InvalidConfigurationException.class).hasMessageContaining("cannot be changed at run time");
        assertThatThrownBy(() -> cluster.admin().incrementalAlterConfigs(Map.of(broker, List.of(
                new AlterConfigOp(new ConfigEntry("leader.replication.throttled.rate", "fast"), AlterConfigOp.OpType.SET)))).all().get())
                .hasCauseInstanceOf(InvalidConfigurationException.class).hasMessageContaining("bytes per second");
        assertThatThrownBy(() -> cluster.admin().incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, topic), List.of(
                new AlterConfigOp(new ConfigEntry("follower.replication.throttled.replicas", "0-3"), AlterConfigOp.OpType.SET)))).all().get())
                .hasCauseInstanceOf(InvalidConfigurationException.class).hasMessageContaining("partition:node");
    }

    /**
     * kafka-reassign-partitions.sh --throttle, through the same Admin calls: the nodes' replication
     * rates and the topic's throttled replicas set, a move that copies at that rate while in-sync
     * replication goes on, and, once --verify clears the throttles, the copy finishes at full speed.
     */
    @Test
    void aThrottledMoveCopiesNoFasterThanTheThrottleAndFinishesOnceItIsCleared() throws Exception {
        String topic = "throttled-" + UUID.randomUUID();
        cluster.createTopic(new org.apache.kafka.clients.admin.NewTopic(topic, Map.of(0, List.of(1, 2))), 1, 2);
        TopicPartition tp = new TopicPartition(topic, 0);
        cluster.awaitLeader(topic, 0);
        fillWithKilobyteRecords(topic, 6_000);
        long total = Files.size(segmentOf(1, topic));
        assertThat(total).as("the leader's log").isGreaterThan(6_000_000);

        long rate = 256 * 1024;
        Map<ConfigResource, java.util.Collection<AlterConfigOp>> throttles = new HashMap<>();
        for (int node : List.of(1, 2, 3)) {
            throttles.put(new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(node)), List.of(
                    new AlterConfigOp(new ConfigEntry("leader.replication.throttled.rate", String.valueOf(rate)), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("follower.replication.throttled.rate", String.valueOf(rate)), AlterConfigOp.OpType.SET)));
        }
        throttles.put(new ConfigResource(ConfigResource.Type.TOPIC, topic), List.of(
                new AlterConfigOp(new ConfigEntry("leader.replication.throttled.replicas", "0:1,0:2"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("follower.replication.throttled.replicas", "0:3"), AlterConfigOp.OpType.SET)));
        cluster.admin().incrementalAlterConfigs(throttles).all().get();
        ConfigResource node1 = new ConfigResource(ConfigResource.Type.BROKER, "1");
        await("node 1 describes its throttle").atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(cluster.admin().describeConfigs(List.of(node1)).all().get().get(node1).get("leader.replication.throttled.rate"))
                        .isNotNull().extracting(ConfigEntry::value, ConfigEntry::source)
                        .containsExactly(String.valueOf(rate), ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG));

        long started = System.nanoTime();
        cluster.admin().alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(1, 2, 3))))).all().get();
        assertNodeThreeCopiesWithin(topic, rate, started, total);
        assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).containsKey(tp);

        // What --verify does once the move is done (here, to let it finish): every throttle deleted.
        Map<ConfigResource, java.util.Collection<AlterConfigOp>> clear = new HashMap<>();
        for (int node : List.of(1, 2, 3)) {
            clear.put(new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(node)), List.of(
                    new AlterConfigOp(new ConfigEntry("leader.replication.throttled.rate", ""), AlterConfigOp.OpType.DELETE),
                    new AlterConfigOp(new ConfigEntry("follower.replication.throttled.rate", ""), AlterConfigOp.OpType.DELETE),
                    new AlterConfigOp(new ConfigEntry("replica.alter.log.dirs.io.max.bytes.per.second", ""), AlterConfigOp.OpType.DELETE)));
        }
        clear.put(new ConfigResource(ConfigResource.Type.TOPIC, topic), List.of(
                new AlterConfigOp(new ConfigEntry("leader.replication.throttled.replicas", ""), AlterConfigOp.OpType.DELETE),
                new AlterConfigOp(new ConfigEntry("follower.replication.throttled.replicas", ""), AlterConfigOp.OpType.DELETE)));
        cluster.admin().incrementalAlterConfigs(clear).all().get();
        await("the move finishes").atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).doesNotContainKey(tp));
        assertThat(cluster.admin().describeConfigs(List.of(node1)).all().get().get(node1).get("leader.replication.throttled.rate")).isNull();
        ReplicaFiles.assertReplicasAgree(cluster, topic, Map.of(0, 6_000L), partition -> List.of(1, 2, 3));

        // kafka-configs.sh --entity-default: a rate for every node, which a node reports as the default it follows.
        ConfigResource everyNode = new ConfigResource(ConfigResource.Type.BROKER, "");
        ConfigResource node2 = new ConfigResource(ConfigResource.Type.BROKER, "2");
        cluster.admin().incrementalAlterConfigs(Map.of(everyNode, List.of(
                new AlterConfigOp(new ConfigEntry("follower.replication.throttled.rate", "5000"), AlterConfigOp.OpType.SET)))).all().get();
        await("node 2 follows every node's rate").atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(cluster.admin().describeConfigs(List.of(node2)).all().get().get(node2).get("follower.replication.throttled.rate"))
                        .isNotNull().extracting(ConfigEntry::value, ConfigEntry::source)
                        .containsExactly("5000", ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG));
        cluster.admin().incrementalAlterConfigs(Map.of(everyNode, List.of(
                new AlterConfigOp(new ConfigEntry("follower.replication.throttled.rate", ""), AlterConfigOp.OpType.DELETE)))).all().get();
    }

    /**
     * A move nobody throttled (the controller's own, or a reassignment without --throttle) is still
     * bounded by the copying node's move.replication.throttled.rate: no per-topic list needed.
     */
    @Test
    void aMoveCopiesNoFasterThanTheNodesMoveRate() throws Exception {
        String topic = "move-rate-" + UUID.randomUUID();
        cluster.createTopic(new org.apache.kafka.clients.admin.NewTopic(topic, Map.of(0, List.of(1, 2))), 1, 2);
        TopicPartition tp = new TopicPartition(topic, 0);
        cluster.awaitLeader(topic, 0);
        fillWithKilobyteRecords(topic, 4_000);
        long total = Files.size(segmentOf(1, topic));
        ConfigResource node3 = new ConfigResource(ConfigResource.Type.BROKER, "3");
        assertThat(cluster.admin().describeConfigs(List.of(node3)).all().get().get(node3).get("move.replication.throttled.rate"))
                .as("the default, described").isNotNull().extracting(ConfigEntry::value, ConfigEntry::source)
                .containsExactly(String.valueOf(100L * 1024 * 1024), ConfigEntry.ConfigSource.DEFAULT_CONFIG);

        long rate = 256 * 1024;
        cluster.admin().incrementalAlterConfigs(Map.of(node3, List.of(
                new AlterConfigOp(new ConfigEntry("move.replication.throttled.rate", String.valueOf(rate)), AlterConfigOp.OpType.SET)))).all().get();
        await("node 3 describes its move rate").atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(cluster.admin().describeConfigs(List.of(node3)).all().get().get(node3).get("move.replication.throttled.rate"))
                        .isNotNull().extracting(ConfigEntry::value, ConfigEntry::source)
                        .containsExactly(String.valueOf(rate), ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG));

        long started = System.nanoTime();
        cluster.admin().alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(1, 2, 3))))).all().get();
        assertNodeThreeCopiesWithin(topic, rate, started, total);
        assertAMoveIsNotUnderReplication(topic, cluster.awaitLeader(topic, 0));

        // Back to the default (100 MiB/s): the rest is copied at once and the move completes.
        cluster.admin().incrementalAlterConfigs(Map.of(node3, List.of(
                new AlterConfigOp(new ConfigEntry("move.replication.throttled.rate", ""), AlterConfigOp.OpType.DELETE)))).all().get();
        await("the move finishes").atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).doesNotContainKey(tp));
        ReplicaFiles.assertReplicasAgree(cluster, topic, Map.of(0, 4_000L), partition -> List.of(1, 2, 3));
    }

    /**
     * As in Kafka, the replica a running move adds does not count against the partition's in-sync
     * set until it has caught up: partition 0 of {@code topic}, replicas [1, 2, 3] with 3 still
     * copying and in sync [1, 2], is not under-replicated in the metrics or the admin API.
     */
    private static void assertAMoveIsNotUnderReplication(String topic, int leader) throws Exception {
        TopicPartitionInfo moving = cluster.partitionInfo(topic, 0);
        assertThat(moving.replicas().stream().map(Node::id).toList()).containsExactlyInAnyOrder(1, 2, 3);
        assertThat(moving.isr().stream().map(Node::id).toList()).as("node 3 is still copying").doesNotContain(3);
        await("no under-replicated partition on the leader").atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(httpGet(leader, "/metrics").lines().filter(l -> l.startsWith("spate_partitions_under_replicated ")).toList())
                        .singleElement().satisfies(l -> assertThat(Double.parseDouble(l.split(" ")[1])).isZero()));
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var listed = json.readTree(httpGet(leader, "/admin/topics"));
        assertThat(listed.findValues("name").stream().map(n -> n.asText()).toList()).contains(topic);
        for (var t : listed) {
            if (t.get("name").asText().equals(topic)) {
                assertThat(t.get("under_replicated").asInt()).isZero();
            }
        }
        var partition = json.readTree(httpGet(leader, "/admin/topics/" + topic)).get("partitions").get(0);
        assertThat(partition.get("adding_replicas").toString()).isEqualTo("[3]");
        assertThat(partition.get("under_replicated").asBoolean()).isFalse();
    }

    /** Writes {@code count} records of about 1 KiB to partition 0 of {@code topic}, acks=all. */
    private static void fillWithKilobyteRecords(String topic, int count) {
        byte[] value = new byte[1024];
        try (var producer = io.spate.tests.support.Clients.producer(cluster.bootstrap(), Map.of(
                org.apache.kafka.clients.producer.ProducerConfig.ACKS_CONFIG, "all"))) {
            for (int i = 0; i < count; i++) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, 0, "k" + i, new String(value).replace('\0', (char) ('a' + i % 26))));
            }
            producer.flush();
        }
    }

    /**
     * Node 3's copy of partition 0, once it starts, stays within {@code rate} for 2 s, whatever the
     * machine's speed: one second's burst, the rate since the move began ({@code startedNanos}),
     * and the one fetch that goes out before the quota is over; and it is not done yet.
     */
    private static void assertNodeThreeCopiesWithin(String topic, long rate, long startedNanos, long total) throws java.io.IOException {
        Path copy = cluster.dataDir(3).resolve(topic + "-0");
        await("node 3 starts copying").atMost(Duration.ofSeconds(30)).until(() -> Files.isDirectory(copy) && copiedBytes(copy) > 0);
        await("the copy stays within the rate for 2 s").during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                    long copied = copiedBytes(copy);
                    double elapsedS = (System.nanoTime() - startedNanos) / 1e9;
                    long bound = (long) (rate * (elapsedS + 1)) + 1024 * 1024;
                    assertThat(copied).as("bytes copied %.1f s into a move at %d B/s (of %d)", elapsedS, rate, total).isLessThanOrEqualTo(bound);
                });
        assertThat(copiedBytes(copy)).as("not done yet").isLessThan(total);
    }

    private static Path segmentOf(int node, String topic) {
        return cluster.dataDir(node).resolve(topic + "-0").resolve("00000000000000000000.log");
    }

    private static long copiedBytes(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            long sum = 0;
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
                sum += Files.size(f);
            }
            return sum;
        }
    }
}
