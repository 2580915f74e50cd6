package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import io.spate.tests.support.RawKafkaClient;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Metadata requests of the versions whose topic lists mean different things, as sent by old clients. */
class MetadataVersionsTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).config("auto.create.topics.enable", "false").start();
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            admin.createTopics(List.of(new NewTopic("listed", 2, (short) 1))).all().get();
        }
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void anEmptyListAsksForEveryTopicInVersion0AndForNoneLater() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            // kafka-clients builds no version 0 any more; the request class still writes it.
            MetadataResponse v0 = client.send(new MetadataRequest(new MetadataRequestData().setTopics(List.of()), (short) 0));
            assertThat(v0.data().topics()).extracting(topic -> topic.name()).contains("listed");

            MetadataResponse v1 = client.send(new MetadataRequest(new MetadataRequestData().setTopics(List.of()), (short) 1));
            assertThat(v1.data().topics()).isEmpty();
        }
    }
}
