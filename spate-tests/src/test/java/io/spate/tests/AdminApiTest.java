package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The real AdminClient: topics, partitions, configs and the cluster description. */
class AdminApiTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).config("auto.create.topics.enable", "false").start();
        admin = Clients.admin(node.bootstrapServers());
    }

    @AfterAll
    static void stop() {
        admin.close();
        node.close();
    }

    @Test
    void createDescribeListAndDeleteTopics() throws Exception {
        admin.createTopics(List.of(new NewTopic("orders", 4, (short) 1).configs(Map.of("retention.ms", "3600000")))).all().get();
        assertThat(admin.listTopics().names().get()).contains("orders");
        TopicDescription description = admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders");
        assertThat(description.partitions()).hasSize(4);
        assertThat(description.topicId()).isNotNull();
        assertThat(description.partitions().get(0).leader().id()).isEqualTo(1);
        assertThat(Files.isDirectory(dataDir.resolve("orders-3"))).isTrue();

        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get())
                .hasCauseInstanceOf(TopicExistsException.class);

        admin.deleteTopics(List.of("orders")).all().get();
        assertThat(admin.listTopics().names().get()).doesNotContain("orders");
        assertThat(Files.exists(dataDir.resolve("orders-0"))).isFalse();
        assertThatThrownBy(() -> admin.deleteTopics(List.of("orders")).all().get())
                .hasCauseInstanceOf(UnknownTopicOrPartitionException.class);
    }

    /** A standalone node is its own quorum of one: kafka-metadata-quorum.sh describes it as leader and only voter. */
    @Test
    void theMetadataQuorumOfAStandaloneNodeIsTheNodeAlone() throws Exception {
        admin.createTopics(List.of(new NewTopic("quorum-probe", 1, (short) 1))).all().get();
        org.apache.kafka.clients.admin.QuorumInfo quorum = admin.describeMetadataQuorum().quorumInfo().get();
        assertThat(quorum.leaderId()).isEqualTo(1);
        assertThat(quorum.highWatermark()).as("the topic's creation is in the metadata log").isPositive();
        assertThat(quorum.voters()).singleElement().satisfies(v -> {
            assertThat(v.replicaId()).isEqualTo(1);
            assertThat(v.logEndOffset()).isEqualTo(quorum.highWatermark());
            assertThat(v.lastCaughtUpTimestamp()).isPresent();
        });
        assertThat(quorum.observers()).isEmpty();
    }

    @Test
    void describeTopicsPagesThroughManyPartitions() throws Exception {
        admin.createTopics(List.of(new NewTopic("paged-a", 5, (short) 1), new NewTopic("paged-b", 3, (short) 1))).all().get();
        // Two partitions per answer: the client follows the cursor across answers and topics.
        Map<String, TopicDescription> described = admin.describeTopics(List.of("paged-b", "paged-a"),
                new org.apache.kafka.clients.admin.DescribeTopicsOptions().partitionSizeLimitPerResponse(2)).allTopicNames().get();
        assertThat(described.get("paged-a").partitions()).extracting(p -> p.partition()).containsExactly(0, 1, 2, 3, 4);
        assertThat(described.get("paged-b").partitions()).extracting(p -> p.partition()).containsExactly(0, 1, 2);
        assertThat(described.get("paged-a").partitions()).allSatisfy(p -> {
            assertThat(p.leader().id()).isEqualTo(1);
            assertThat(p.elr()).isEmpty();
        });
        assertThatThrownBy(() -> admin.describeTopics(List.of("paged-missing")).allTopicNames().get())
                .hasCauseInstanceOf(UnknownTopicOrPartitionException.class);
    }

    @Test
    void invalidCreationsGetKafkaErrors() {
        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("bad/name", 1, (short) 1))).all().get())
                .hasCauseInstanceOf(InvalidTopicException.class);
        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("x".repeat(300), 1, (short) 1))).all().get())
                .hasCauseInstanceOf(InvalidTopicException.class);
        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("rf3", 1, (short) 3))).all().get())
                .hasCauseInstanceOf(InvalidReplicationFactorException.class);
        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("badcfg", 1, (short) 1).configs(Map.of("segment.bytes", "lots")))).all().get())
                .hasCauseInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("segment.bytes");
        assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("unknowncfg", 1, (short) 1).configs(Map.of("no.such.setting", "1")))).all().get())
                .hasCauseInstanceOf(InvalidConfigurationException.class);
    }

    @Test
    void validateOnlyCreatesNothing() throws Exception {
        admin.createTopics(List.of(new NewTopic("dry-run", 2, (short) 1)), new CreateTopicsOptions().validateOnly(true)).all().get();
        assertThat(admin.listTopics().names().get()).doesNotContain("dry-run");
    }

    @Test
    void partitionsCanGrowButNotShrink() throws Exception {
        admin.createTopics(List.of(new NewTopic("growing", 2, (short) 1))).all().get();
        admin.createPartitions(Map.of("growing", NewPartitions.increaseTo(5))).all().get();
        assertThat(admin.describeTopics(List.of("growing")).allTopicNames().get().get("growing").partitions()).hasSize(5);
        assertThatThrownBy(() -> admin.createPartitions(Map.of("growing", NewPartitions.increaseTo(3))).all().get())
                .hasCauseInstanceOf(InvalidPartitionsException.class);
    }

    @Test
    void describeAndAlterTopicConfigs() throws Exception {
        admin.createTopics(List.of(new NewTopic("configured", 1, (short) 1).configs(Map.of("cleanup.policy", "delete", "flush.messages", "1")))).all().get();
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "configured");
        Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
        assertThat(config.get("flush.messages").value()).isEqualTo("1");
        assertThat(config.get("flush.messages").source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(config.get("retention.ms").value()).isEqualTo("604800000");
        assertThat(config.get("retention.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);

        admin.incrementalAlterConfigs(Map.of(resource, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "1000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("flush.messages", null), AlterConfigOp.OpType.DELETE),
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND)))).all().get();
        Config altered = admin.describeConfigs(List.of(resource)).all().get().get(resource);
        assertThat(altered.get("retention.ms").value()).isEqualTo("1000");
        assertThat(altered.get("flush.messages").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
        assertThat(Set.of(altered.get("cleanup.policy").value().split(","))).containsExactlyInAnyOrder("delete", "compact");

        assertThatThrownBy(() -> admin.incrementalAlterConfigs(Map.of(resource, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "soon"), AlterConfigOp.OpType.SET)))).all().get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(InvalidConfigurationException.class);
        assertThat(admin.describeConfigs(List.of(resource)).all().get().get(resource).get("retention.ms").value()).isEqualTo("1000");
    }

    @Test
    void describeClusterAndBrokerConfigs() throws Exception {
        DescribeClusterResult cluster = admin.describeCluster();
        assertThat(cluster.clusterId().get()).isEqualTo(node.clusterId());
        assertThat(cluster.nodes().get()).hasSize(1);
        assertThat(cluster.nodes().get().iterator().next().port()).isEqualTo(node.port());
        assertThat(cluster.controller().get().id()).isEqualTo(1);
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
        Config config = admin.describeConfigs(List.of(broker)).all().get().get(broker);
        assertThat(config.get("auto.create.topics.enable").value()).isEqualTo("false");
    }
}
