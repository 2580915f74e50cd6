package io.spate.tests;

import io.spate.tests.support.Clients;
import io.spate.tests.support.SpateCluster;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code spate cluster drain} with moves that cannot finish, on three node processes: a drain
 * once waited for them for good, and the moves it left pending refused every later drain. The
 * first test holds a move's copying (a move rate of 0) past --timeout; the second stops a node
 * that alone holds a partition, which no other node can copy.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterDrainUnfinishedMovesTest {
    /** Far longer than any of these drains takes when it ends by itself. */
    private static final Duration DRAIN_ENDS_WITHIN = Duration.ofSeconds(120);

    @TempDir
    static Path tmp;

    private static SpateCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("broker.heartbeat.interval.ms", "500",
                "broker.session.timeout.ms", "3000")).start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** {@code spate cluster drain <args>} in this JVM, awaited a bounded time: the old code never returned. */
    private static GroupsCommandTest.Run drain(String... args) {
        CompletableFuture<GroupsCommandTest.Run> run = CompletableFuture.supplyAsync(() -> {
            String[] all = new String[args.length + 2];
            all[0] = "cluster";
            all[1] = "drain";
            System.arraycopy(args, 0, all, 2, args.length);
            return GroupsCommandTest.spate(all);
        });
        await("spate cluster drain " + String.join(" ", args) + " ends").atMost(DRAIN_ENDS_WITHIN).until(run::isDone);
        GroupsCommandTest.Run done = run.join();
        System.out.println("---- spate cluster drain " + String.join(" ", args) + " (exit " + done.exit() + ") ----\n" + done.out() + done.err());
        return done;
    }

    private static Map<TopicPartition, ?> runningMoves() throws Exception {
        return cluster.admin().listPartitionReassignments().reassignments().get();
    }

    private static void moveRate(String rate, int... nodes) throws Exception {
        Map<ConfigResource, java.util.Collection<AlterConfigOp>> ops = new HashMap<>();
        for (int node : nodes) {
            ops.put(new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(node)), List.of(rate == null
                    ? new AlterConfigOp(new ConfigEntry("move.replication.throttled.rate", ""), AlterConfigOp.OpType.DELETE)
                    : new AlterConfigOp(new ConfigEntry("move.replication.throttled.rate", rate), AlterConfigOp.OpType.SET)));
        }
        cluster.admin().incrementalAlterConfigs(ops).all().get();
    }

    @Test
    @Order(1)
    void aDrainGivesUpAtItsTimeoutNamingTheMovesStillRunningAndCancelStopsThem() throws Exception {
        String topic = "held";
        cluster.admin().createTopics(List.of(new NewTopic(topic, Map.of(0, List.of(1))))).all().get();
        cluster.awaitLeader(topic, 0);
        try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of())) {
            for (int i = 0; i < 200; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "x".repeat(1_000)));
            }
            producer.flush();
        }
        // A move rate of 0 holds every copy to nodes 2 and 3: the move off node 1 cannot finish.
        moveRate("0", 2, 3);
        await("nodes 2 and 3 hold moves").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (String node : List.of("2", "3")) {
                ConfigResource resource = new ConfigResource(ConfigResource.Type.BROKER, node);
                assertThat(cluster.admin().describeConfigs(List.of(resource)).all().get().get(resource)
                        .get("move.replication.throttled.rate").value()).isEqualTo("0");
            }
        });
        try {
            long started = System.nanoTime();
            GroupsCommandTest.Run timedOut = drain("--node", "1", "--timeout", "5000", "--bootstrap-server", cluster.bootstrap(1));
            assertThat(timedOut.exit()).as(timedOut.err()).isEqualTo(1);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(5));
            assertThat(timedOut.err()).contains("node 1 is not drained after 5000 ms (--timeout)", "1 move(s) still running (held-0 to [",
                    "The running ones go on; `spate cluster drain --node 1 --cancel");
            assertThat(runningMoves()).as("a move that timed out goes on").containsOnlyKeys(new TopicPartition(topic, 0));

            GroupsCommandTest.Run refused = drain("--node", "1", "--bootstrap-server", cluster.bootstrap(1));
            assertThat(refused.exit()).isEqualTo(1);
            assertThat(refused.err()).contains("1 partition move(s) are running", "spate cluster drain --node 1 --cancel");

            GroupsCommandTest.Run cancelled = drain("--node", "1", "--cancel", "--bootstrap-server", cluster.bootstrap(1));
            assertThat(cancelled.exit()).as(cancelled.err()).isZero();
            assertThat(cancelled.out()).contains("cancelled 1 move(s) off node 1: held-0");
            assertThat(runningMoves()).isEmpty();
            assertThat(cluster.describe(topic).partitions().getFirst().replicas()).extracting(Node::id).containsExactly(1);

            GroupsCommandTest.Run nothingLeft = drain("--node", "1", "--cancel", "--bootstrap-server", cluster.bootstrap(1));
            assertThat(nothingLeft.exit()).isZero();
            assertThat(nothingLeft.out()).contains("no move off node 1 is running");
        } finally {
            moveRate(null, 2, 3);
        }
    }

    @Test
    @Order(2)
    void aPartitionWithNothingToCopyFromIsLeftOutAndTheOthersMove() throws Exception {
        cluster.admin().createTopics(List.of(new NewTopic("alone", Map.of(0, List.of(3))),
                new NewTopic("pair", Map.of(0, List.of(3, 1), 1, List.of(2, 3))))).all().get();
        cluster.awaitFullIsr("pair", 2, 2);
        cluster.awaitLeader("alone", 0);
        cluster.stop(3);
        await("node 3 is out of the cluster and alone-0 has no leader").atMost(SpateCluster.SETTLE).ignoreExceptions().untilAsserted(() -> {
            assertThat(cluster.admin().describeCluster().nodes().get()).extracting(Node::id).doesNotContain(3);
            Node leader = cluster.describe("alone").partitions().getFirst().leader();
            assertThat(leader == null || leader.isEmpty()).isTrue();
        });

        GroupsCommandTest.Run run = drain("--node", "3", "--bootstrap-server", cluster.bootstrap(1));

        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(1);
        assertThat(run.err()).contains("left out 1 partition(s) with no leader and no in-sync replica on a live node", "(alone-0)",
                "start node(s) 3 again", "node 3 still holds 1 replica(s)");
        assertThat(run.out()).contains("moving 2 partition(s) off node 3");
        assertThat(runningMoves()).as("no move is left pending to refuse the next drain").isEmpty();
        for (var p : cluster.describe("pair").partitions()) {
            assertThat(p.replicas()).extracting(Node::id).doesNotContain(3).hasSize(2);
        }
        assertThat(cluster.describe("alone").partitions().getFirst().replicas()).extracting(Node::id).containsExactly(3);

        GroupsCommandTest.Run plan = drain("--node", "3", "--dry-run", "--bootstrap-server", cluster.bootstrap(1));
        assertThat(plan.exit()).as(plan.err()).isZero();
        assertThat(plan.err()).contains("left out 1 partition(s)", "(alone-0)");
        assertThat(plan.out()).doesNotContain("alone");
    }
}
