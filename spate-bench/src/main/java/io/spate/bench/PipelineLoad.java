package io.spate.bench;

import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Load generator and latency consumer for the pipeline benchmark (bench-pipelines.sh), on the
 * measuring rules of the shared Kafka Streams anchor, so that Kafka Streams on Kafka and
 * Spate's pipelines are timed by the same code. It talks to the broker only (the processing runs
 * elsewhere: a Kafka Streams JVM, or inside Spate).
 *
 * <p>{@code setup --bootstrap B --delete t1,t2 [--delete-prefix P] --create t1 [--partitions 6] [--rf 1]
 * [--config k=v,k=v] [--alter t2,t3]}
 * deletes topics (and those starting with P), waits until they are gone, creates the listed
 * ones (with the topic configs of --config) and waits until every partition has a leader;
 * --alter sets the --config values on existing topics instead. Prints each created or altered
 * topic's partitions, replication factor and min.insync.replicas.
 *
 * <p>{@code ready --bootstrap B [--nodes N] [--timeout-s 120]} waits until the cluster answers and
 * lists at least N brokers.
 *
 * <p>{@code run --bootstrap B --out out-a|out-b --expect a|b --rate R --warmup-s W --measure-s M --drain-s D [--label L]
 * [--cpu-pids name=pid,...] [--pprop k=v]... [--cprop k=v]...}:
 * <ul>
 *   <li>Events: key = one of 1000 users {@code u0000..u0999} (uniform), value about 100 bytes of CSV
 *       {@code sendMicros,seq,user,type,amount,xxx...}; sendMicros is the wall clock (epoch µs) taken
 *       just before {@code send()}, which is also the record timestamp (in ms). Paced with nanoTime
 *       at R events/s for W + M seconds.</li>
 *   <li>Latency: a read_committed consumer ({@code fetch.max.wait.ms=100}) assigned to every output
 *       partition from its end, before the first event; latency = wall clock when poll() returns minus
 *       the sendMicros at the head of the output value. The first output of a seq counts; later ones
 *       are duplicates. Statistics (HdrHistogram, 3 digits) cover events sent in the measurement
 *       window [W, W+M).</li>
 *   <li>Expected outputs: topology A one per window event with amount >= 10, B one per window event.
 *       After the producer stops the consumer reads up to D seconds more; outputs still absent are
 *       {@code missing}.</li>
 *   <li>Checks besides latency: the output's fields against the event that made it ({@code wrong}),
 *       outputs for events that should have none ({@code unexpected}), and for B that every
 *       {@code user@window} key's counts go 1, 2, 3... ({@code count_breaks}).</li>
 * </ul>
 * Prints one {@code RESULT k=v ...} line, a {@code SLICES} line (p50/p99 per slice of send time)
 * and, when outputs are missing, a few {@code MISSING} samples.
 */
public final class PipelineLoad {
    private static final int USERS = 1_000;
    private static final String[] TYPES = {"view", "click", "cart", "buy"};
    private static final long MAX_LATENCY_US = TimeUnit.HOURS.toMicros(1);
    private static final int SLICE_S = 10;

    private final Map<String, String> opts = new HashMap<>();
    private final List<String> producerProps = new ArrayList<>();
    private final List<String> consumerProps = new ArrayList<>();

    private PipelineLoad() {
    }

    public static void main(String[] args) throws Exception {
        PipelineLoad load = new PipelineLoad();
        for (int i = 1; i + 1 < args.length; i += 2) {
            String key = args[i].replaceFirst("^--", "");
            switch (key) {
                case "pprop" -> load.producerProps.add(args[i + 1]);
                case "cprop" -> load.consumerProps.add(args[i + 1]);
                default -> load.opts.put(key, args[i + 1]);
            }
        }
        switch (args.length > 0 ? args[0] : "") {
            case "setup" -> load.setup();
            case "run" -> load.run();
            case "ready" -> load.ready();
            default -> {
                System.err.println("usage: PipelineLoad setup|run --bootstrap HOST:PORT ...");
                System.exit(2);
            }
        }
    }

    private String opt(String key, String fallback) {
        return opts.getOrDefault(key, fallback);
    }

    private static List<String> list(String csv) {
        List<String> out = new ArrayList<>();
        for (String s : csv.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    // ---------------------------------------------------------------- ready

    /** Waits until the broker answers DescribeCluster and lists topics (--timeout-s, default 120); prints the milliseconds. */
    private void ready() throws Exception {
        long start = System.currentTimeMillis();
        long timeoutMs = Long.parseLong(opt("timeout-s", "120")) * 1_000;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, opt("bootstrap", "127.0.0.1:9092"),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000))) {
            waitUntil(() -> {
                try {
                    int nodes = admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).size();
                    admin.listTopics().names().get(3, TimeUnit.SECONDS);
                    return nodes >= Integer.parseInt(opt("nodes", "1"));
                } catch (java.util.concurrent.TimeoutException | org.apache.kafka.common.KafkaException e) {
                    return false;
                }
            }, timeoutMs, "no broker answering at " + opt("bootstrap", "?") + " after " + timeoutMs + " ms");
        }
        System.out.println("READY_MS " + (System.currentTimeMillis() - start));
    }

    // ---------------------------------------------------------------- setup

    private void setup() throws Exception {
        List<String> delete = list(opt("delete", ""));
        List<String> create = list(opt("create", ""));
        String prefix = opt("delete-prefix", "");
        int partitions = Integer.parseInt(opt("partitions", "6"));
        short rf = Short.parseShort(opt("rf", "1"));
        Map<String, String> configs = new LinkedHashMap<>();
        for (String kv : list(opt("config", ""))) {
            configs.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        List<String> alter = list(opt("alter", ""));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, opt("bootstrap", "127.0.0.1:9092")))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<String> gone = existing.stream().filter(t -> delete.contains(t) || create.contains(t) || (!prefix.isEmpty() && t.startsWith(prefix))).toList();
            if (!gone.isEmpty()) {
                admin.deleteTopics(gone).all().get(60, TimeUnit.SECONDS);
                waitUntil(() -> {
                    Set<String> now = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                    return gone.stream().noneMatch(now::contains);
                }, 120_000, "topics " + gone + " still listed 120 s after their deletion");
            }
            for (int attempt = 0; !create.isEmpty(); attempt++) {
                try {
                    Set<String> now = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                    List<NewTopic> missing = create.stream().filter(t -> !now.contains(t)).map(t -> new NewTopic(t, partitions, rf).configs(configs)).toList();
                    if (!missing.isEmpty()) {
                        admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
                    }
                    break;
                } catch (ExecutionException e) {
                    // a topic deleted a moment ago can still be on its way out
                    if (attempt >= 50) {
                        throw e;
                    }
                    Thread.sleep(200);
                }
            }
            if (!create.isEmpty()) {
                waitUntil(() -> {
                    Map<String, TopicDescription> d = admin.describeTopics(create).allTopicNames().get(30, TimeUnit.SECONDS);
                    return d.values().stream().allMatch(td -> td.partitions().size() == partitions
                            && td.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
                }, 120_000, "topics " + create + " have no leader for every partition after 120 s");
            }
            if (!alter.isEmpty() && !configs.isEmpty()) {
                Map<org.apache.kafka.common.config.ConfigResource, java.util.Collection<org.apache.kafka.clients.admin.AlterConfigOp>> ops = new HashMap<>();
                for (String t : alter) {
                    ops.put(new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, t),
                            configs.entrySet().stream().map(e -> new org.apache.kafka.clients.admin.AlterConfigOp(
                                    new org.apache.kafka.clients.admin.ConfigEntry(e.getKey(), e.getValue()),
                                    org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)).toList());
                }
                admin.incrementalAlterConfigs(ops).all().get(60, TimeUnit.SECONDS);
            }
            System.out.println("setup: deleted " + gone + (create.isEmpty() ? "" : ", created " + create + " (" + partitions + " partitions, RF " + rf
                    + (configs.isEmpty() ? "" : ", " + configs) + ")") + (alter.isEmpty() ? "" : ", altered " + alter + " (" + configs + ")"));
            List<String> shown = new ArrayList<>(create);
            shown.addAll(alter);
            if (!shown.isEmpty()) {
                Map<String, TopicDescription> d = admin.describeTopics(shown).allTopicNames().get(30, TimeUnit.SECONDS);
                List<org.apache.kafka.common.config.ConfigResource> res = shown.stream().map(t -> new org.apache.kafka.common.config.ConfigResource(
                        org.apache.kafka.common.config.ConfigResource.Type.TOPIC, t)).toList();
                var described = admin.describeConfigs(res).all().get(30, TimeUnit.SECONDS);
                for (String t : shown) {
                    TopicDescription td = d.get(t);
                    var cfg = described.get(new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, t));
                    var minIsr = cfg == null ? null : cfg.get("min.insync.replicas");
                    System.out.println("TOPIC " + t + " partitions=" + td.partitions().size()
                            + " rf=" + td.partitions().stream().mapToInt(p -> p.replicas().size()).min().orElse(0)
                            + " leaders=" + td.partitions().stream().map(p -> p.leader() == null ? "-" : String.valueOf(p.leader().id())).toList()
                            + " min.insync.replicas=" + (minIsr == null ? "?" : minIsr.value()));
                }
            }
        }
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void waitUntil(Check check, long timeoutMs, String failure) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            try {
                if (check.ok()) {
                    return;
                }
            } catch (ExecutionException e) {
                // not there yet
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException(failure);
            }
            Thread.sleep(100);
        }
    }

    // ---------------------------------------------------------------- run

    /**
     * What the generator remembers of each event, packed in an int so the consumer can check the
     * output against it: user (bits 0-9), type (10-11), amount (12-18), sent (19),
     * acknowledged (20), input partition (21-28).
     */
    private static int pack(int user, int type, int amount) {
        return user | type << 10 | amount << 12 | 1 << 19;
    }

    private static int user(int meta) {
        return meta & 0x3ff;
    }

    private static int type(int meta) {
        return meta >>> 10 & 3;
    }

    private static int amount(int meta) {
        return meta >>> 12 & 0x7f;
    }

    private static boolean sent(int meta) {
        return (meta & 1 << 19) != 0;
    }

    private static boolean acked(int meta) {
        return (meta & 1 << 20) != 0;
    }

    private static int partition(int meta) {
        return meta >>> 21 & 0xff;
    }

    /** The consumer side: what arrived, per seq, and how late. */
    private static final class Tally {
        final Histogram window = new Histogram(MAX_LATENCY_US, 3);
        final Histogram[] slices;
        final BitSet seen = new BitSet();
        final Map<String, Long> lastCount = new HashMap<>();
        final AtomicLong windowReceived = new AtomicLong();
        long total;
        long dups;
        long negative;
        long wrong;
        long unexpected;
        long countBreaks;
        long receivedInWindowByRecvTime;
        final List<String> wrongSamples = new ArrayList<>();

        Tally(int slices) {
            this.slices = new Histogram[slices];
            for (int i = 0; i < slices; i++) {
                this.slices[i] = new Histogram(MAX_LATENCY_US, 2);
            }
        }
    }

    private void run() throws Exception {
        String bootstrap = opt("bootstrap", "127.0.0.1:9092");
        String in = opt("in", "events");
        String out = opt("out", "out-a");
        boolean topologyA = opt("expect", "a").equals("a");
        double rate = Double.parseDouble(opt("rate", "10000"));
        if (rate <= 0) {
            throw new IllegalArgumentException("--rate must be positive: this benchmark paces its events");
        }
        int warmupS = Integer.parseInt(opt("warmup-s", "10"));
        int measureS = Integer.parseInt(opt("measure-s", "30"));
        int drainS = Integer.parseInt(opt("drain-s", "20"));
        int size = Integer.parseInt(opt("size", "100"));
        String label = opt("label", "run");

        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.CLIENT_ID_CONFIG, "pipeline-bench-loadgen");
        putAll(pp, producerProps);
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.CLIENT_ID_CONFIG, "pipeline-bench-latency");
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        cp.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        putAll(cp, consumerProps);
        System.out.println("CONFIG producer " + pp + " (other settings: Kafka 4.4 client defaults)");
        System.out.println("CONFIG consumer " + cp);

        long totalEvents = (long) Math.ceil(rate * (warmupS + measureS)) + 16;
        if (totalEvents > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("too many events for one run: " + totalEvents);
        }
        AtomicIntegerArray meta = new AtomicIntegerArray((int) totalEvents);
        AtomicIntegerArray sendOffsetUs = new AtomicIntegerArray((int) totalEvents);
        int sliceCount = (warmupS + measureS + SLICE_S - 1) / SLICE_S;
        Tally tally = new Tally(sliceCount);
        // t0, window start, window end (epoch µs): set just before the first send, read by the consumer thread
        AtomicLongArray window = new AtomicLongArray(3);
        AtomicLong expected = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        AtomicLong ackedInWindow = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        List<String> errorSamples = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        CountDownLatch consumerReady = new CountDownLatch(1);
        String[] users = new String[USERS];
        for (int i = 0; i < USERS; i++) {
            users[i] = String.format(Locale.ROOT, "u%04d", i);
        }

        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer());
        Thread reader = Thread.ofPlatform().name("latency-consumer").start(() -> {
            List<TopicPartition> tps = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(out)) {
                tps.add(new TopicPartition(p.topic(), p.partition()));
            }
            consumer.assign(tps);
            consumer.seekToEnd(tps);
            tps.forEach(consumer::position);
            consumerReady.countDown();
            while (!stop.get()) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(20));
                if (records.isEmpty()) {
                    continue;
                }
                long now = nowMicros();
                if (now >= window.get(1) && now < window.get(2)) {
                    tally.receivedInWindowByRecvTime += records.count();
                }
                for (ConsumerRecord<String, String> r : records) {
                    take(r, now, topologyA, users, meta, window, tally);
                }
            }
        });
        if (!consumerReady.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the latency consumer found no partitions of " + out + " within 60 s");
        }

        String[] cpuPids = opt("cpu-pids", "").isEmpty() ? new String[0] : opt("cpu-pids", "").split(",");
        String self = String.valueOf(ProcessHandle.current().pid());
        long[][] cpu = new long[2][cpuPids.length + 1];
        long[][] machine = new long[2][];

        SplittableRandom random = new SplittableRandom(42);
        String padding = "x".repeat(size);
        StringBuilder value = new StringBuilder(size + 32);
        long seq = 0;
        long maxBehind = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            long t0 = nowMicros();
            long windowStart = t0 + warmupS * 1_000_000L;
            long windowEnd = windowStart + measureS * 1_000_000L;
            window.set(1, windowStart);
            window.set(2, windowEnd);
            window.set(0, t0);
            long t0Ns = System.nanoTime();
            long runNs = (warmupS + measureS) * 1_000_000_000L;
            long cpuMarkNs = t0Ns + warmupS * 1_000_000_000L;
            int cpuMark = 0;
            while (true) {
                long elapsedNs = System.nanoTime() - t0Ns;
                if (cpuMark < 2 && System.nanoTime() >= cpuMarkNs) {
                    for (int i = 0; i < cpuPids.length; i++) {
                        cpu[cpuMark][i] = procTicks(cpuPids[i].split("=")[1]);
                    }
                    cpu[cpuMark][cpuPids.length] = procTicks(self);
                    machine[cpuMark] = machineTicks();
                    cpuMark++;
                    cpuMarkNs = t0Ns + runNs;
                }
                if (elapsedNs >= runNs) {
                    break;
                }
                long due = Math.min((long) (elapsedNs / 1e9 * rate), totalEvents - 1);
                if (seq >= due) {
                    LockSupport.parkNanos(200_000);
                    continue;
                }
                maxBehind = Math.max(maxBehind, due - seq);
                while (seq < due) {
                    int user = random.nextInt(USERS);
                    int type = random.nextInt(TYPES.length);
                    int amount = random.nextInt(100);
                    long sendMicros = nowMicros();
                    int s = (int) seq;
                    meta.set(s, pack(user, type, amount));
                    sendOffsetUs.set(s, (int) Math.min(Integer.MAX_VALUE, sendMicros - t0));
                    value.setLength(0);
                    value.append(sendMicros).append(',').append(seq).append(',').append(users[user]).append(',')
                            .append(TYPES[type]).append(',').append(amount).append(',');
                    if (value.length() < size) {
                        value.append(padding, 0, size - value.length());
                    }
                    boolean inWindow = sendMicros >= windowStart && sendMicros < windowEnd;
                    if (inWindow && (!topologyA || amount >= 10)) {
                        expected.incrementAndGet();
                    }
                    Callback callback = (md, e) -> {
                        if (e != null) {
                            errors.incrementAndGet();
                            if (errorSamples.size() < 5) {
                                errorSamples.add("seq " + s + ": " + e);
                            }
                            return;
                        }
                        acked.incrementAndGet();
                        if (inWindow) {
                            ackedInWindow.incrementAndGet();
                        }
                        int p = md.partition() & 0xff;
                        int old;
                        do {
                            old = meta.get(s);
                        } while (!meta.compareAndSet(s, old, old | 1 << 20 | p << 21));
                    };
                    producer.send(new ProducerRecord<>(in, null, sendMicros / 1_000, users[user], value.toString()), callback);
                    seq++;
                }
            }
            producer.flush();
        }
        long drainDeadline = System.currentTimeMillis() + drainS * 1_000L;
        while (System.currentTimeMillis() < drainDeadline && tally.windowReceived.get() < expected.get()) {
            Thread.sleep(10);
        }
        stop.set(true);
        reader.join();
        consumer.close();

        report(label, rate, seq, acked.get(), ackedInWindow.get(), errors.get(), expected.get(), measureS, maxBehind, tally,
                cpuPids, cpu, machine);
        for (String e : errorSamples) {
            System.out.println("SEND_ERROR " + e);
        }
        for (String w : tally.wrongSamples) {
            System.out.println("WRONG " + w);
        }
        printMissing(seq, topologyA, meta, sendOffsetUs, window, tally, users);
    }

    private static void putAll(Properties props, List<String> pairs) {
        for (String kv : pairs) {
            int eq = kv.indexOf('=');
            props.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
    }

    /** One output record: its latency if it is the first for its seq, and whether it is right. */
    private static void take(ConsumerRecord<String, String> r, long now, boolean topologyA, String[] users, AtomicIntegerArray meta,
                             AtomicLongArray window, Tally tally) {
        String v = r.value();
        tally.total++;
        int c1 = v == null ? -1 : v.indexOf(',');
        int c2 = c1 < 0 ? -1 : v.indexOf(',', c1 + 1);
        if (c1 <= 0) {
            tally.wrong++;
            sample(tally, "unparsable output " + r.topic() + "-" + r.partition() + "@" + r.offset() + ": " + v);
            return;
        }
        long send = Long.parseLong(v, 0, c1, 10);
        int seq = Integer.parseInt(v, c1 + 1, c2 < 0 ? v.length() : c2, 10);
        int m = seq >= 0 && seq < meta.length() ? meta.get(seq) : 0;
        if (!sent(m)) {
            tally.unexpected++;
            sample(tally, "output for an event never sent, seq " + seq + ": " + r.key() + " -> " + v);
            return;
        }
        if (tally.seen.get(seq)) {
            tally.dups++;
            return;
        }
        tally.seen.set(seq);
        if (topologyA) {
            if (amount(m) < 10) {
                tally.unexpected++;
                sample(tally, "output for an event the filter drops, seq " + seq + ": " + v);
            }
            String want = send + "," + seq + "," + users[user(m)] + "," + TYPES[type(m)].toUpperCase(Locale.ROOT) + "," + amount(m) * 100;
            if (!want.equals(v) || !users[user(m)].equals(r.key())) {
                tally.wrong++;
                sample(tally, "A seq " + seq + ": got " + r.key() + " -> " + v + ", want " + users[user(m)] + " -> " + want);
            }
        } else {
            long windowStart = send / 1_000 - (send / 1_000) % 1_000;
            String wantKey = users[user(m)] + "@" + windowStart;
            String[] f = v.split(",");
            boolean ok = f.length == 4 && wantKey.equals(r.key()) && f[3].equals(String.valueOf(windowStart));
            if (!ok) {
                tally.wrong++;
                sample(tally, "B seq " + seq + ": got " + r.key() + " -> " + v + ", want key " + wantKey + " and window " + windowStart);
            } else {
                long count = Long.parseLong(f[2]);
                Long last = tally.lastCount.put(r.key(), count);
                if (count != (last == null ? 1 : last + 1)) {
                    tally.countBreaks++;
                    sample(tally, "B key " + r.key() + ": count " + count + " after " + last + " (seq " + seq + ", "
                            + r.topic() + "-" + r.partition() + "@" + r.offset() + ")");
                }
            }
        }
        long latency = now - send;
        if (latency < 0) {
            tally.negative++;
            latency = 0;
        }
        latency = Math.min(latency, MAX_LATENCY_US - 1);
        int slice = (int) ((send - window.get(0)) / (SLICE_S * 1_000_000L));
        if (slice >= 0 && slice < tally.slices.length) {
            tally.slices[slice].recordValue(latency);
        }
        if (send >= window.get(1) && send < window.get(2)) {
            tally.window.recordValue(latency);
            tally.windowReceived.incrementAndGet();
        }
    }

    private static void sample(Tally tally, String what) {
        if (tally.wrongSamples.size() < 10) {
            tally.wrongSamples.add(what);
        }
    }

    private static void report(String label, double rate, long sent, long acked, long ackedInWindow, long errors, long expected, int measureS,
                               long maxBehind, Tally t, String[] cpuPids, long[][] cpu, long[][] machine) {
        Histogram h = t.window;
        StringBuilder r = new StringBuilder("RESULT label=" + label);
        r.append(String.format(Locale.ROOT, " target_rate=%.0f sent=%d acked=%d errors=%d in_rate=%.0f out_rate_by_recv=%.0f",
                rate, sent, acked, errors, ackedInWindow / (double) measureS, t.receivedInWindowByRecvTime / (double) measureS));
        r.append(String.format(Locale.ROOT, " expected=%d received=%d missing=%d dups=%d unexpected=%d wrong=%d count_breaks=%d negative=%d total_outputs=%d",
                expected, t.windowReceived.get(), expected - t.windowReceived.get(), t.dups, t.unexpected, t.wrong, t.countBreaks, t.negative, t.total));
        r.append(String.format(Locale.ROOT, " p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f mean_ms=%.2f",
                h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3, h.getMean() / 1e3));
        r.append(String.format(Locale.ROOT, " max_sched_lag_ms=%.1f", maxBehind / rate * 1000));
        if (machine[0] != null && machine[1] != null) {
            long hz = 100; // USER_HZ
            for (int i = 0; i <= cpuPids.length; i++) {
                String name = i < cpuPids.length ? cpuPids[i].split("=")[0] : "bench";
                long d = cpu[1][i] - cpu[0][i];
                r.append(String.format(Locale.ROOT, " cpu_%s=%.0f", name, cpu[0][i] < 0 || cpu[1][i] < 0 ? -1.0 : d / (double) hz / measureS * 100));
            }
            long total = machine[1][0] - machine[0][0];
            long idle = machine[1][1] - machine[0][1];
            r.append(String.format(Locale.ROOT, " machine_idle=%.0f", total > 0 ? idle * 100.0 / total : -1.0));
        }
        System.out.println(r);
        StringBuilder s = new StringBuilder("SLICES (" + SLICE_S + " s of send time: p50/p99 ms, n)");
        for (int i = 0; i < t.slices.length; i++) {
            s.append(String.format(Locale.ROOT, " [%d-%ds %.1f/%.1f n=%d]", i * SLICE_S, i * SLICE_S + SLICE_S,
                    t.slices[i].getValueAtPercentile(50) / 1e3, t.slices[i].getValueAtPercentile(99) / 1e3, t.slices[i].getTotalCount()));
        }
        System.out.println(s);
    }

    /** A few window events whose output never came, and how the missing ones spread over input partitions. */
    private static void printMissing(long sent, boolean topologyA, AtomicIntegerArray meta, AtomicIntegerArray sendOffsetUs, AtomicLongArray window,
                                     Tally tally, String[] users) {
        Map<Integer, Long> byPartition = new LinkedHashMap<>();
        int shown = 0;
        long notAcked = 0;
        for (int s = 0; s < sent; s++) {
            int m = meta.get(s);
            long send = window.get(0) + sendOffsetUs.get(s);
            if (send < window.get(1) || send >= window.get(2) || (topologyA && amount(m) < 10) || tally.seen.get(s)) {
                continue;
            }
            if (!acked(m)) {
                notAcked++;
            }
            byPartition.merge(partition(m), 1L, Long::sum);
            if (shown++ < 10) {
                System.out.printf(Locale.ROOT, "MISSING seq=%d user=%s sent_at=+%.3fs input_partition=%d acked=%s%n", s, users[user(m)],
                        sendOffsetUs.get(s) / 1e6, partition(m), acked(m));
            }
        }
        if (shown > 0) {
            System.out.println("MISSING_BY_INPUT_PARTITION " + byPartition + " not_acked=" + notAcked);
        }
    }

    // CPU time from /proc (Linux): utime+stime of a process, and the machine's total and idle ticks.
    private static long procTicks(String pids) {
        long sum = 0;
        for (String pid : pids.split("\\+")) {   // name=pid+pid+...: the sum of the processes (the nodes of a cluster)
            long t = procTicks1(pid);
            if (t < 0) {
                return -1;
            }
            sum += t;
        }
        return sum;
    }

    private static long procTicks1(String pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (Exception e) {
            return -1;
        }
    }

    private static long[] machineTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length; i++) {
                total += Long.parseLong(f[i]);
            }
            return new long[]{total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
        } catch (Exception e) {
            return new long[]{0, 0};
        }
    }
}
