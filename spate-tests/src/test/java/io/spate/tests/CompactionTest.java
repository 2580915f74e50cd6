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
