package io.spate.tests;

import io.spate.tests.support.Clients;
import io.spate.tests.support.SpateProcess;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A node process killed with SIGKILL in the middle of a produce stream, restarted on the same
 * data directory: what was acknowledged is there, in order, and the log is consistent.
 */
class CrashRecoveryTest {
    private static final int PARTITIONS = 3;

    @TempDir
    Path tmp;

    record Ack(int partition, long offset, String value) {
    }

    @Test
    void fsyncBeforeAckKeepsEveryAcknowledgedRecordAcrossKill9() throws Exception {
        Path dataDir = tmp.resolve("data");
        try (SpateProcess node = new SpateProcess(dataDir, Map.of()).start()) {
            Clients.createTopic(node.bootstrap(), "durable", PARTITIONS, Map.of("flush.messages", "1"));
            List<Ack> acked = produceUntilKilled(node, "durable", 3_000);
            assertThat(acked).hasSizeGreaterThanOrEqualTo(3_000);
            node.start();
            assertAckedRecordsPresentInOrder(node, "durable", acked);
        }
    }

    @Test
    void osFlushedLogIsAConsistentPrefixAfterKill9AndATornTail() throws Exception {
        Path dataDir = tmp.resolve("data");
        try (SpateProcess node = new SpateProcess(dataDir, Map.of()).start()) {
            Clients.createTopic(node.bootstrap(), "lazy", PARTITIONS, Map.of());
            List<Ack> acked = produceUntilKilled(node, "lazy", 3_000);
            // A machine crash can leave half a batch at the end of a segment: imitate one.
            Path segment = lastSegment(dataDir.resolve("lazy-0"));
            long sizeBefore = Files.size(segment);
            appendTornBatch(segment);
            node.start();
            assertThat(Files.size(segment)).as("the torn batch was cut").isLessThanOrEqualTo(sizeBefore);
            // The page cache survived the process, so even unflushed acknowledged records remain.
            Map<Integer, Integer> counts = assertAckedRecordsPresentInOrder(node, "lazy", acked);
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
                long offset = producer.send(new ProducerRecord<>("lazy", 0, "k", "value-999999999")).get().offset();
                assertThat(offset).as("appends continue right after the recovered log").isEqualTo(counts.get(0).longValue());
            }
        }
    }

    @Test
    void cleanStopWithSigtermThenRestartKeepsEverything() throws Exception {
        Path dataDir = tmp.resolve("data");
        try (SpateProcess node = new SpateProcess(dataDir, Map.of()).start()) {
            Clients.createTopic(node.bootstrap(), "clean", PARTITIONS, Map.of());
            List<Ack> acked = new ArrayList<>();
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
                for (int i = 0; i < 500; i++) {
                    var meta = producer.send(new ProducerRecord<>("clean", i % PARTITIONS, "k", "value-" + i)).get();
                    acked.add(new Ack(meta.partition(), meta.offset(), "value-" + i));
                }
            }
            assertThat(node.terminate()).as("JVM exit status after SIGTERM").isIn(0, 143);
            assertThat(dataDir.resolve(".spate-clean-shutdown")).as(node.output()).exists();
            assertThat(node.output()).contains("stopped cleanly");
            node.start();
            assertAckedRecordsPresentInOrder(node, "clean", acked);
        }
    }

    @Test
    void committedGroupOffsetsSurviveKill9() throws Exception {
        Path dataDir = tmp.resolve("data");
        Map<String, String> settings = Map.of("group.initial.rebalance.delay.ms", "0");
        try (SpateProcess node = new SpateProcess(dataDir, settings).start()) {
            Clients.createTopic(node.bootstrap(), "resume", 1, Map.of());
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>("resume", 0, "k", "value-" + i));
                }
                producer.flush();
            }
            Map<String, Object> group = Map.of("group.id", "resumers", "enable.auto.commit", false, "max.poll.records", 10);
            try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrap(), group)) {
                consumer.subscribe(List.of("resume"));
                List<ConsumerRecord<String, String>> got = new ArrayList<>();
                await().atMost(java.time.Duration.ofSeconds(60)).until(() -> {
                    consumer.poll(java.time.Duration.ofMillis(100)).forEach(got::add);
                    return got.size() >= 60;
                });
                consumer.commitSync(Map.of(new org.apache.kafka.common.TopicPartition("resume", 0), new org.apache.kafka.clients.consumer.OffsetAndMetadata(60)));
            }
            node.kill9();
            node.start();
            try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrap(), group)) {
                consumer.subscribe(List.of("resume"));
                List<ConsumerRecord<String, String>> got = new ArrayList<>();
                await().atMost(java.time.Duration.ofSeconds(60)).until(() -> {
                    consumer.poll(java.time.Duration.ofMillis(100)).forEach(got::add);
                    return got.size() >= 40;
                });
                assertThat(got.get(0).offset()).as("consumption resumes at the committed offset").isEqualTo(60);
                assertThat(got).extracting(ConsumerRecord::value).startsWith("value-60");
            }
        }
    }

    private List<Ack> produceUntilKilled(SpateProcess node, String topic, int killAfter) throws Exception {
        Queue acked = new Queue();
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
        KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), config);
        Thread sender = Thread.ofPlatform().start(() -> {
            for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                String value = "value-" + i;
                int partition = i % PARTITIONS;
                try {
                    producer.send(new ProducerRecord<>(topic, partition, "key-" + i, value), (meta, error) -> {
                        if (error == null) {
                            acked.add(new Ack(meta.partition(), meta.offset(), value));
                        }
                    });
                } catch (RuntimeException e) {
                    return;
                }
            }
        });
        await().atMost(java.time.Duration.ofSeconds(60)).until(() -> acked.size() >= killAfter);
        node.kill9();
        sender.interrupt();
        sender.join();
        producer.close(java.time.Duration.ZERO);
        return acked.snapshot();
    }

    /** Acknowledgements recorded by producer callbacks. */
    private static final class Queue {
        private final ConcurrentLinkedQueue<Ack> items = new ConcurrentLinkedQueue<>();

        void add(Ack ack) {
            items.add(ack);
        }

        int size() {
            return items.size();
        }

        List<Ack> snapshot() {
            return new ArrayList<>(items);
        }
    }

    /** Returns the number of records stored per partition. */
    private static Map<Integer, Integer> assertAckedRecordsPresentInOrder(SpateProcess node, String topic, List<Ack> acked) {
        Map<Integer, Map<Long, String>> stored = new ConcurrentHashMap<>();
        Map<Integer, Integer> counts = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrap(), Map.of())) {
            List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions(topic, PARTITIONS));
            for (ConsumerRecord<String, String> record : records) {
                stored.computeIfAbsent(record.partition(), p -> new HashMap<>()).put(record.offset(), record.value());
            }
            for (int p = 0; p < PARTITIONS; p++) {
                int partition = p;
                List<Long> offsets = records.stream().filter(r -> r.partition() == partition).map(ConsumerRecord::offset).toList();
                for (int i = 0; i < offsets.size(); i++) {
                    assertThat(offsets.get(i)).as("partition %d offsets are dense", partition).isEqualTo(i);
                }
                List<Integer> sequence = records.stream().filter(r -> r.partition() == partition)
                        .map(r -> Integer.parseInt(r.value().substring("value-".length()))).toList();
                assertThat(sequence).as("partition %d keeps send order", partition).isSorted();
                counts.put(partition, offsets.size());
            }
        }
        for (Ack ack : acked) {
            assertThat(stored.getOrDefault(ack.partition(), Map.of()).get(ack.offset()))
                    .as("acknowledged record at %d/%d", ack.partition(), ack.offset()).isEqualTo(ack.value());
        }
        return counts;
    }

    private static Path lastSegment(Path partitionDir) throws IOException {
        try (Stream<Path> files = Files.list(partitionDir)) {
            return files.filter(f -> f.toString().endsWith(".log")).sorted().reduce((a, b) -> b).orElseThrow();
        }
    }

    /** Writes the first part of a plausible batch header (length says 500 bytes, only 40 follow). */
    private static void appendTornBatch(Path segment) throws IOException {
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer torn = ByteBuffer.allocate(52);
            torn.putLong(999_999).putInt(500).putInt(0).put((byte) 2);
            torn.position(torn.capacity()).flip();
            channel.write(torn);
        }
    }
}
