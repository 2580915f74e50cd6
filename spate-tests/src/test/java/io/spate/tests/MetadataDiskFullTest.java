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
                List<NewTopic> batch = List.of(new NewTopic("t" + created++, 1, (short) 2), new NewTopic("t" + created++, 1, (short) 2));
                try {
                    cluster.admin().createTopics(batch).all().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    // a request may time out while the quorum notices; the loop goes on
                }
            }
            assertThat(cluster.node(3).isAlive()).as("node 3 stops once it cannot write its metadata log").isFalse();
            assertThat(cluster.node(3).output()).contains("metadata log").contains("stopping at once");

            // The two others still form the quorum and commit.
            cluster.createTopic("while-node-3-is-down", 1, 2, Map.of());

            // Room again: node 3 restarts and rejoins; then it and node 1 carry the quorum without node 2.
            Files.delete(filler);
            cluster.start(3);
            await().atMost(SpateCluster.SETTLE).ignoreExceptions().until(() -> cluster.admin().describeCluster().nodes()
                    .get().stream().map(org.apache.kafka.common.Node::id).toList().contains(3));
            cluster.stop(2);
            cluster.admin().createTopics(List.of(new NewTopic("without-node-2", 1, (short) 2))).all().get(60, TimeUnit.SECONDS);
            assertThat(cluster.admin().listTopics().names().get(30, TimeUnit.SECONDS)).contains("without-node-2");
        }
    }

    private static void fill(Path file) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate(1 << 16);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            while (true) {
                zeros.clear();
                ch.write(zeros);
            }
        } catch (IOException full) {
            assertThat(full.getMessage()).contains("No space left");
        }
    }
}
