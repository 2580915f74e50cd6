package io.spate.tests;

import io.spate.processing.PipelineAdmin;
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
 * record must survive the moves, the new node's share of replicas and leaderships checked
 * through the Admin API, and a pipeline at the data whose co-located output moves with its input
 * and whose tasks follow the leaderships to the new node.
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
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("leader.imbalance.check.interval.seconds", "3",
                "offsets.topic.num.partitions", "6")).start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static final String CLICKS = "clicks";
    private static final String CLICKS_OUT = "clicks-upper";

    /** Events as topology A reads them: sendMicros,seq,user,type,amount. */
    private static void produceClicks(int from, int count) throws Exception {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", cluster.bootstrap());
        p.put("acks", "all");
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(p,
                new org.apache.kafka.common.serialization.StringSerializer(), new org.apache.kafka.common.serialization.StringSerializer())) {
            for (int i = from; i < from + count; i++) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(CLICKS, "user-" + i, "0," + i + ",user-" + i + ",click,50")).get();
            }
        }
    }

    private static List<String> expectedOutputs(int from, int count) {
        return java.util.stream.IntStream.range(from, from + count).mapToObj(i -> "0," + i + ",user-" + i + ",CLICK,5000").toList();
    }

    /** Every value in the pipeline's output, read from the start. */
    private static java.util.Set<String> outputs() {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", cluster.bootstrap());
        p.put("auto.offset.reset", "earliest");
        java.util.Set<String> values = new java.util.HashSet<>();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(p,
                new org.apache.kafka.common.serialization.StringDeserializer(), new org.apache.kafka.common.serialization.StringDeserializer())) {
            List<TopicPartition> partitions = java.util.stream.IntStream.range(0, 6).mapToObj(i -> new TopicPartition(CLICKS_OUT, i)).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.currentTimeMillis() + 10_000;
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
        }
        return values;
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
        cluster.createTopic(CLICKS, 6, 2, Map.of());
        cluster.awaitFullIsr(CLICKS, 6, 2);
        produceClicks(0, 60);
        List<SteadyProducer.Ack> acks;
        int added;
        try (PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap());
             SteadyProducer producer = new SteadyProducer(cluster.bootstrap(), SPREAD, 6, 500, Map.of()).start()) {
            pipelines.deploy("upper", new PipelineAdmin.Code.Example("bench-a"), Map.of("in", CLICKS, "out", CLICKS_OUT));
            await("the pipeline's first results").atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .untilAsserted(() -> assertThat(outputs()).containsAll(expectedOutputs(0, 60)));
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
                assertThat(total).isGreaterThanOrEqualTo(45);
                // Within one of the share, or two where a partition moved together with the one it is placed with.
                assertThat(counts).as("replicas per node").containsOnlyKeys(1, 2, 3, added)
                        .allSatisfy((node, count) -> assertThat(count).isBetween(total / 4 - 1, total / 4 + 2));
                assertThat(counts.get(added)).isBetween(total / 4 - 1, total / 4 + 1);
                TopicDescription clicks = topics.get(CLICKS);
                TopicDescription out = topics.get(CLICKS_OUT);
                for (int p = 0; p < 6; p++) {
                    assertThat(out.partitions().get(p).replicas()).as("%s-%d with its input", CLICKS_OUT, p)
                            .containsExactlyInAnyOrderElementsOf(clicks.partitions().get(p).replicas());
                }
                for (TopicDescription t : topics.values()) {
                    for (TopicPartitionInfo p : t.partitions()) {
                        assertThat(p.isr()).as("%s-%d in sync", t.name(), p.partition()).containsExactlyInAnyOrderElementsOf(p.replicas());
                    }
                }
                long led = topics.values().stream().flatMap(t -> t.partitions().stream())
                        .filter(p -> p.leader() != null && p.leader().id() == added).count();
                assertThat(led).as("partitions the new node leads").isPositive();
            });
            // Processing at the data: each task on its input partition's leader, some on the new node.
            await("tasks on the leaders").atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
                var tasks = pipelines.describe("upper").orElseThrow().tasks();
                assertThat(tasks).hasSize(6).allSatisfy(t -> {
                    assertThat(t.state()).isEqualTo("RUNNING");
                    assertThat(t.node()).isEqualTo(cluster.leader(CLICKS, t.partition()).orElseThrow());
                });
                assertThat(tasks).anySatisfy(t -> assertThat(t.node()).isEqualTo(added));
            });
            produceClicks(60, 60);
            await("results of events sent after the moves").atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .untilAsserted(() -> assertThat(outputs()).containsAll(expectedOutputs(0, 120)));
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
