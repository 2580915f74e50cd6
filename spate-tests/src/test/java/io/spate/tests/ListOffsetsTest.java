package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** ListOffsets through the real AdminClient, answered as a Kafka 4.x broker answers it. */
class ListOffsetsTest {
    private static final long BASE_TIME = 1_700_000_000_000L;

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

    /**
     * DeleteRecords deletes only whole segments, so the one segment here still holds the records
     * below the new log start: a lookup by time must not send a reader there.
     */
    @Test
    void aLookupByTimeNeverAnswersAnOffsetBelowTheLogStart() throws Exception {
        TopicPartition tp = topic("by-time-after-delete");
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>(tp.topic(), 0, BASE_TIME + i, null, "v" + i));
            }
            producer.flush();
        }
        admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(50))).all().get();

        ListOffsetsResult.ListOffsetsResultInfo first = admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(BASE_TIME)))
                .partitionResult(tp).get();
        assertThat(first.offset()).isEqualTo(50);
        assertThat(first.timestamp()).isEqualTo(BASE_TIME + 50);
        ListOffsetsResult.ListOffsetsResultInfo later = admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(BASE_TIME + 70)))
                .partitionResult(tp).get();
        assertThat(later.offset()).as("records past the log start are found as before").isEqualTo(70);
    }

    /** KAFKA-16310: the offset of the first record carrying the largest time, not the last offset of its batch. */
    @Test
    void maxTimestampAnswersTheRecordThatCarriesIt() throws Exception {
        TopicPartition outOfOrder = topic("max-time-out-of-order");
        sendAsOneBatch(outOfOrder, BASE_TIME + 300, BASE_TIME + 500, BASE_TIME + 100);
        ListOffsetsResult.ListOffsetsResultInfo max = admin.listOffsets(Map.of(outOfOrder, OffsetSpec.maxTimestamp()))
                .partitionResult(outOfOrder).get();
        assertThat(max.timestamp()).isEqualTo(BASE_TIME + 500);
        assertThat(max.offset()).isEqualTo(1);

        TopicPartition shared = topic("max-time-shared");
        sendAsOneBatch(shared, BASE_TIME + 100, BASE_TIME + 200);
        sendAsOneBatch(shared, BASE_TIME + 700, BASE_TIME + 700, BASE_TIME + 700);
        max = admin.listOffsets(Map.of(shared, OffsetSpec.maxTimestamp())).partitionResult(shared).get();
        assertThat(max.timestamp()).isEqualTo(BASE_TIME + 700);
        assertThat(max.offset()).as("the first of the records sharing the time").isEqualTo(2);
    }

    /** Without tiered storage Kafka answers these with no offset and no error (KIP-1005, KIP-1023). */
    @Test
    void theTieredStorageLookupsAnswerNoOffset() throws Exception {
        TopicPartition tp = topic("no-tiers");
        sendAsOneBatch(tp, BASE_TIME, BASE_TIME + 1);
        for (OffsetSpec spec : List.of(OffsetSpec.latestTiered(), OffsetSpec.earliestPendingUpload())) {
            ListOffsetsResult.ListOffsetsResultInfo answer = admin.listOffsets(Map.of(tp, spec)).partitionResult(tp).get();
            assertThat(answer.offset()).as("%s", spec).isEqualTo(-1);
            assertThat(answer.timestamp()).isEqualTo(-1);
        }
    }

    /** Sends records with these timestamps in one produce batch (the producer holds them until the flush). */
    private static void sendAsOneBatch(TopicPartition tp, long... timestamps) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of("linger.ms", 60_000))) {
            List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sent = new java.util.ArrayList<>();
            for (long timestamp : timestamps) {
                sent.add(producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), timestamp, null, "at " + timestamp)));
            }
            producer.flush();
            for (var metadata : sent) {
                metadata.get();
            }
        }
    }

    private static TopicPartition topic(String name) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all().get();
        return new TopicPartition(name, 0);
    }
}
