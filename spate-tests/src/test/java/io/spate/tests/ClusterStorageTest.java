package io.spate.tests;

import io.spate.tests.support.Clients;
import io.spate.tests.support.ReplicaFiles;
import io.spate.tests.support.SpateCluster;
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

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.spate.tests.support.SpateCluster.log;
import static org.assertj.core.api.Assertions.assertThat;

/** Storage faults on one replica of a 3-node cluster are repaired from the healthy replicas, without loss. */
class ClusterStorageTest {
    private static final int NODES = 3;

    @TempDir
    static Path tmp;
    static SpateCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), NODES, Map.of());
        try {
            cluster.start();
        } catch (Exception | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aFollowerWithABitFlipInAnOldSegmentSetsItAsideAndCopiesItAgain() throws Exception {
        String topic = "flipped";
        cluster.createTopic(topic, 1, NODES, Map.of("min.insync.replicas", "2", "segment.bytes", "8192"));
        produce(topic, 300);
        int leader = cluster.awaitLeader(topic, 0);
        int follower = cluster.ids().stream().filter(id -> id != leader).findFirst().orElseThrow();
        cluster.awaitFullIsr(topic, 1, NODES);
        cluster.kill9(follower);
        Path first = firstSegment(cluster.dataDir(follower).resolve(topic + "-0"));
        flipBitInSecondBatch(first);
        log("flipped a bit in " + first + " of follower " + follower);

        cluster.start(follower);
        assertRepairedFromTheOthers(topic, follower);
    }

    /**
     * The killed node led the partition when it died, so the image it replays at its restart names
     * it leader, and its log loads offline (the flipped bit lies below the recovery point). The
     * image of the running cluster then names another leader: the node must set the damaged data
     * aside and copy it again, as a follower whose first image named another leader does.
     */
    @Test
    void aLeaderWithABitFlipInAnOldSegmentRepairsItOnceAnotherNodeLeads() throws Exception {
        String topic = "flipped-leader";
        cluster.createTopic(topic, 1, NODES, Map.of("min.insync.replicas", "2", "segment.bytes", "8192"));
        produce(topic, 300);
        int leader = cluster.awaitLeader(topic, 0);
        cluster.awaitFullIsr(topic, 1, NODES);
        cluster.kill9(leader);
        cluster.awaitLeaderOtherThan(topic, 0, leader);
        flipBitInSecondBatch(firstSegment(cluster.dataDir(leader).resolve(topic + "-0")));
        log("flipped a bit in the first segment of node " + leader + ", the leader when it was killed");

        cluster.start(leader);
        assertRepairedFromTheOthers(topic, leader);
    }

    /**
     * {@code node}, restarted on a flipped bit in partition 0 of {@code topic} (300 records),
     * set the damage aside, copied the partition again and rejoined the in-sync set: every record
     * reads back, a write after it too, and the replicas agree byte for byte.
     */
    private static void assertRepairedFromTheOthers(String topic, int node) throws Exception {
        cluster.awaitFullIsr(topic, 1, NODES);
        assertThat(cluster.node(node).output()).contains("corrupt local replica").contains("copying it again from node");
        try (Stream<Path> quarantined = Files.list(cluster.dataDir(node).resolve("quarantine"))) {
            assertThat(quarantined.filter(q -> q.getFileName().toString().startsWith(topic + "-0-")).toList()).hasSize(1);
        }
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of(ProducerConfig.ACKS_CONFIG, "all"))) {
            producer.send(new ProducerRecord<>(topic, 0, "k", "after the repair")).get();
        }
        List<ConsumerRecord<String, String>> all;
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(), Map.of())) {
            all = Clients.readAll(consumer, List.of(new TopicPartition(topic, 0)));
        }
        assertThat(all).hasSize(301);
        for (int i = 0; i < 300; i++) {
            assertThat(all.get(i).value()).startsWith("value-" + i + "-");
        }
        ReplicaFiles.assertReplicasAgree(cluster, topic, Map.of(0, 301L));
    }

    @Test
    void deleteRecordsReachesEveryReplicaAndOutlivesTheLeader() throws Exception {
        String topic = "purged";
        cluster.createTopic(topic, 1, NODES, Map.of("min.insync.replicas", "2", "segment.bytes", "8192"));
        produce(topic, 300);
        TopicPartition tp = new TopicPartition(topic, 0);
        long lowWatermark = cluster.admin().deleteRecords(Map.of(tp, org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(200)))
                .lowWatermarks().get(tp).get().lowWatermark();
        assertThat(lowWatermark).isEqualTo(200);
        // Answered once every in-sync follower moved its log start too: a follower that takes over at
        // once (no time for another fetch) starts at 200, as Kafka's low watermark promises.
        int leader = cluster.awaitLeader(topic, 0);
        cluster.kill9(leader);
        cluster.awaitLeaderOtherThan(topic, 0, leader);
        org.awaitility.Awaitility.await("the new leader's log start").atMost(java.time.Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() ->
                assertThat(cluster.admin().listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.earliest())).partitionResult(tp).get().offset())
                        .isEqualTo(200));
        cluster.start(leader);
        cluster.awaitFullIsr(topic, 1, NODES);
        // Every replica drops the segments wholly below 200, the restarted one too.
        for (int id : cluster.ids()) {
            Path dir = cluster.dataDir(id).resolve(topic + "-0");
            org.awaitility.Awaitility.await("node " + id + " drops the deleted segments").atMost(java.time.Duration.ofSeconds(30)).untilAsserted(() -> {
                try (Stream<Path> files = Files.list(dir)) {
                    String first = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log")).sorted().findFirst().orElseThrow();
                    assertThat(Long.parseLong(first.substring(0, 20))).isPositive().isLessThanOrEqualTo(200);
                }
            });
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(), Map.of())) {
            List<ConsumerRecord<String, String>> rest = Clients.readAll(consumer, List.of(tp));
            assertThat(rest).hasSize(100);
            assertThat(rest.get(0).offset()).isEqualTo(200);
        }
    }

    /** {@code count} records to partition 0, one acks=all request each: many small batches, several segments. */
    private static void produce(String topic, int count) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of(ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 0))) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "value-" + i + "-" + "z".repeat(60))).get();
            }
        }
    }

    private static Path firstSegment(Path partitionDir) throws Exception {
        try (Stream<Path> files = Files.list(partitionDir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().findFirst().orElseThrow();
        }
    }

    private static void flipBitInSecondBatch(Path segment) throws Exception {
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(12);
            channel.read(header, 0);
            long position = 12 + header.getInt(8) + 70;
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x10)).rewind();
            channel.write(one, position);
        }
    }
}
