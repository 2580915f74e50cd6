package io.spate.bench;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * The Kafka Streams side of bench-pipelines.sh: topologies A and B of the shared Kafka Streams
 * anchor, the ones Spate's examples {@code bench-a} and {@code bench-b} implement.
 * <ul>
 *   <li>A: {@code events} → keep {@code amount >= 10} → value {@code sendMicros,seq,user,TYPE,amount*100} → {@code out-a}.</li>
 *   <li>B: {@code events} → group by the value's user field (a repartition topic) → 1 s tumbling
 *       windows with 5 s grace → count, keeping the stamp of the latest event (RocksDB window
 *       store, changelog, caches off so every event emits one update) → {@code out-b}, key
 *       {@code user@windowStart}, value {@code sendMicros,seq,count,windowStart}.</li>
 * </ul>
 * <pre>PipelineStreamsApp --bootstrap B --topology a|b --guarantee alos|eos --commit-ms 100 --app-id ID --state-dir DIR
 *                    [--threads 1] [--prop key=value]...</pre>
 * Prints the effective settings ({@code CONFIG ...}) and every state change ({@code STATE RUNNING ...});
 * runs until SIGTERM.
 */
public final class PipelineStreamsApp {
    private PipelineStreamsApp() {
    }

    /** The {@code index}-th comma-separated field of {@code csv}. */
    static String field(String csv, int index) {
        int from = 0;
        for (int i = 0; i < index; i++) {
            from = csv.indexOf(',', from) + 1;
        }
        int to = csv.indexOf(',', from);
        return to < 0 ? csv.substring(from) : csv.substring(from, to);
    }

    static String reformat(String event) {
        String[] f = event.split(",", 6);
        return String.join(",", f[0], f[1], f[2], f[3].toUpperCase(Locale.ROOT), String.valueOf(Integer.parseInt(f[4]) * 100));
    }

    /** {count, sendMicros of the latest event, seq of the latest event}. */
    static final Serde<long[]> COUNT_AND_STAMP = Serdes.serdeFrom(
            (topic, a) -> a == null ? null : ByteBuffer.allocate(24).putLong(a[0]).putLong(a[1]).putLong(a[2]).array(),
            (topic, bytes) -> {
                if (bytes == null) {
                    return null;
                }
                ByteBuffer b = ByteBuffer.wrap(bytes);
                return new long[]{b.getLong(), b.getLong(), b.getLong()};
            });

    static Topology topology(String name, Properties props) {
        Serde<String> s = Serdes.String();
        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, String> events = builder.stream("events", Consumed.with(s, s));
        switch (name) {
            case "a" -> events.filter((user, v) -> Integer.parseInt(field(v, 4)) >= 10)
                    .mapValues(PipelineStreamsApp::reformat)
                    .to("out-a", Produced.with(s, s));
            case "b" -> events.groupBy((key, v) -> field(v, 2), Grouped.with("by-user", s, s))
                    .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofSeconds(1), Duration.ofSeconds(5)))
                    .aggregate(() -> new long[3],
                            (user, v, a) -> new long[]{a[0] + 1, Long.parseLong(field(v, 0)), Long.parseLong(field(v, 1))},
                            Materialized.<String, long[], WindowStore<Bytes, byte[]>>as("counts").withKeySerde(s).withValueSerde(COUNT_AND_STAMP))
                    .toStream()
                    .map((w, a) -> KeyValue.pair(w.key() + "@" + w.window().start(), a[1] + "," + a[2] + "," + a[0] + "," + w.window().start()))
                    .to("out-b", Produced.with(s, s));
            default -> throw new IllegalArgumentException("--topology must be a or b");
        }
        return builder.build(props);
    }

    private static Object shown(Map<String, Object> configs, String key) {
        Object v = configs.get(key);
        return v == null ? "client-default" : v;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>();
        List<String> extra = new ArrayList<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            String k = args[i].replaceFirst("^--", "");
            if (k.equals("prop")) {
                extra.add(args[i + 1]);
            } else {
                o.put(k, args[i + 1]);
            }
        }
        String topology = o.getOrDefault("topology", "a");
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, o.getOrDefault("app-id", "psbench-" + topology));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, o.getOrDefault("bootstrap", "127.0.0.1:9092"));
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
                o.getOrDefault("guarantee", "alos").equals("eos") ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, o.getOrDefault("commit-ms", "100"));
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, o.getOrDefault("threads", "1"));
        p.put(StreamsConfig.STATE_DIR_CONFIG, o.getOrDefault("state-dir", System.getProperty("java.io.tmpdir") + "/psbench-state"));
        for (String kv : extra) {
            int eq = kv.indexOf('=');
            p.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        Topology t = topology(topology, p);
        System.out.println(t.describe());
        StreamsConfig config = new StreamsConfig(p);
        Map<String, Object> producer = config.getProducerConfigs("probe");
        Map<String, Object> consumer = config.getMainConsumerConfigs("probe", "probe", 0);
        System.out.println("CONFIG processing.guarantee=" + config.getString(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)
                + " commit.interval.ms=" + config.getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)
                + " statestore.cache.max.bytes=" + config.getLong(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG)
                + " num.stream.threads=" + config.getInt(StreamsConfig.NUM_STREAM_THREADS_CONFIG)
                + " producer.linger.ms=" + shown(producer, "linger.ms") + " producer.batch.size=" + shown(producer, "batch.size")
                + " producer.acks=" + shown(producer, "acks")
                + " consumer.max.poll.records=" + shown(consumer, "max.poll.records")
                + " consumer.fetch.max.wait.ms=" + shown(consumer, "fetch.max.wait.ms")
                + " consumer.isolation.level=" + shown(consumer, "isolation.level")
                + " group.protocol=" + shown(consumer, "group.protocol")
                + "  (client-default: Streams sets nothing, the Kafka 4.4 client's default applies)");

        KafkaStreams streams = new KafkaStreams(t, p);
        CountDownLatch finished = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            System.out.println("STATE " + now + " at " + System.currentTimeMillis());
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                finished.countDown();
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(20));
            finished.countDown();
        }));
        streams.cleanUp();
        streams.start();
        finished.await();
    }
}
