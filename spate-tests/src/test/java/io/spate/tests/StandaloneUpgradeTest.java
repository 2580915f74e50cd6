package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import io.spate.tests.support.RawKafkaClient;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A data directory written by a standalone node of an earlier Spate, which kept its topics as
 * {@code meta/topics/*.properties} and its producer id reservation in {@code meta/producer-id-block},
 * keeps its topics (same ids, partitions and overrides), its records and its producer ids when the
 * node, now the only voter of its own metadata log, starts on it.
 */
class StandaloneUpgradeTest {
    @TempDir
    Path dataDir;

    @Test
    void anEarlierStandaloneDataDirectoryKeepsItsTopicsRecordsAndProducerIds() throws Exception {
        String topicId;
        try (SpateNode node = SpateNode.builder().dataDir(dataDir).start()) {
            Clients.createTopic(node.bootstrapServers(), "legacy", 2, Map.of("retention.ms", "7200000"));
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("legacy", i % 2, "k" + i, "v" + i)).get();
                }
            }
            try (Admin admin = Clients.admin(node.bootstrapServers())) {
                topicId = admin.describeTopics(List.of("legacy")).allTopicNames().get().get("legacy").topicId().toString();
            }
        }
        // The layout of the earlier release: no metadata log, the topic as a properties file.
        Utils.delete(dataDir.resolve("meta").resolve("metadata").toFile());
        Path topics = Files.createDirectories(dataDir.resolve("meta").resolve("topics"));
        Files.writeString(topics.resolve("legacy.properties"), String.join("\n",
                "name=legacy", "id=" + topicId, "partitions=2", "replication.factor=1", "config.retention.ms=7200000", ""));
        Files.writeString(dataDir.resolve("meta").resolve("producer-id-block"), "5000");

        try (SpateNode node = SpateNode.builder().dataDir(dataDir).start();
             Admin admin = Clients.admin(node.bootstrapServers())) {
            TopicDescription description = admin.describeTopics(List.of("legacy")).allTopicNames().get().get("legacy");
            assertThat(description.topicId().toString()).isEqualTo(topicId);
            assertThat(description.partitions()).hasSize(2);
            var config = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, "legacy"))).all().get().values().iterator().next();
            assertThat(config.get("retention.ms").value()).isEqualTo("7200000");

            try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
                List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions("legacy", 2));
                assertThat(records).extracting(ConsumerRecord::value).containsExactlyInAnyOrder("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9");
            }
            try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
                InitProducerIdResponse init = client.send(new InitProducerIdRequest.Builder(new InitProducerIdRequestData()
                        .setTransactionalId(null).setTransactionTimeoutMs(60_000)).build((short) 4));
                assertThat(init.error()).isEqualTo(Errors.NONE);
                assertThat(init.data().producerId()).as("never an id the earlier release may have handed out").isGreaterThanOrEqualTo(5000);
            }
            assertThat(dataDir.resolve("meta").resolve("topics")).as("moved aside once imported").doesNotExist();
            assertThat(dataDir.resolve("meta").resolve("topics.imported").resolve("legacy.properties")).exists();
        }
        // And the import is not repeated: the metadata log holds the topics now.
        try (SpateNode node = SpateNode.builder().dataDir(dataDir).start();
             Admin admin = Clients.admin(node.bootstrapServers())) {
            assertThat(admin.describeTopics(List.of("legacy")).allTopicNames().get().get("legacy").topicId().toString()).isEqualTo(topicId);
        }
    }

    /** A topic's directory that a deletion interrupted by a crash left behind is removed at the next start, before any client can reuse the name. */
    @Test
    void aPartitionDirectoryOfNoTopicIsRemovedAtStart() throws Exception {
        Files.createDirectories(dataDir);
        Path ghost = Files.createDirectories(dataDir.resolve("ghost-0"));
        Files.writeString(ghost.resolve("00000000000000000000.index"), "left over");
        try (SpateNode node = SpateNode.builder().dataDir(dataDir).start()) {
            assertThat(ghost).doesNotExist();
            assertThat(dataDir.resolve("meta")).isDirectory();
        }
    }
}
