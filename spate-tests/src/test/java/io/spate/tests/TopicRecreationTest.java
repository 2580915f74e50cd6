package io.spate.tests;

import io.spate.tests.support.Clients;
import io.spate.tests.support.ReplicaFiles;
import io.spate.tests.support.SpateCluster;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A topic deleted and created again under its name is a new topic (a new topic id): no replica
 * serves it from the old topic's log, even a node that learned both changes as one.
 */
class TopicRecreationTest {
    @TempDir
    static Path tmp;

    private static SpateCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of()).start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * A node that is not a controller voter learns a new image whole, so a topic deleted and at
     * once created again reaches it as one change: the partition it hosts now belongs to another
     * topic. It must start the new topic's log empty, not lead or follow with the old records.
     */
    @Test
    void aTopicCreatedAgainUnderItsNameStartsEmptyOnEveryReplica() throws Exception {
        String topic = "reborn";
        int observer = cluster.addNode();
        List<Integer> replicas = List.of(observer, 1, 2);
        TopicPartition tp = new TopicPartition(topic, 0);
        for (int round = 0; round < 3; round++) {
            cluster.admin().createTopics(List.of(new NewTopic(topic, Map.of(0, replicas)))).all().get();
            await("a leader of round " + round).atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> cluster.leader(topic, 0).isPresent());
            produce(topic, "old-" + round + "-", 40);
            cluster.mark("round " + round + " written: deleting " + topic);
            cluster.admin().deleteTopics(List.of(topic)).all().get();
        }
        cluster.admin().createTopics(List.of(new NewTopic(topic, Map.of(0, replicas)))).all().get();
        cluster.mark("created for the last time");
        cluster.awaitFullIsr(topic, 1, 3);
        produce(topic, "new-", 10);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(), Map.of())) {
            List<ConsumerRecord<String, String>> read = Clients.readAll(consumer, List.of(tp));
            assertThat(read).extracting(ConsumerRecord::value).as("only the new topic's records")
                    .containsExactly(IntStream.range(0, 10).mapToObj(i -> "new-" + i).toArray(String[]::new));
            assertThat(read.get(0).offset()).isZero();
        }
        ReplicaFiles.assertReplicasAgree(cluster, topic, Map.of(0, 10L), partition -> replicas);
    }

    private static void produce(String topic, String prefix, int count) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, prefix + i)).get();
            }
        }
    }
}
