package io.spate.tests;

import io.spate.tests.support.AckVerifier;
import io.spate.tests.support.ReplicaFiles;
import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.SteadyProducer;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
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
 * Adding a server moves partitions to it with no operator step (partition.autobalancing.mode
 * node_add, the default): node processes, a steady acks=all producer whose every acknowledged
 * record must survive the moves, and the new node's share of replicas and leaderships checked
 * through the Admin API.
 */
class NodeAddBalancingTest {
    private static final String SPREAD = "spread";
    private static final String WIDE = "wide";

    @TempDir
    static Path tmp;

    private static SpateCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        // A short preferred-leader check, so that the new node takes the leaderships it was given within the test.
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("leader.imbalance.check.interval.seconds", "3")).start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Map<Integer, Integer> replicaCounts(Map<String, TopicDescription> topics) {
        Map<Integer, Integer> counts = new HashMap<>();
        topics.values().forEach(t -> t.partitions().forEach(p -> p.replicas().forEach(n -> counts.merge(n.id(), 1, Integer::sum))));
        return counts;
    }

    @Test
    void anAddedNodeGetsItsShareOfReplicasAndLeadershipsWhileAProducerWritesAndNoAcknowledgedRecordIsLost() throws Exception {
        cluster.createTopic(SPREAD, 6, 2, Map.of("min.insync.replicas", "2"));
        cluster.createTopic(WIDE, 3, 3, Map.of("min.insync.replicas", "2"));
        cluster.awaitFullIsr(SPREAD, 6, 2);
        cluster.awaitFullIsr(WIDE, 3, 3);
        List<SteadyProducer.Ack> acks;
        int added;
        try (SteadyProducer producer = new SteadyProducer(cluster.bootstrap(), SPREAD, 6, 500, Map.of()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= 500);
            added = cluster.addNode();
            cluster.mark("node " + added + " added: its share should move to it");

            // 6 x 2 + 3 x 3 = 21 replicas of the test's topics (and those of any internal topic) over 4
            // nodes, none on the new node before: each node ends with its share, give or take one.
            await("the new node's share").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).as("moves still running").isEmpty();
                var names = cluster.admin().listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true)).names().get();
                Map<String, TopicDescription> topics = cluster.admin().describeTopics(names).allTopicNames().get();
                Map<Integer, Integer> counts = replicaCounts(topics);
                int total = counts.values().stream().mapToInt(Integer::intValue).sum();
                assertThat(total).isGreaterThanOrEqualTo(21);
                assertThat(counts).as("replicas per node").containsOnlyKeys(1, 2, 3, added).containsEntry(added, total / 4)
                        .allSatisfy((node, count) -> assertThat(count).isBetween(total / 4, total / 4 + 1));
                for (TopicDescription t : topics.values()) {
                    for (TopicPartitionInfo p : t.partitions()) {
                        assertThat(p.isr()).as("%s-%d in sync", t.name(), p.partition()).containsExactlyInAnyOrderElementsOf(p.replicas());
                    }
                }
                long led = topics.values().stream().flatMap(t -> t.partitions().stream())
                        .filter(p -> p.leader() != null && p.leader().id() == added).count();
                assertThat(led).as("partitions the new node leads").isPositive();
            });
            long afterMoves = producer.sent();
            await("acks after the moves").atMost(Duration.ofSeconds(30)).until(() -> producer.ackedOnEveryPartitionFrom(afterMoves));
            producer.stop();
            assertThat(producer.failures()).as(producer.failureSummary()).isEmpty();
            acks = producer.acks();
        }

        AckVerifier.Read read = AckVerifier.verify(cluster.bootstrap(), SPREAD, 6, acks);
        Map<Integer, List<Integer>> replicas = new HashMap<>();
        for (TopicPartitionInfo p : cluster.describe(SPREAD).partitions()) {
            replicas.put(p.partition(), p.replicas().stream().map(Node::id).toList());
        }
        ReplicaFiles.assertReplicasAgree(cluster, SPREAD, read.endOffsets(), replicas::get);
        var onAdded = cluster.admin().describeLogDirs(List.of(added)).allDescriptions().get().get(added).values().iterator().next().replicaInfos();
        replicas.forEach((p, nodes) -> {
            if (nodes.contains(added)) {
                assertThat(onAdded).containsKey(new TopicPartition(SPREAD, p));
            }
        });
    }
}
