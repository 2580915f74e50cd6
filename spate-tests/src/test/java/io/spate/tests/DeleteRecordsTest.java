package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** DeleteRecords through the real AdminClient, with Kafka's rules for the offsets it takes. */
class DeleteRecordsTest {
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
    void onlyMinusOneMeansTheHighWatermark() throws Exception {
        TopicPartition tp = topicWithRecords("negative-offsets", 10);

        assertThatThrownBy(() -> admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(-2))).all().get())
                .hasCauseInstanceOf(OffsetOutOfRangeException.class);
        assertThat(earliest(tp)).as("nothing deleted").isZero();

        assertThat(admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(-1))).lowWatermarks().get(tp).get().lowWatermark())
                .isEqualTo(10);
        assertThat(earliest(tp)).isEqualTo(10);
    }

    private static TopicPartition topicWithRecords(String name, int count) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all().get();
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(name, 0, null, "v" + i));
            }
            producer.flush();
        }
        return new TopicPartition(name, 0);
    }

    private static long earliest(TopicPartition tp) throws Exception {
        return admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get().offset();
    }
}
