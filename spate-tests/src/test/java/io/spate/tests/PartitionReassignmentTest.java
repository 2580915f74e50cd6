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

    @BeforeAll
    static void startCluster() throws Exception {
        // Moves here are the operator's: the node added empty is not filled on its own.
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("partition.autobalancing.mode", "off")).start();
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

        // kafka-reassign-partitions.sh --verify clears replication throttles; Spate sets none, so that succeeds,
        // while setting one is refused (moves are not throttled).
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
        cluster.admin().incrementalAlterConfigs(Map.of(broker, List.of(
                new AlterConfigOp(new ConfigEntry("leader.replication.throttled.rate", ""), AlterConfigOp.OpType.DELETE)))).all().get();
        assertThatThrownBy(() -> cluster.admin().incrementalAlterConfigs(Map.of(broker, List.of(
                new AlterConfigOp(new ConfigEntry("leader.replication.throttled.rate", "1000"), AlterConfigOp.OpType.SET)))).all().get())
                .hasCauseInstanceOf(InvalidRequestException.class);
    }
}
