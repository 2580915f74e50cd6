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
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsResponse;
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

    /**
     * Two administrators (bootstrapped on nodes 1 and 2) and two requests sent straight to nodes 1
     * and 2 change four different keys of node 3's dynamic settings at once: every key keeps the
     * value its change set. The Admin client sends a broker's settings to that broker, so its two
     * changes race on node 3; the raw requests make nodes 1 and 2 decide theirs on their own copies.
     */
    @Test
    void racingChangesToDifferentDynamicSettingsOfANodeAllSurvive() throws Exception {
        ConfigResource node3 = new ConfigResource(ConfigResource.Type.BROKER, "3");
        List<String> keys = List.of("leader.replication.throttled.rate", "follower.replication.throttled.rate",
                "replica.alter.log.dirs.io.max.bytes.per.second", "move.replication.throttled.rate");
        try {
            for (int round = 0; round < ROUNDS; round++) {
                // New values every round, so that a change lost in a later round shows; far above what replication here moves.
                long value = 1_000_000_000L + 10L * round;
                List<Throwable> failures = raceAll(List.of(
                        () -> setNodeConfig(viaNode1, node3, keys.get(0), value),
                        () -> setNodeConfig(viaNode2, node3, keys.get(1), value + 1),
                        () -> setNodeConfigVia(1, node3, keys.get(2), value + 2),
                        () -> setNodeConfigVia(2, node3, keys.get(3), value + 3)));
                assertThat(failures).isEmpty();
                int r = round;
                await("round " + r + ": every key of node 3").atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                    Config config = viaNode1.describeConfigs(List.of(node3)).all().get().get(node3);
                    for (int k = 0; k < keys.size(); k++) {
                        assertThat(config.get(keys.get(k))).as(keys.get(k)).isNotNull()
                                .extracting(ConfigEntry::value).isEqualTo(String.valueOf(value + k));
                    }
                });
            }
        } finally {
            viaNode1.incrementalAlterConfigs(Map.of(node3, keys.stream().map(key ->
                    new AlterConfigOp(new ConfigEntry(key, null), AlterConfigOp.OpType.DELETE)).toList())).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static void setNodeConfig(Admin admin, ConfigResource node, String key, long value) throws Exception {
        admin.incrementalAlterConfigs(Map.of(node, List.of(new AlterConfigOp(new ConfigEntry(key, String.valueOf(value)),
                AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
    }

    /** The change sent to node {@code via} itself, whichever node the settings are of. */
    private static void setNodeConfigVia(int via, ConfigResource node, String key, long value) throws Exception {
        IncrementalAlterConfigsRequestData.AlterableConfigCollection ops = new IncrementalAlterConfigsRequestData.AlterableConfigCollection();
        ops.add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName(key).setValue(String.valueOf(value))
                .setConfigOperation(AlterConfigOp.OpType.SET.id()));
        IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection resources = new IncrementalAlterConfigsRequestData.AlterConfigsResourceCollection();
        resources.add(new IncrementalAlterConfigsRequestData.AlterConfigsResource().setResourceType(node.type().id())
                .setResourceName(node.name()).setConfigs(ops));
        try (RawKafkaClient client = new RawKafkaClient(cluster.bootstrap(via))) {
            IncrementalAlterConfigsResponse response = client.send(new IncrementalAlterConfigsRequest.Builder(
                    new IncrementalAlterConfigsRequestData().setResources(resources)).build());
            for (IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse answer : response.data().responses()) {
                if (answer.errorCode() != Errors.NONE.code()) {
                    throw Errors.forCode(answer.errorCode()).exception(answer.errorMessage());
                }
            }
        }
    }

    /** Runs {@code change} through node 1 and node 2 at once; returns what failed (the causes). */
    private static List<Throwable> race(Function<Admin, org.apache.kafka.common.KafkaFuture<Void>> change) throws Exception {
        return raceAll(List.of(viaNode1, viaNode2).stream().<Change>map(admin -> () -> change.apply(admin).get(30, TimeUnit.SECONDS)).toList());
    }

    private interface Change {
        void run() throws Exception;
    }

    /** Runs {@code changes} at once; returns what failed (the causes). */
    private static List<Throwable> raceAll(List<Change> changes) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (Change change : changes) {
            CompletableFuture<Void> outcome = new CompletableFuture<>();
            done.add(outcome);
            // A thread of each one's own: the common pool may have a single worker on a small machine.
            Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    change.run();
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
