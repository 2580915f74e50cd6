package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** cleanup.policy=compact: the latest value per key survives, tombstones go after delete.retention.ms. */
class CompactionTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).config("log.cleaner.backoff.ms", "100").start();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void compactionKeepsTheLatestValuePerKeyAndDropsExpiredTombstones() throws Exception {
        String topic = "compacted";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of(
                "cleanup.policy", "compact", "segment.bytes", "4096", "segment.ms", "300",
                "delete.retention.ms", "3000", "min.cleanable.dirty.ratio", "0.01"));
        Map<String, String> latest = new LinkedHashMap<>();
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
            for (int i = 0; i < 2_000; i++) {
                String key = "key-" + (i % 5);
                String value = "value-" + i;
                producer.send(new ProducerRecord<>(topic, 0, key, value));
                latest.put(key, value);
            }
            producer.send(new ProducerRecord<>(topic, 0, "key-4", null)).get();
            latest.remove("key-4");
            // Let the active segment age past segment.ms, then append so it rolls and every update is sealed.
            awaitSegmentAge(producer, topic, "roll-1");
        }
        long sizeBefore = topicBytes(topic);

        // First pass: one record per key, the tombstone still there (it is younger than delete.retention.ms).
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Map<String, String> seen = readAll(topic);
            assertThat(seen).containsEntry("key-0", latest.get("key-0")).containsEntry("key-3", latest.get("key-3"));
            assertThat(seen).containsKey("key-4");
            assertThat(seen.get("key-4")).isNull();
            assertThat(countRecords(topic)).isLessThanOrEqualTo(5 + 2);
        });
        // The cleaner may have run before sizeBefore was taken: compare with what 2,000 records take.
        assertThat(topicBytes(topic)).isLessThan(Math.min(sizeBefore + 1, 2_000L * 60 / 10));

        // After delete.retention.ms, a later pass removes the tombstone and the key is gone.
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
            await().pollDelay(Duration.ofMillis(3_100)).atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                awaitSegmentAge(producer, topic, "roll-n");
                assertThat(readAll(topic)).doesNotContainKey("key-4");
            });
        }
        Map<String, String> finalView = readAll(topic);
        for (String key : List.of("key-0", "key-1", "key-2", "key-3")) {
            assertThat(finalView).containsEntry(key, latest.get(key));
        }
    }

    /**
     * A producer whose only batch is superseded keeps it as an empty batch (as Kafka's cleaner
     * does: it holds the producer's last sequence for a replica that replays the log), and
     * kafka-clients' consumer reads across it to the latest values and the log's end.
     */
    @Test
    void aProducersLastBatchStaysEmptyAndConsumersReadAcrossIt() throws Exception {
        String topic = "compacted-producers";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of(
                "cleanup.policy", "compact", "segment.bytes", "4096", "segment.ms", "300", "min.cleanable.dirty.ratio", "0.01"));
        try (KafkaProducer<String, String> first = Clients.producer(node.bootstrapServers(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
            first.send(new ProducerRecord<>(topic, 0, "key-a", "first")).get();
        }
        try (KafkaProducer<String, String> second = Clients.producer(node.bootstrapServers(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
            second.send(new ProducerRecord<>(topic, 0, "key-a", "second")).get();
            second.send(new ProducerRecord<>(topic, 0, "key-b", "second")).get();
            awaitSegmentAge(second, topic, "roll-1");
        }
        await().atMost(Duration.ofSeconds(30)).ignoreException(java.nio.file.NoSuchFileException.class)
                .untilAsserted(() -> assertThat(emptyIdempotentBatches(topic)).isEqualTo(1));
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions(topic, 1));
            assertThat(records).extracting(ConsumerRecord::key, ConsumerRecord::value)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("key-a", "second"), org.assertj.core.groups.Tuple.tuple("key-b", "second"),
                            org.assertj.core.groups.Tuple.tuple("roll-1", "x"));
            assertThat(records.getFirst().offset()).as("the first producer's batch at 0 holds no record").isEqualTo(1);
        }
    }

    /** Batches in the topic's segment files that carry a producer id and no record, read with kafka-clients' own classes. */
    private static long emptyIdempotentBatches(String topic) throws Exception {
        long empty = 0;
        try (Stream<Path> files = Files.list(dataDir.resolve(topic + "-0"))) {
            for (Path f : files.filter(f -> f.toString().endsWith(".log")).toList()) {
                var records = org.apache.kafka.common.record.internal.MemoryRecords.readableRecords(java.nio.ByteBuffer.wrap(Files.readAllBytes(f)));
                for (var batch : records.batches()) {
                    if (batch.hasProducerId() && !batch.isControlBatch() && batch.countOrNull() == 0) {
                        batch.ensureValid();
                        empty++;
                    }
                }
            }
        }
        return empty;
    }

    private static void awaitSegmentAge(KafkaProducer<String, String> producer, String topic, String marker) throws Exception {
        long sent = System.nanoTime();
        await().pollDelay(Duration.ofMillis(350)).atMost(Duration.ofSeconds(5)).until(() -> System.nanoTime() - sent > 300_000_000L);
        producer.send(new ProducerRecord<>(topic, 0, marker, "x")).get();
    }

    private static Map<String, String> readAll(String topic) {
        Map<String, String> view = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            for (ConsumerRecord<String, String> record : Clients.readAll(consumer, Clients.partitions(topic, 1))) {
                if (record.key().startsWith("key-")) {
                    view.put(record.key(), record.value());
                }
            }
        }
        return view;
    }

    private static long countRecords(String topic) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            return Clients.readAll(consumer, Clients.partitions(topic, 1)).stream().filter(r -> r.key().startsWith("key-")).count();
        }
    }

    private static long topicBytes(String topic) throws Exception {
        try (Stream<Path> files = Files.list(dataDir.resolve(topic + "-0"))) {
            long total = 0;
            for (Path f : files.filter(f -> f.toString().endsWith(".log")).toList()) {
                total += Files.size(f);
            }
            return total;
        }
    }

}
