package io.spate.tests;

import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.Tmpfs;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Found by the fault campaigns (seed 14): a voter whose disk fills up fails its copy of the
 * metadata log for good, yet kept running and heartbeating, so the quorum counted on a member
 * that could neither append nor vote; when another voter then stopped, the cluster could not
 * commit anything and no restarted node could register. The node must stop at once instead, as
 * Kafka does when its metadata log directory fails, and come back once its disk has room.
 */
class MetadataDiskFullTest {
    @TempDir
    Path tmp;
    private Path mountPoint;

    @AfterEach
    void unmount() throws Exception {
        Tmpfs.unmount(mountPoint);
    }

    @Test
    void voterWhoseMetadataLogCannotBeWrittenStopsAndTheQuorumCarriesOn() throws Exception {
        try (SpateCluster cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of())) {
            Path disk = Tmpfs.mountOrSkip(cluster.dataDir(3), "64m");
            mountPoint = disk;
            cluster.start();
            cluster.createTopic("before", 1, 3, Map.of());

            Path filler = disk.resolve("filler");
            fill(filler);
            // Metadata keeps changing (as topics, in-sync sets and registrations do): node 3's
            // voter must append each change, and cannot.
            int created = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (cluster.node(3).isAlive() && System.nanoTime() < deadline) {
                // Whatever the node frees (a failed write's blocks, a removed probe file) is taken
                // again: left free, it let the metadata probe pass now and then, and the node ran on.
                fill(filler);
                List<NewTopic> batch = List.of(new NewTopic("t" + created++, 1, (short) 2), new NewTopic("t" + created++, 1, (short) 2));
                try {
                    cluster.admin().createTopics(batch).all().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // a request may time out while the quorum notices; the loop goes on
                }
            }
            assertThat(cluster.node(3).isAlive()).as("node 3 stops once it cannot write its metadata log").isFalse();
            // The metadata log or a follower's append of the new topics' data fails first: either stops it.
            assertThat(cluster.node(3).output()).contains("stopping at once").containsAnyOf("metadata log", "data directory");

            // The two others still form the quorum and commit. Once node 3's session has lapsed: until
            // then the controller may still place a replica on it, and that replica would never sync.
            await().atMost(SpateCluster.SETTLE).ignoreExceptions().until(() -> !cluster.admin().describeCluster().nodes()
                    .get().stream().map(org.apache.kafka.common.Node::id).toList().contains(3));
            cluster.createTopic("while-node-3-is-down", 1, 2, Map.of());

            // Room again: node 3 restarts and rejoins; then it and node 1 carry the quorum without node 2.
            Files.delete(filler);
            cluster.start(3);
            await().atMost(SpateCluster.SETTLE).ignoreExceptions().until(() -> cluster.admin().describeCluster().nodes()
                    .get().stream().map(org.apache.kafka.common.Node::id).toList().contains(3));
            cluster.stop(2);
            cluster.admin().createTopics(List.of(new NewTopic("without-node-2", 1, (short) 2))).all().get(60, TimeUnit.SECONDS);
            // Committed; the node the admin client asks next may apply it a moment later (as in Kafka).
            await().atMost(SpateCluster.SETTLE).untilAsserted(() ->
                    assertThat(cluster.admin().listTopics().names().get(30, TimeUnit.SECONDS)).contains("without-node-2"));
        }
    }

    /**
     * Found by the fault campaigns (seed 3024): a leader whose disk filled kept its partitions and
     * failed every append with KAFKA_STORAGE_ERROR for two seconds, until its metadata log failed
     * too; the healthy replicas waited. A failed write to the data directory now stops a cluster
     * node, as Kafka stops a broker whose only log directory failed, and a replica with room leads.
     */
    @Test
    void leaderWhoseDataLogCannotBeWrittenStopsAndAHealthyReplicaTakesTheWrites() throws Exception {
        try (SpateCluster cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of())) {
            Path disk = Tmpfs.mountOrSkip(cluster.dataDir(3), "64m");
            mountPoint = disk;
            cluster.start();
            cluster.createTopic("events", 3, 3, Map.of("min.insync.replicas", "2"));
            cluster.awaitFullIsr("events", 3, 3);
            int partition = -1;
            for (int p = 0; p < 3 && partition < 0; p++) {
                if (cluster.leader("events", p).orElse(-1) == 3) {
                    partition = p;
                }
            }
            assertThat(partition).as("node 3 leads one of the three partitions").isNotNegative();

            java.util.List<String> acknowledged = new java.util.ArrayList<>();
            try (var producer = io.spate.tests.support.Clients.producer(cluster.bootstrap(),
                    Map.of("acks", "all", "enable.idempotence", "true", "delivery.timeout.ms", "60000"))) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("events", partition, "k", "before")).get(30, TimeUnit.SECONDS);
                acknowledged.add("before");
                fill(disk.resolve("filler"));
                // Node 3 fails this append (larger than what is left of the segment's last page),
                // stops, and a replica with room leads: the producer's retries land there within
                // its delivery timeout. The metadata log's own probe gives a full disk three seconds.
                String padding = "x".repeat(16_384);
                for (int i = 0; i < 20; i++) {
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("events", partition, "k", "after-" + i + padding)).get(60, TimeUnit.SECONDS);
                    acknowledged.add("after-" + i + padding);
                }
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> !cluster.node(3).isAlive());
            assertThat(cluster.node(3).output()).contains("data directory can no longer be written").contains("stopping at once");
            assertThat(cluster.leader("events", partition)).isPresent().get().isNotEqualTo(3);
            try (var consumer = io.spate.tests.support.Clients.consumer(cluster.bootstrap(), Map.of())) {
                var records = io.spate.tests.support.Clients.readAll(consumer,
                        java.util.List.of(new org.apache.kafka.common.TopicPartition("events", partition)));
                assertThat(records).extracting(org.apache.kafka.clients.consumer.ConsumerRecord::value).containsExactlyElementsOf(acknowledged);
            }
        }
    }

    /** Appends to {@code file} until the disk is full, in large writes and then in pages, so no page is left free. */
    private static void fill(Path file) throws IOException {
        for (int chunk : new int[] {1 << 16, 4096}) {
            ByteBuffer zeros = ByteBuffer.allocate(chunk);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                while (true) {
                    zeros.clear();
                    ch.write(zeros);
                }
            } catch (IOException full) {
                assertThat(full.getMessage()).contains("No space left");
            }
        }
    }
}
