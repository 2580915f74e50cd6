package io.spate.tests;

import io.spate.tests.support.Clients;
import io.spate.tests.support.RawKafkaClient;
import io.spate.tests.support.SpateCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two administrators changing the same topic at the same time through different nodes of a
 * cluster: each node decides on its own copy of the metadata, so the controller quorum must
 * refuse (or re-base) a change decided on a state that another change has replaced meanwhile.
 */
class ConcurrentTopicChangesTest {
    /** Each round races two requests once; the window is one metadata commit, so a few rounds hit it for sure. */
    private static final int ROUNDS = 4;

    @TempDir
    static Path tmp;
    static SpateCluster cluster;
    static Admin viaNode1;
    static Admin viaNode2;

    @BeforeAll
    static void start() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("auto.create.topics.enable", "false")).start();
        viaNode1 = Clients.admin(cluster.bootstrap(1));
        viaNode2 = Clients.admin(cluster.bootstrap(2));
    }

    @AfterAll
    static void stop() {
        if (viaNode1 != null) {
            viaNode1.close();
            viaNode2.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void twoRacingIncreasesToTheSameCountAddThePartitionsOnce() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            String topic = "grow-" + round;
            cluster.createTopic(topic, 3, 1, Map.of());
            List<Throwable> failures = race(admin -> admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(6))).all());
            assertThat(failures).as("at most the later one is refused").hasSizeLessThan(2)
                    .allSatisfy(f -> assertThat(f).isInstanceOf(InvalidPartitionsException.class));
            await("every node agrees on " + topic).atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(cluster.ids()).allSatisfy(id -> assertThat(partitionCount(id, topic)).isEqualTo(6)));
        }
    }

    @Test
    void twoRacingChangesToDifferentSettingsOfATopicBothSurvive() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            String topic = "settings-" + round;
            cluster.createTopic(topic, 1, 1, Map.of());
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            List<Throwable> failures = race(admin -> admin.incrementalAlterConfigs(Map.of(resource, List.of(admin == viaNode1
                    ? new AlterConfigOp(new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET)
                    : new AlterConfigOp(new ConfigEntry("segment.ms", "600000"), AlterConfigOp.OpType.SET)))).all());
            assertThat(failures).isEmpty();
            await("both settings of " + topic).atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                Config config = cluster.admin().describeConfigs(List.of(resource)).all().get().get(resource);
                assertThat(config.get("retention.ms").value()).isEqualTo("3600000");
                assertThat(config.get("segment.ms").value()).isEqualTo("600000");
            });
        }
    }

    /** Runs {@code change} through node 1 and node 2 at once; returns what failed (the causes). */
    private static List<Throwable> race(Function<Admin, org.apache.kafka.common.KafkaFuture<Void>> change) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (Admin admin : List.of(viaNode1, viaNode2)) {
            CompletableFuture<Void> outcome = new CompletableFuture<>();
            done.add(outcome);
            // A thread of each one's own: the common pool may have a single worker on a small machine.
            Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    change.apply(admin).get(30, TimeUnit.SECONDS);
                    outcome.complete(null);
                } catch (Exception e) {
                    outcome.completeExceptionally(e instanceof ExecutionException ? e.getCause() : e);
                }
            });
        }
        go.countDown();
        List<Throwable> failures = new ArrayList<>();
        for (CompletableFuture<Void> f : done) {
            try {
                f.join();
            } catch (java.util.concurrent.CompletionException e) {
                failures.add(e.getCause());
            }
        }
        return failures;
    }

    /** The partition count node {@code id} answers from its own image. */
    private static int partitionCount(int id, String topic) throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(cluster.bootstrap(id))) {
            MetadataResponse response = client.send(new MetadataRequest.Builder(new MetadataRequestData().setAllowAutoTopicCreation(false)
                    .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(topic)))).build((short) 12));
            return response.data().topics().find(topic).partitions().size();
        }
    }
}
