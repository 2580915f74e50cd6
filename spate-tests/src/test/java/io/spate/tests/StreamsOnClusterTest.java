package io.spate.tests;

import io.spate.tests.support.SpateCluster;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka Streams 4.4 on a 3-node Spate cluster: a windowed count behind a repartition step, with
 * {@code exactly_once_v2} while a node is killed with {@code kill -9} mid-run (the final counts
 * are exact: no input counted twice, none lost), and the same application at_least_once.
 */
class StreamsOnClusterTest {
    private static final int USERS = 20;
    private static final int EVENTS = 2_000;
    /** Every event falls in one hour-long window starting here, so a user's final count is its number of events. */
    private static final long WINDOW_START = 1_700_000_000_000L - 1_700_000_000_000L % 3_600_000L;

    @TempDir
    static Path tmp;
    private static SpateCluster cluster;

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

    @Test
    void exactlyOnceCountsAreExactAcrossANodeKilledMidRun() throws Exception {
        Map<String, Long> counts = run("eos", StreamsConfig.EXACTLY_ONCE_V2, true);
        assertThat(counts).isEqualTo(expected());
    }

    @Test
    void theSameApplicationRunsAtLeastOnce() throws Exception {
        Map<String, Long> counts = run("alos", StreamsConfig.AT_LEAST_ONCE, false);
        assertThat(counts).isEqualTo(expected());
    }

    private static Map<String, Long> expected() {
        Map<String, Long> expected = new TreeMap<>();
        for (int u = 0; u < USERS; u++) {
            expected.put(user(u) + "@" + WINDOW_START, (long) (EVENTS / USERS));
        }
        return expected;
    }

    private static String user(int u) {
        return String.format("u%02d", u);
    }

    /** Runs the application over the input, killing a node halfway when asked; the last count of each window, as read_committed sees it. */
    private Map<String, Long> run(String name, String guarantee, boolean killANode) throws Exception {
        String in = name + "-events";
        String out = name + "-counts";
        cluster.createTopic(in, 3, 3, Map.of("min.insync.replicas", "2"));
        cluster.createTopic(out, 3, 3, Map.of("min.insync.replicas", "2"));
        cluster.awaitFullIsr(in, 3, 3);
        cluster.awaitFullIsr(out, 3, 3);
        KafkaStreams streams = new KafkaStreams(topology(in, out), streamsConfig(name, guarantee));
        int killed = -1;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(clientProps(Map.of(ProducerConfig.ACKS_CONFIG, "all")),
                new StringSerializer(), new StringSerializer())) {
            streams.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> streams.state() == KafkaStreams.State.RUNNING);
            for (int i = 0; i < EVENTS; i++) {
                // Keyed by event, counted by user: the group-by crosses the repartition topic.
                producer.send(new ProducerRecord<>(in, null, WINDOW_START + i, "e" + i, user(i % USERS)));
                if (i == EVENTS / 2) {
                    producer.flush();
                    if (killANode) {
                        killed = cluster.awaitLeader(in, 0);
                        cluster.mark("killing node " + killed + " with the Streams application mid-run");
                        cluster.kill9(killed);
                    }
                }
                if (i % 100 == 99) {
                    Thread.sleep(20); // a steady stream, not one burst
                }
            }
            producer.flush();
            Map<String, Long> latest = new TreeMap<>();
            await().atMost(Duration.ofSeconds(180)).until(() -> {
                latest.putAll(lastCounts(out));
                return latest.equals(expected()) || streams.state() == KafkaStreams.State.ERROR;
            });
            assertThat(streams.state()).isNotEqualTo(KafkaStreams.State.ERROR);
            return latest;
        } finally {
            streams.close(Duration.ofSeconds(30));
            if (killed >= 0) {
                cluster.start(killed);
            }
        }
    }

    private static org.apache.kafka.streams.Topology topology(String in, String out) {
        Serde<String> strings = Serdes.String();
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(in, Consumed.with(strings, strings))
                .groupBy((event, user) -> user, Grouped.with("by-user", strings, strings))
                .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofHours(1)))
                .count()
                .toStream()
                .map((window, count) -> KeyValue.pair(window.key() + "@" + window.window().start(), String.valueOf(count)))
                .to(out, Produced.with(strings, strings));
        return builder.build();
    }

    private Properties streamsConfig(String name, String guarantee) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "streams-" + name);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "3");
        p.put(StreamsConfig.STATE_DIR_CONFIG, tmp.resolve("state-" + name).toString());
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        return p;
    }

    /** The last count written for each key, as a read_committed consumer reads the output from the start. */
    private static Map<String, Long> lastCounts(String topic) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(clientProps(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")),
                new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                partitions.add(new TopicPartition(topic, p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<String, Long> last = new HashMap<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> last.put(r.key(), Long.parseLong(r.value())));
            }
            return last;
        }
    }

    private static Properties clientProps(Map<String, String> settings) {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrap());
        p.putAll(settings);
        return p;
    }
}
