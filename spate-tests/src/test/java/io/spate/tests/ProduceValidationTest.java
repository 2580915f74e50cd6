package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Produced batches are checked as Kafka checks them, with Kafka's error codes, and nothing refused is stored. */
class ProduceValidationTest {
    @TempDir
    static Path tmp;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(tmp.resolve("data")).start();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static KafkaProducer<String, String> producer(String compression) {
        return Clients.producer(node.bootstrapServers(), Map.of(ProducerConfig.RETRIES_CONFIG, 0, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.LINGER_MS_CONFIG, 0, ProducerConfig.COMPRESSION_TYPE_CONFIG, compression));
    }

    @Test
    void aCompactedTopicRefusesRecordsWithoutAKeyCompressedOrNot() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "keyed", 1, Map.of("cleanup.policy", "compact"));
        for (String compression : List.of("none", "lz4", "zstd", "gzip", "snappy")) {
            try (KafkaProducer<String, String> producer = producer(compression)) {
                assertThatThrownBy(() -> producer.send(new ProducerRecord<>("keyed", 0, null, "no key")).get())
                        .as(compression).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(InvalidRecordException.class);
                producer.send(new ProducerRecord<>("keyed", 0, "k", "with key " + compression)).get();
            }
        }
        assertThat(values("keyed")).containsExactly("with key none", "with key lz4", "with key zstd", "with key gzip", "with key snappy");
    }

    @Test
    void timestampsBeyondTheTopicsBoundsAreRefused() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "clocked", 1, Map.of("message.timestamp.before.max.ms", "60000"));
        long now = System.currentTimeMillis();
        try (KafkaProducer<String, String> producer = producer("none")) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("clocked", 0, now + 2 * 3_600_000L, "k", "from the future")).get())
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(InvalidTimestampException.class);
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("clocked", 0, now - 3_600_000L, "k", "from the past")).get())
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(InvalidTimestampException.class);
            producer.send(new ProducerRecord<>("clocked", 0, now, "k", "on time")).get();
        }
        assertThat(values("clocked")).containsExactly("on time");
    }

    private static List<String> values(String topic) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            return Clients.readAll(consumer, List.of(new TopicPartition(topic, 0))).stream().map(ConsumerRecord::value).toList();
        }
    }
}
