package io.spate.bench;

import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
import org.apache.kafka.streams.kstream.Aggregator;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Event processing time of a Kafka Streams application on a broker: a producer at a fixed rate,
 * a windowed count behind a repartition step ({@code exactly_once_v2} or at-least-once, a commit
 * every COMMIT_MS [100] ms, caches off), and a read_committed consumer of the counts. Each input carries its
 * send time (nanoTime; all three run in this JVM) and each count the send time of the event that
 * made it, so the latency of an event is the time from its send to its count being readable.
 * Prints {@code RESULT p50_us=.. p99_us=.. p999_us=.. events=.. missing=..}.
 *
 * <pre>java io.spate.bench.StreamsLatencyBench BOOTSTRAP eos|alos RATE WARMUP_S MEASURE_S PARTITIONS RF [COMMIT_MS]</pre>
 */
public final class StreamsLatencyBench {
    private static final int USERS = 1_000;

    private StreamsLatencyBench() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        boolean eos = args[1].equals("eos");
        int rate = Integer.parseInt(args[2]);
        int warmupS = Integer.parseInt(args[3]);
        int measureS = Integer.parseInt(args[4]);
        int partitions = Integer.parseInt(args[5]);
        short rf = Short.parseShort(args[6]);
        int commitMs = args.length > 7 ? Integer.parseInt(args[7]) : 100;
        String run = "slb-" + System.currentTimeMillis();
        String in = run + "-events";
        String out = run + "-counts";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(in, partitions, rf), new NewTopic(out, partitions, rf))).all().get();
        }
        Path state = Files.createTempDirectory("slb-state");
        KafkaStreams streams = new KafkaStreams(topology(in, out), streamsConfig(bootstrap, run, eos, rf, state, commitMs));
        streams.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        Histogram histogram = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        long measureFrom = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupS);
        long measureTo = measureFrom + TimeUnit.SECONDS.toNanos(measureS);
        AtomicBoolean done = new AtomicBoolean();
        Thread reader = Thread.ofPlatform().name("slb-reader").start(() -> read(bootstrap, out, partitions, histogram, measureFrom, measureTo, done));
        long sent = 0;
        long expected = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
            long start = System.nanoTime();
            long intervalNs = TimeUnit.SECONDS.toNanos(1) / rate;
            while (true) {
                long due = start + sent * intervalNs;
                long now = System.nanoTime();
                if (now < due) {
                    long sleep = due - now;
                    if (sleep > 200_000) {
                        Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                    }
                    continue;
                }
                if (now > measureTo) {
                    break;
                }
                // Key by event, count by user: the group-by crosses the repartition topic.
                producer.send(new ProducerRecord<>(in, "e" + sent, "u" + (sent % USERS) + "," + now));
                if (now >= measureFrom) {
                    expected++;
                }
                sent++;
            }
        }
        // Let the last counts arrive.
        long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < drainUntil && histogram.getTotalCount() < expected) {
            Thread.sleep(100);
        }
        done.set(true);
        reader.join(10_000);
        streams.close(Duration.ofSeconds(30));
        System.out.printf("RESULT p50_us=%d p99_us=%d p999_us=%d events=%d missing=%d%n", histogram.getValueAtPercentile(50),
                histogram.getValueAtPercentile(99), histogram.getValueAtPercentile(99.9), expected, Math.max(0, expected - histogram.getTotalCount()));
    }

    private static org.apache.kafka.streams.Topology topology(String in, String out) {
        Serde<String> strings = Serdes.String();
        StreamsBuilder builder = new StreamsBuilder();
        // The aggregate is "count,sendNanos of the latest event": every update carries the stamp of the event that made it.
        Aggregator<String, String, String> countAndStamp = (user, value, agg) -> {
            long count = agg.isEmpty() ? 0 : Long.parseLong(agg.substring(0, agg.indexOf(',')));
            return (count + 1) + "," + value.substring(value.indexOf(',') + 1);
        };
        builder.stream(in, Consumed.with(strings, strings))
                .groupBy((event, value) -> value.substring(0, value.indexOf(',')), Grouped.with("by-user", strings, strings))
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(1), Duration.ofSeconds(5)))
                .aggregate(() -> "", countAndStamp, Materialized.with(strings, strings))
                .toStream()
                .map((window, agg) -> KeyValue.pair(window.key() + "@" + window.window().start(), agg))
                .to(out, Produced.with(strings, strings));
        return builder.build();
    }

    private static Properties streamsConfig(String bootstrap, String run, boolean eos, short rf, Path state, int commitMs) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, run);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, eos ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, String.valueOf(commitMs));
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, String.valueOf(rf));
        p.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        return p;
    }

    private static void read(String bootstrap, String topic, int partitions, Histogram histogram, long from, long to, AtomicBoolean done) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000), new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> assigned = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                assigned.add(new TopicPartition(topic, p));
            }
            consumer.assign(assigned);
            consumer.seekToBeginning(assigned);
            while (!done.get()) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                    long now = System.nanoTime();
                    long sentAt = Long.parseLong(record.value().substring(record.value().indexOf(',') + 1));
                    if (sentAt >= from && sentAt <= to) {
                        histogram.recordValue(Math.min(histogram.getHighestTrackableValue(), TimeUnit.NANOSECONDS.toMicros(now - sentAt)));
                    }
                }
            }
        }
    }
}
