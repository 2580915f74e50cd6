package io.spate.tests;

import io.spate.tests.support.Clients;
import io.spate.tests.support.SpateCluster;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Found by the fault campaigns (seeds 17 and 1000): with {@code min.insync.replicas=2}, a leader
 * whose in-sync set had shrunk to itself went down, and the partition stayed offline while the
 * two other replicas were up and connected, until that one node came back (16 s in one run). A
 * replica that left the in-sync set while it was below min.insync.replicas holds every committed
 * record (the high watermark cannot move in that state), so it may lead: KIP-966's eligible
 * leader replicas. A replica that restarted after a crash is not eligible.
 */
class EligibleLeaderTest {
    @TempDir
    Path tmp;

    @Test
    void aReplicaThatLeftTheInSyncSetBelowMinInsyncLeadsWhenTheLastInSyncReplicaIsGone() throws Exception {
        // Five voters, the partition on three of them: the quorum outlives the partition's troubles.
        try (SpateCluster cluster = new SpateCluster(tmp.resolve("cluster"), 5, Map.of()).start()) {
            cluster.createTopic("elr", 1, 3, Map.of("min.insync.replicas", "2"));
            int leader = cluster.awaitLeader("elr", 0);
            List<Integer> others = new ArrayList<>(cluster.partitionInfo("elr", 0).replicas().stream().map(Node::id).toList());
            others.remove(Integer.valueOf(leader));
            int crashed = others.get(0);
            int eligible = others.get(1);
            List<String> acknowledged = new ArrayList<>();
            Map<String, Object> config = Map.of(ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000,
                    ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000, ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 100);
            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), config)) {
                for (int i = 0; i < 20; i++) {
                    producer.send(new ProducerRecord<>("elr", 0, null, "before-" + i)).get(30, TimeUnit.SECONDS);
                    acknowledged.add("before-" + i);
                }
            }

            cluster.kill9(crashed);
            awaitIsr(cluster, List.of(leader, eligible));
            // The eligible replica freezes: the controller fences it, the set drops below 2.
            cluster.pause(eligible);
            awaitIsr(cluster, List.of(leader));
            // Each node applies the metadata log on its own: one answer may still be a step behind
            // another, so the in-sync set and the eligible replica are checked in the same answer.
            await("the admin client sees the eligible replica (DescribeTopicPartitions)").atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .untilAsserted(() -> {
                        TopicPartitionInfo info = cluster.partitionInfo("elr", 0);
                        assertThat(info.isr().stream().map(Node::id).toList()).containsExactly(leader);
                        assertThat(info.elr().stream().map(Node::id).toList()).containsExactly(eligible);
                    });
            // The last in-sync replica dies; the crashed one comes back, out of sync and not eligible.
            cluster.kill9(leader);
            cluster.start(crashed);
            cluster.resume(eligible);

            // Until the controller has fenced the killed leader (a session after it last heard it, or
            // after a new controller's election) the committed metadata still names it.
            int newLeader = await("a leader other than node " + leader + ", which stays down").atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> cluster.leader("elr", 0), l -> l.isPresent() && l.get() != leader).orElseThrow();
            assertThat(newLeader).as("only the eligible replica may lead").isEqualTo(eligible);
            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), config)) {
                producer.send(new ProducerRecord<>("elr", 0, null, "after")).get(60, TimeUnit.SECONDS);
                acknowledged.add("after");
            }
            try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(), Map.of())) {
                List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions("elr", 1));
                assertThat(records).extracting(ConsumerRecord::value).containsExactlyElementsOf(acknowledged);
            }
        }
    }

    private static void awaitIsr(SpateCluster cluster, List<Integer> expected) {
        await("in-sync set " + expected).atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() ->
                assertThat(cluster.partitionInfo("elr", 0).isr().stream().map(Node::id).toList())
                        .containsExactlyInAnyOrderElementsOf(expected));
    }
}
