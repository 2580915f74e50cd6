package io.spate.tests;

import io.spate.tests.support.SpateCluster;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Exactly-once consume-transform-produce (KIP-98, KIP-447) on a 3-node cluster while, in separate
 * runs, the node of the transaction coordinator, of the output partition's leader or of the
 * consumer group's coordinator is killed with {@code kill -9} mid-stream: at the end the output
 * holds each input record's result exactly once, as a read_committed consumer reads it.
 */
class ClusterTransactionsTest {
    private static final int INPUT = 400;

    @TempDir
    static Path tmp;
    private static SpateCluster cluster;

    enum Victim { TRANSACTION_COORDINATOR, OUTPUT_LEADER, GROUP_COORDINATOR }

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("transaction.state.log.num.partitions", "5",
                "offsets.topic.num.partitions", "5")).start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Victim.class)
    void eachInputRecordsResultIsInTheOutputExactlyOnce(Victim victim) throws Exception {
        String name = "ctp-" + victim.name().toLowerCase();
        String in = name + "-in";
        String out = name + "-out";
        cluster.createTopic(in, 2, 3, Map.of("min.insync.replicas", "2"));
        cluster.createTopic(out, 2, 3, Map.of("min.insync.replicas", "2"));
        cluster.awaitFullIsr(in, 2, 3);
        cluster.awaitFullIsr(out, 2, 3);
        try (KafkaProducer<String, String> plain = new KafkaProducer<>(props(Map.of(ProducerConfig.ACKS_CONFIG, "all")), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < INPUT; i++) {
                plain.send(new ProducerRecord<>(in, "k" + i, "v" + i));
            }
            plain.flush();
        }
        AtomicInteger committed = new AtomicInteger();
        Pipeline pipeline = new Pipeline(name, in, out, committed);
        Thread worker = Thread.ofPlatform().name(name).start(pipeline);
        int killed = -1;
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> committed.get() >= INPUT / 4 || pipeline.failure != null);
            killed = switch (victim) {
                case TRANSACTION_COORDINATOR -> cluster.admin().describeTransactions(List.of(name)).all().get().get(name).coordinatorId();
                case OUTPUT_LEADER -> cluster.awaitLeader(out, 0);
                case GROUP_COORDINATOR -> cluster.admin().describeConsumerGroups(List.of(name)).all().get().get(name).coordinator().id();
            };
            cluster.mark("killing node " + killed + " (" + victim + ") after " + committed.get() + " records committed");
            cluster.kill9(killed);
            await().atMost(Duration.ofSeconds(120)).until(() -> committed.get() >= INPUT || pipeline.failure != null);
        } finally {
            pipeline.stop = true;
            worker.join(60_000);
            if (killed >= 0) {
                cluster.start(killed);
            }
        }
        assertThat(pipeline.failure).isNull();
        Map<String, Long> results = readCommitted(out).stream().collect(Collectors.groupingBy(Function.identity(), TreeMap::new, Collectors.counting()));
        Map<String, Long> expected = new TreeMap<>();
        for (int i = 0; i < INPUT; i++) {
            expected.put("V" + i, 1L);
        }
        assertThat(results).isEqualTo(expected);
    }

    /** The application: read a batch, write its results and its offsets in one transaction; on any failure abort and rewind. */
    private static final class Pipeline implements Runnable {
        final String id;
        final String in;
        final String out;
        final AtomicInteger committed;
        volatile boolean stop;
        volatile Throwable failure;

        Pipeline(String id, String in, String out, AtomicInteger committed) {
            this.id = id;
            this.in = in;
            this.out = out;
            this.committed = committed;
        }

        @Override
        public void run() {
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props(Map.of(ConsumerConfig.GROUP_ID_CONFIG, id,
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false", ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "25")),
                    new StringDeserializer(), new StringDeserializer())) {
                consumer.subscribe(List.of(in));
                KafkaProducer<String, String> producer = newProducer();
                try {
                    while (!stop && committed.get() < INPUT) {
                        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                        if (records.isEmpty()) {
                            continue;
                        }
                        try {
                            producer.beginTransaction();
                            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                            for (ConsumerRecord<String, String> r : records) {
                                producer.send(new ProducerRecord<>(out, r.key(), r.value().toUpperCase()));
                                offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                            }
                            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                            producer.commitTransaction();
                            committed.addAndGet(records.count());
                        } catch (ProducerFencedException e) {
                            throw e;
                        } catch (KafkaException e) {
                            SpateCluster.log(id + ": transaction failed (" + e + "); aborting and rewinding");
                            producer = abortOrRenew(producer);
                            rewind(consumer);
                        }
                    }
                } finally {
                    producer.close(Duration.ofSeconds(5));
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        private KafkaProducer<String, String> newProducer() {
            KafkaProducer<String, String> producer = new KafkaProducer<>(props(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id,
                    ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000")), new StringSerializer(), new StringSerializer());
            producer.initTransactions();
            return producer;
        }

        private KafkaProducer<String, String> abortOrRenew(KafkaProducer<String, String> producer) {
            try {
                producer.abortTransaction();
                return producer;
            } catch (KafkaException e) {
                // A producer in a fatal state: a new one with the same id fences it and aborts what it left open.
                producer.close(Duration.ZERO);
                return newProducer();
            }
        }

        /** Back to the committed offsets: what the aborted transaction read is read again. */
        private static void rewind(KafkaConsumer<String, String> consumer) {
            Set<TopicPartition> assigned = consumer.assignment();
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned, Duration.ofSeconds(60));
            for (TopicPartition tp : assigned) {
                OffsetAndMetadata offset = committed.get(tp);
                if (offset == null) {
                    consumer.seekToBeginning(List.of(tp));
                } else {
                    consumer.seek(tp, offset.offset());
                }
            }
        }
    }

    private static List<String> readCommitted(String topic) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")), new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<String> values = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
                return partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
            });
            return values;
        }
    }

    private static Properties props(Map<String, String> settings) {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrap());
        p.putAll(settings);
        return p;
    }
}
