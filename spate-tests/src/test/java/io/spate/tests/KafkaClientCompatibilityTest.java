package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** The real kafka-clients 4.x producer and consumer against an embedded node. */
class KafkaClientCompatibilityTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;

    @BeforeAll
    static void startNode() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).start();
    }

    @AfterAll
    static void stopNode() {
        node.close();
    }

    record Sent(String key, String value, long timestamp, String header, int partition, long offset) {
    }

    @Test
    void idempotentProducerWithDefaultsIsReadBackExactlyWithKeysHeadersAndTimestamps() throws Exception {
        String topic = "defaults";
        Clients.createTopic(node.bootstrapServers(), topic, 3, Map.of());
        List<Sent> sent = produce(topic, 3, 3_000, Map.of());
        assertReadBack(topic, 3, sent);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "lz4", "zstd", "snappy"})
    void compressedBatchesAreStoredAsSentAndReadBack(String codec) throws Exception {
        String topic = "compressed-" + codec;
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        List<Sent> sent = produce(topic, 2, 2_000, Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec, ProducerConfig.LINGER_MS_CONFIG, 5));
        assertReadBack(topic, 2, sent);
    }

    @Test
    void acksZeroAndAcksOneAndAcksAllAllStore() throws Exception {
        String topic = "acks";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        List<Sent> all = new ArrayList<>();
        for (String acks : List.of("0", "1", "all")) {
            Map<String, Object> overrides = new HashMap<>(Map.of(ProducerConfig.ACKS_CONFIG, acks));
            if (!acks.equals("all")) {
                overrides.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
            }
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), overrides)) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, "k", acks + "-" + i));
                }
                producer.flush();
            }
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions(topic, 1));
            assertThat(records).hasSize(300);
            for (String acks : List.of("0", "1", "all")) {
                // Each producer's records arrive in its send order (different producers may interleave).
                assertThat(records.stream().map(ConsumerRecord::value).filter(v -> v.startsWith(acks + "-")).toList())
                        .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 100).mapToObj(i -> acks + "-" + i).toList());
            }
            for (int i = 0; i < records.size(); i++) {
                assertThat(records.get(i).offset()).isEqualTo(i);
            }
        }
    }

    @Test
    void seekAndOffsetLookupsByTimeEarliestAndLatest() throws Exception {
        String topic = "lookups";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        long base = System.currentTimeMillis() - 100_000;
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 20))) {
            for (int i = 0; i < 50; i++) {
                producer.send(new ProducerRecord<>(topic, 0, base + i * 1000L, "k" + i, "v" + i));
            }
            producer.flush();
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            assertThat(consumer.beginningOffsets(List.of(tp))).containsEntry(tp, 0L);
            assertThat(consumer.endOffsets(List.of(tp))).containsEntry(tp, 50L);
            Map<TopicPartition, OffsetAndTimestamp> byTime = consumer.offsetsForTimes(Map.of(tp, base + 20_500));
            assertThat(byTime.get(tp).offset()).isEqualTo(21);
            assertThat(byTime.get(tp).timestamp()).isEqualTo(base + 21_000);
            assertThat(consumer.offsetsForTimes(Map.of(tp, base + 1_000_000)).get(tp)).isNull();
            consumer.assign(List.of(tp));
            consumer.seek(tp, 42);
            List<ConsumerRecord<String, String>> tail = new ArrayList<>();
            while (tail.size() < 8) {
                consumer.poll(Duration.ofMillis(200)).forEach(tail::add);
            }
            assertThat(tail).extracting(ConsumerRecord::offset).containsExactly(42L, 43L, 44L, 45L, 46L, 47L, 48L, 49L);
            assertThat(tail).extracting(ConsumerRecord::value).startsWith("v42");
        }
    }

    @Test
    void idleConsumerLongPollsInsteadOfSpinningAndWakesOnNewData() throws Exception {
        String topic = "long-poll";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of("fetch.max.wait.ms", 500));
             KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long polls = 0;
            long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < until) {
                assertThat(consumer.poll(Duration.ofMillis(100))).isEmpty();
                polls++;
            }
            double fetches = fetchTotal(consumer);
            // Two idle seconds at max.wait 500 ms are a handful of fetches; a spinning server
            // (empty answers without waiting) would have made thousands.
            assertThat(fetches).isLessThan(40);
            assertThat(polls).isPositive();
            producer.send(new ProducerRecord<>(topic, 0, "k", "wake")).get();
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (got.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            assertThat(got).extracting(ConsumerRecord::value).containsExactly("wake");
        }
    }

    private static double fetchTotal(KafkaConsumer<?, ?> consumer) {
        return consumer.metrics().entrySet().stream()
                .filter(e -> e.getKey().name().equals("fetch-total") && e.getKey().group().equals("consumer-fetch-manager-metrics"))
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).sum();
    }

    @Test
    void manyPartitionsThroughIncrementalFetchSessionsDeliverEverything() throws Exception {
        String topic = "sessions";
        Clients.createTopic(node.bootstrapServers(), topic, 8, Map.of());
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of());
             KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            List<TopicPartition> partitions = Clients.partitions(topic, 8);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            // Rounds of produce then consume: only some partitions change between fetches, so the
            // consumer's incremental sessions must carry the others' positions correctly.
            for (int round = 0; round < 20; round++) {
                int partition = round % 8;
                producer.send(new ProducerRecord<>(topic, partition, "k", "r" + round)).get();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (got.size() < round + 1 && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(100)).forEach(got::add);
                }
            }
            assertThat(got).extracting(ConsumerRecord::value)
                    .containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(0, 20).mapToObj(i -> "r" + i).toList());
        }
    }

    private List<Sent> produce(String topic, int partitions, int count, Map<String, Object> overrides) throws Exception {
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        List<Sent> sent = new ArrayList<>();
        long now = System.currentTimeMillis();
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), overrides)) {
            for (int i = 0; i < count; i++) {
                String key = "key-" + (i % 37);
                String value = "value-" + i + "-" + "x".repeat(i % 200);
                ProducerRecord<String, String> record = new ProducerRecord<>(topic, i % partitions, now + i, key, value);
                record.headers().add(new RecordHeader("h", ("header-" + i).getBytes(StandardCharsets.UTF_8)));
                futures.add(producer.send(record));
                sent.add(new Sent(key, value, now + i, "header-" + i, i % partitions, -1));
            }
            producer.flush();
        }
        List<Sent> acknowledged = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            RecordMetadata meta = futures.get(i).get();
            Sent s = sent.get(i);
            assertThat(meta.partition()).isEqualTo(s.partition());
            acknowledged.add(new Sent(s.key(), s.value(), s.timestamp(), s.header(), meta.partition(), meta.offset()));
        }
        return acknowledged;
    }

    private void assertReadBack(String topic, int partitions, List<Sent> sent) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions(topic, partitions));
            assertThat(records).hasSize(sent.size());
            List<Sent> read = records.stream()
                    .map(r -> new Sent(r.key(), r.value(), r.timestamp(), new String(r.headers().lastHeader("h").value(), StandardCharsets.UTF_8), r.partition(), r.offset()))
                    .sorted(Comparator.comparing(Sent::partition).thenComparing(Sent::offset))
                    .toList();
            List<Sent> expected = sent.stream().sorted(Comparator.comparing(Sent::partition).thenComparing(Sent::offset)).toList();
            assertThat(read).containsExactlyElementsOf(expected);
            for (int p = 0; p < partitions; p++) {
                int partition = p;
                List<Long> offsets = read.stream().filter(s -> s.partition() == partition).map(Sent::offset).toList();
                for (int i = 0; i < offsets.size(); i++) {
                    assertThat(offsets.get(i)).as("offsets of partition %d are dense from 0", partition).isEqualTo(i);
                }
            }
        }
    }
}
