package io.spate.tests;

import io.spate.tests.support.AckVerifier;
import io.spate.tests.support.ReplicaFiles;
import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.SteadyProducer;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Continuous autobalancing (partition.autobalancing.mode=continuous, as Redpanda's): node
 * processes, a node killed with {@code kill -9} loses its replicas to the live nodes once it has
 * been unavailable for the timeout, so every partition is back to its full replication factor
 * without an operator, under an acks=all producer whose every acknowledged record must survive;
 * when the node returns, it deletes the logs of the replicas moved away meanwhile and, empty, is
 * given its share again.
 */
class NodeUnavailableBalancingTest {
    private static final String TOPIC = "orders";
    private static final int PARTITIONS = 8;

    @TempDir
    static Path tmp;

    private static SpateCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("partition.autobalancing.mode", "continuous",
                "partition.autobalancing.node.availability.timeout.sec", "3", "offsets.topic.num.partitions", "3")).start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Map<Integer, List<Integer>> replicas(TopicDescription topic) {
        Map<Integer, List<Integer>> replicas = new HashMap<>();
        for (TopicPartitionInfo p : topic.partitions()) {
            replicas.put(p.partition(), p.replicas().stream().map(Node::id).toList());
        }
        return replicas;
    }

    @Test
    void aNodeDeadPastTheTimeoutLosesItsReplicasToTheLiveNodesAndGetsItsShareBackWhenItReturns() throws Exception {
        int lost = cluster.addNode();
        cluster.createTopic(TOPIC, PARTITIONS, 3, Map.of("min.insync.replicas", "2"));
        cluster.awaitFullIsr(TOPIC, PARTITIONS, 3);
        long onLost = replicas(cluster.describe(TOPIC)).values().stream().filter(r -> r.contains(lost)).count();
        assertThat(onLost).as("8 x 3 replicas over 4 nodes").isPositive();

        List<SteadyProducer.Ack> acks;
        try (SteadyProducer producer = new SteadyProducer(cluster.bootstrap(), TOPIC, PARTITIONS, 300, Map.of()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= 300);
            cluster.kill9(lost);
            cluster.mark("node " + lost + " killed: its replicas should move to the live nodes after 3 s");
            await("every partition back to 3 replicas, none on the dead node").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
                        assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).as("moves still running").isEmpty();
                        TopicDescription topic = cluster.describe(TOPIC);
                        for (TopicPartitionInfo p : topic.partitions()) {
                            assertThat(p.replicas()).extracting(Node::id).as("partition %d", p.partition())
                                    .hasSize(3).doesNotContain(lost).doesNotHaveDuplicates();
                            assertThat(p.isr()).as("partition %d in sync", p.partition()).containsExactlyInAnyOrderElementsOf(p.replicas());
                        }
                    });
            long afterMoves = producer.sent();
            await("acks after the moves").atMost(Duration.ofSeconds(30)).until(() -> producer.ackedOnEveryPartitionFrom(afterMoves));

            cluster.start(lost);
            cluster.mark("node " + lost + " back, empty: it should be given its share again");
            await("the returned node's share").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .untilAsserted(() -> {
                        assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).isEmpty();
                        TopicDescription topic = cluster.describe(TOPIC);
                        long held = replicas(topic).values().stream().filter(r -> r.contains(lost)).count();
                        assertThat(held).as("replicas of %s on node %d", TOPIC, lost).isPositive();
                        for (TopicPartitionInfo p : topic.partitions()) {
                            assertThat(p.isr()).containsExactlyInAnyOrderElementsOf(p.replicas());
                        }
                    });
            long afterReturn = producer.sent();
            await("acks after the return").atMost(Duration.ofSeconds(30)).until(() -> producer.ackedOnEveryPartitionFrom(afterReturn));
            producer.stop();
            assertThat(producer.failures()).as(producer.failureSummary()).isEmpty();
            acks = producer.acks();
        }
        AckVerifier.Read read = AckVerifier.verify(cluster.bootstrap(), TOPIC, PARTITIONS, acks);
        Map<Integer, List<Integer>> placed = replicas(cluster.describe(TOPIC));
        // The logs of the replicas moved away while it was down were deleted when it came back: it keeps only its own.
        for (int p = 0; p < PARTITIONS; p++) {
            assertThat(java.nio.file.Files.isDirectory(cluster.dataDir(lost).resolve(TOPIC + "-" + p)))
                    .as("a log of %s-%d on node %d, which holds a replica of it: %s", TOPIC, p, lost, placed.get(p).contains(lost))
                    .isEqualTo(placed.get(p).contains(lost));
        }
        ReplicaFiles.assertReplicasAgree(cluster, TOPIC, read.endOffsets(), placed::get);
    }
}
