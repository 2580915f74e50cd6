package io.spate.tests;

import io.spate.tests.support.RawKafkaClient;
import io.spate.tests.support.SpateCluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The controller quorum is gone (two of three voters killed) for twice as long as any request to
 * it is retried (RatisMetadataLog.SUBMIT_DEADLINE_MS), counted from the kill. Every metadata
 * request a node made meanwhile failed; afterwards each
 * node must go on by itself: register again, change in-sync sets, serve admin requests. And a
 * node cut off from the quorum answers what it can at once instead of holding clients.
 */
class ControllerOutageTest {
    private static final String TOPIC = "through-outage";
    private static final int PARTITIONS = 3;
    /** How long the quorum is down: twice the longest a node retries a metadata request (10 s). */
    private static final Duration OUTAGE = Duration.ofMillis(2 * io.spate.cluster.ratis.RatisMetadataLog.SUBMIT_DEADLINE_MS);

    @TempDir
    static Path tmp;

    private static SpateCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("replica.lag.time.max.ms", "3000")).start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void afterAQuorumOutageLongerThanEveryRetryEveryNodeRegistersChangesInSyncSetsAndServesAdminRequests() throws Exception {
        cluster.createTopic(TOPIC, PARTITIONS, 3, Map.of());

        // Two of three voters die: requests to the quorum fail fast (connections refused) and
        // every retry a client has is used up long before the quorum is back.
        long killed = System.nanoTime();
        cluster.kill9(2);
        cluster.kill9(3);
        // Node 1 still serves and an admin request reaches it: its metadata request fails (once its retries are used up).
        assertThat(createTopicVia(1, "created-during-outage")).as("a topic created while the quorum is down").isNotEqualTo(Errors.NONE.code());
        // The fault itself, not a wait for a condition: the quorum stays down twice as long as any
        // request to it is retried (the failed CreateTopics above already waited out one such deadline).
        long left = OUTAGE.toNanos() - (System.nanoTime() - killed);
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
        SpateCluster.log("quorum down for " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed) + " ms; restarting nodes 2 and 3");
        cluster.start(2);
        cluster.start(3);

        await("every node registered again").atMost(SpateCluster.SETTLE).ignoreExceptions().untilAsserted(() ->
                assertThat(cluster.admin().describeCluster().nodes().get().stream().map(Node::id).toList())
                        .containsExactlyInAnyOrder(1, 2, 3));
        cluster.awaitFullIsr(TOPIC, PARTITIONS, 3);
        await("CreateTopics through node 1, whose request failed during the outage").atMost(SpateCluster.SETTLE)
                .until(() -> createTopicVia(1, "created-after-outage") == Errors.NONE.code());

        // Each node in turn goes: the leaders left must shrink the in-sync sets, and grow them when it returns.
        for (int victim : List.of(3, 2, 1)) {
            cluster.kill9(victim);
            await("the in-sync sets drop node " + victim).atMost(SpateCluster.SETTLE).ignoreExceptions().pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> {
                        for (TopicPartitionInfo p : cluster.describe(TOPIC).partitions()) {
                            assertThat(p.isr().stream().map(Node::id).toList()).as("isr of partition %d", p.partition())
                                    .doesNotContain(victim).hasSize(2);
                        }
                    });
            cluster.start(victim);
            try {
                cluster.awaitFullIsr(TOPIC, PARTITIONS, 3);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError("node " + victim + " never rejoined the in-sync sets: " + cluster.describeForHumans(TOPIC), e);
            }
        }
    }

    @Test
    void aNodeThatCannotReachTheQuorumAnswersAMetadataRequestThatWouldCreateATopicAtOnce() throws Exception {
        await("every node registered").atMost(SpateCluster.SETTLE).ignoreExceptions().untilAsserted(() ->
                assertThat(cluster.admin().describeCluster().nodes().get().stream().map(Node::id).toList()).containsExactlyInAnyOrder(1, 2, 3));
        String topic = "auto-created-while-cut-off";
        // Paused voters refuse nothing: a request to the quorum waits out the controller deadline.
        cluster.pause(2);
        cluster.pause(3);
        try {
            short error = autoCreatingMetadataVia(1, topic);
            assertThat(Errors.forCode(error)).as("the topic is being created; the answer does not wait for the quorum (as in Kafka)")
                    .isEqualTo(Errors.LEADER_NOT_AVAILABLE);
        } finally {
            cluster.resume(2);
            cluster.resume(3);
        }
        await("the creation goes on without the request that asked for it").atMost(SpateCluster.SETTLE).pollInterval(Duration.ofMillis(500))
                .until(() -> autoCreatingMetadataVia(1, topic) == Errors.NONE.code());
    }

    /** A Metadata request for {@code topic} that lets the node create it, sent to one node; the topic's error code. */
    private static short autoCreatingMetadataVia(int node, String topic) throws IOException {
        try (RawKafkaClient client = new RawKafkaClient(cluster.bootstrap(node))) {
            MetadataResponse response = client.send(new MetadataRequest.Builder(List.of(topic), true).build((short) 12));
            short error = response.data().topics().find(topic).errorCode();
            SpateCluster.log("Metadata (auto-create) " + topic + " via node " + node + ": " + Errors.forCode(error));
            return error;
        }
    }

    /** CreateTopics sent to one node (not to the controller the metadata names); its error code. */
    private static short createTopicVia(int node, String topic) {
        CreateTopicsRequestData data = new CreateTopicsRequestData().setTimeoutMs(30_000);
        data.topics().add(new CreateTopicsRequestData.CreatableTopic().setName(topic).setNumPartitions(1).setReplicationFactor((short) 3));
        try (RawKafkaClient client = new RawKafkaClient(cluster.bootstrap(node))) {
            CreateTopicsResponse response = client.send(new CreateTopicsRequest.Builder(data).build((short) 5));
            short error = response.data().topics().find(topic).errorCode();
            SpateCluster.log("CreateTopics " + topic + " via node " + node + ": " + Errors.forCode(error));
            return error;
        } catch (IOException e) {
            SpateCluster.log("CreateTopics " + topic + " via node " + node + " got no answer: " + e);
            return Errors.REQUEST_TIMED_OUT.code();
        }
    }
}
