package io.spate.tests;

import io.spate.tests.support.AckVerifier;
import io.spate.tests.support.ReplicaFiles;
import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.SteadyProducer;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.common.Node;
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
 * {@code spate cluster drain}: every replica leaves a node of three node processes while an
 * acks=all producer writes, and a partition that has nowhere else to go is refused up front.
 */
class ClusterDrainCommandTest {
    private static final String TOPIC = "drained";

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

    private static long replicasOn(int node) throws Exception {
        var names = cluster.admin().listTopics(new ListTopicsOptions().listInternal(true)).names().get();
        return cluster.admin().describeTopics(names).allTopicNames().get().values().stream().flatMap(d -> d.partitions().stream())
                .filter(p -> p.replicas().stream().anyMatch(n -> n.id() == node)).count();
    }

    @Test
    void aDrainedNodeHoldsNoReplicaAndEveryAcknowledgedRecordIsKept() throws Exception {
        cluster.createTopic(TOPIC, 6, 2, Map.of());
        cluster.awaitFullIsr(TOPIC, 6, 2);
        int drained = 3;
        assertThat(replicasOn(drained)).isPositive();

        GroupsCommandTest.Run plan = GroupsCommandTest.spate("cluster", "drain", "--node", String.valueOf(drained), "--dry-run",
                "--bootstrap-server", cluster.bootstrap(1));
        assertThat(plan.exit()).as(plan.err()).isZero();
        assertThat(plan.out()).contains("NEW-REPLICAS").contains(TOPIC);
        assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).as("a dry run starts nothing").isEmpty();

        List<SteadyProducer.Ack> acks;
        try (SteadyProducer producer = new SteadyProducer(cluster.bootstrap(), TOPIC, 6, 500, Map.of()).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> producer.ackCount() >= 500);
            GroupsCommandTest.Run run = GroupsCommandTest.spate("cluster", "drain", "--node", String.valueOf(drained), "--moves-at-once", "2",
                    "--bootstrap-server", cluster.bootstrap(1));
            assertThat(run.exit()).as(run.err()).isZero();
            assertThat(run.out()).contains("node " + drained + " holds no replica now");
            assertThat(replicasOn(drained)).isZero();
            long after = producer.sent();
            await("acks after the drain").atMost(Duration.ofSeconds(30)).until(() -> producer.ackedOnEveryPartitionFrom(after));
            producer.stop();
            assertThat(producer.failures()).as(producer.failureSummary()).isEmpty();
            acks = producer.acks();
        }
        Map<Integer, List<Integer>> replicas = new HashMap<>();
        for (TopicPartitionInfo p : cluster.describe(TOPIC).partitions()) {
            replicas.put(p.partition(), p.replicas().stream().map(Node::id).toList());
            assertThat(p.isr()).hasSize(2);
        }
        AckVerifier.Read read = AckVerifier.verify(cluster.bootstrap(), TOPIC, 6, acks);
        ReplicaFiles.assertReplicasAgree(cluster, TOPIC, read.endOffsets(), replicas::get);

        // Three replicas on three nodes: one of them has nowhere to go.
        cluster.createTopic("wide", 1, 3, Map.of());
        GroupsCommandTest.Run refused = GroupsCommandTest.spate("cluster", "drain", "--node", "2", "--bootstrap-server", cluster.bootstrap(1));
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("cannot be drained").contains("wide-0");
        assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).isEmpty();
    }
}
