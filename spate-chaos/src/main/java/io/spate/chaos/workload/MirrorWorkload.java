package io.spate.chaos.workload;

import io.spate.chaos.history.MirrorHistory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/**
 * The {@code pipeline} workload: three Spate pipelines deployed at the data before the first
 * write: two mirrors, one exactly-once and one at-least-once, each copying the producers' topic
 * into an output of its own ({@link MirrorPipeline}), and an exactly-once count per writer through
 * a repartition topic ({@link CountPipeline}), its stores kept warm by a standby on another node
 * and, on one run in two, in RocksDB; all shipped as a jar as a user would. They run through every
 * fault of the schedule: their tasks follow the input partitions' leaders as nodes die, stop, lose
 * their network or their disk. At the end each output is read committed once it holds a result of
 * every input partition's last record, and the count's a result of every writer's whole count (or
 * the drain time is up), and each mirror task's node is compared with its partition's leader: what
 * {@code MirrorCheck} and {@code CountCheck} judge. Deployed and described with {@code spate
 * pipeline} from the nodes' own jar, as an operator does: this module holds no Spate code but the
 * pipeline API a user's code is compiled against.
 */
public final class MirrorWorkload {
    /** Pipeline names, which are also their output topics. */
    public static final String EXACTLY_ONCE = "chaos-mirror-eos";
    public static final String AT_LEAST_ONCE = "chaos-mirror-alos";
    /** The count's name, also its output topic. */
    public static final String COUNT = "chaos-count-eos";
    /** The count's source table: a compacted topic co-located with the input, written before the deploy. */
    public static final String WRITERS = "chaos-writers";
    /** Writers named in the table (w-0 ...), each written this many times: a table with history to restore. */
    private static final int TABLE_WRITERS = 64;
    private static final int TABLE_VERSIONS = 3;

    private final String bootstrap;
    private final String input;
    private final int partitions;
    private final Path dir;
    private final Path brokerJar;
    /** The count's {@code state.store}: in_memory or rocksdb. */
    private final String countStateStore;
    /** A row of {@code spate pipeline describe}: TASK (sub-topology/partition), NODE, STATE. */
    private static final Pattern TASK_ROW = Pattern.compile("^\\s*(\\d+)/(\\d+)\\s+(-?\\d+)\\s+(\\S+)");

    public MirrorWorkload(String bootstrap, String input, int partitions, Path dir, Path brokerJar, String countStateStore) {
        this.countStateStore = countStateStore;
        this.bootstrap = bootstrap;
        this.input = input;
        this.partitions = partitions;
        this.dir = dir;
        this.brokerJar = brokerJar;
    }

    /** Deploys the mirrors and the count; their output topics are created by the deploy, co-located with the input. */
    public void deploy() throws Exception {
        writeWritersTable();
        Path jar = writeJar(dir.resolve("chaos-pipelines.jar"));
        // Three operators at once: the deploys are independent (their catalog topics are created by
        // whichever comes first), and each CLI JVM's start is most of a deploy's time.
        each(List.of(EXACTLY_ONCE, AT_LEAST_ONCE, COUNT), name -> {
            List<String> args = new ArrayList<>(List.of("pipeline", "deploy", "--bootstrap-server", bootstrap, "--timeout", "30000",
                    "--name", name, "--jar", jar.toString(),
                    "--class", (name.equals(COUNT) ? CountPipeline.class : MirrorPipeline.class).getName(),
                    "--set", "processing.guarantee=" + (name.equals(AT_LEAST_ONCE) ? "at_least_once" : "exactly_once"),
                    "--set", "in=" + input, "--set", "out=" + name));
            if (name.equals(COUNT)) {
                args.addAll(List.of("--set", "num.standby.replicas=1", "--set", "state.store=" + countStateStore, "--set", "writers=" + WRITERS));
            }
            return spate(args.toArray(String[]::new));
        });
    }

    /** The writers' table, {@value #TABLE_VERSIONS} versions of each, acknowledged by every in-sync replica. */
    private void writeWritersTable() throws Exception {
        Map<String, Object> config = Map.of("bootstrap.servers", bootstrap, "acks", "all", "enable.idempotence", true,
                "delivery.timeout.ms", 60_000);
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(config,
                new org.apache.kafka.common.serialization.StringSerializer(), new org.apache.kafka.common.serialization.StringSerializer())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int version = 1; version <= TABLE_VERSIONS; version++) {
                for (int w = 0; w < TABLE_WRITERS; w++) {
                    sent.add(producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(WRITERS, "w-" + w, "writer " + w + " v" + version)));
                }
            }
            for (java.util.concurrent.Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
    }

    public String countStateStore() {
        return countStateStore;
    }

    private interface Cli {
        String run(String pipeline) throws IOException, InterruptedException;
    }

    /** {@code cli} for both mirrors concurrently: each one's output, or the first failure. */
    private static Map<String, String> both(Cli cli) throws IOException, InterruptedException {
        return each(List.of(EXACTLY_ONCE, AT_LEAST_ONCE), cli);
    }

    /** {@code cli} for each pipeline of {@code names} concurrently: each one's output, or the first failure. */
    private static Map<String, String> each(List<String> names, Cli cli) throws IOException, InterruptedException {
        Map<String, java.util.concurrent.CompletableFuture<String>> running = new TreeMap<>();
        for (String name : names) {
            running.put(name, java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return cli.run(name);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }));
        }
        Map<String, String> outputs = new TreeMap<>();
        for (Map.Entry<String, java.util.concurrent.CompletableFuture<String>> e : running.entrySet()) {
            try {
                outputs.put(e.getKey(), e.getValue().get());
            } catch (java.util.concurrent.ExecutionException failed) {
                if (failed.getCause() instanceof java.io.UncheckedIOException io) {
                    throw io.getCause();
                }
                throw new IOException(failed.getCause());
            }
        }
        return outputs;
    }

    /** Runs {@code spate ARGS} from the nodes' jar; its output, or why it failed. */
    private String spate(String... args) throws IOException, InterruptedException {
        // C1 only: a short-lived CLI gains nothing from C2 but its compile threads' CPU, which the nodes need.
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-jar", brokerJar.toString()));
        command.addAll(List.of(args));
        // Its output goes to a file, so that a CLI that hangs is still bounded by the wait below.
        Path outputFile = Files.createTempFile(dir, "spate-cli-", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(outputFile.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("spate " + String.join(" ", args) + " did not finish in 120 s");
            }
            String output = Files.readString(outputFile);
            if (p.exitValue() != 0) {
                throw new IOException("spate " + String.join(" ", args) + " failed (" + p.exitValue() + "): " + output.strip());
            }
            return output;
        } finally {
            Files.deleteIfExists(outputFile);
        }
    }

    /**
     * Waits, up to {@code drain}, until both outputs hold a result of the last record of every
     * input partition in {@code finalInput} (the input as read at the end), then up to {@code
     * placement} for every task to report RUNNING on its partition's leader, and returns what it saw last.
     */
    public MirrorHistory finish(Admin admin, Map<Integer, List<String>> finalInput, Duration drain, Duration placement)
            throws Exception {
        long drainDeadline = System.nanoTime() + drain.toNanos();
        Map<String, Map<Integer, List<String>>> outputs = new TreeMap<>();
        Map<Integer, List<String>> counted;
        Map<String, Long> writers = writerCounts(finalInput);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(FinalRead.consumerConfig(bootstrap, "read_committed"))) {
            while (true) {
                for (String name : List.of(EXACTLY_ONCE, AT_LEAST_ONCE)) {
                    outputs.put(name, readCommitted(consumer, name));
                }
                counted = readCommitted(consumer, COUNT);
                boolean complete = outputs.values().stream().allMatch(o -> holdsLastOfEach(o, finalInput)) && countsAll(counted, writers);
                if (complete || System.nanoTime() > drainDeadline) {
                    break;
                }
                Thread.sleep(500);
            }
        }
        long placementDeadline = System.nanoTime() + placement.toNanos();
        Map<String, List<MirrorHistory.TaskSeen>> tasks;
        while (true) {
            tasks = describeTasks(admin);
            boolean placed = tasks.values().stream().flatMap(List::stream).allMatch(MirrorHistory.TaskSeen::runningOnLeader);
            if (placed || System.nanoTime() > placementDeadline) {
                break;
            }
            Thread.sleep(500);
        }
        List<MirrorHistory.Mirror> mirrors = new ArrayList<>();
        for (String name : List.of(EXACTLY_ONCE, AT_LEAST_ONCE)) {
            mirrors.add(new MirrorHistory.Mirror(name, name.equals(EXACTLY_ONCE), outputs.get(name), tasks.get(name)));
        }
        return new MirrorHistory(mirrors, List.of(new MirrorHistory.Count(COUNT, countStateStore, counted)));
    }

    /** Records per writer in the final input ({@link CountPipeline#writerOf}). */
    private static Map<String, Long> writerCounts(Map<Integer, List<String>> finalInput) {
        Map<String, Long> writers = new TreeMap<>();
        for (List<String> values : finalInput.values()) {
            for (String v : values) {
                if (v != null) {
                    writers.merge(CountPipeline.writerOf(v), 1L, Long::sum);
                }
            }
        }
        return writers;
    }

    /** Whether the count's output holds each writer's whole count. */
    private static boolean countsAll(Map<Integer, List<String>> counted, Map<String, Long> writers) {
        java.util.Set<String> results = new java.util.HashSet<>();
        counted.values().forEach(results::addAll);
        return writers.entrySet().stream().allMatch(w -> results.contains(w.getKey() + "=" + w.getValue()));
    }

    private Map<Integer, List<String>> readCommitted(KafkaConsumer<String, String> consumer, String topic) {
        List<TopicPartition> tps = FinalRead.partitions(topic, partitions);
        consumer.assign(tps);
        consumer.resume(tps);
        Map<TopicPartition, Long> start = consumer.beginningOffsets(tps);
        Map<TopicPartition, Long> lastStable = consumer.endOffsets(tps);
        Map<Integer, List<String>> read = FinalRead.readTo(consumer, start, lastStable, System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
        Map<Integer, List<String>> records = new TreeMap<>();
        read.forEach((p, values) -> records.put(p, values.stream().filter(Objects::nonNull).toList()));
        return records;
    }

    private static boolean holdsLastOfEach(Map<Integer, List<String>> output, Map<Integer, List<String>> finalInput) {
        for (Map.Entry<Integer, List<String>> e : finalInput.entrySet()) {
            String last = null;
            for (int i = e.getValue().size() - 1; i >= 0 && last == null; i--) {
                last = e.getValue().get(i);
            }
            if (last != null && !output.getOrDefault(e.getKey(), List.of()).contains(last)) {
                return false;
            }
        }
        return true;
    }

    private Map<String, List<MirrorHistory.TaskSeen>> describeTasks(Admin admin) throws Exception {
        Map<Integer, Integer> leaders = new HashMap<>();
        TopicDescription d = admin.describeTopics(List.of(input)).allTopicNames().get(30, TimeUnit.SECONDS).get(input);
        for (TopicPartitionInfo p : d.partitions()) {
            leaders.put(p.partition(), p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id());
        }
        Map<String, String> described;
        try {
            described = both(name -> spate("pipeline", "describe", "--bootstrap-server", bootstrap, name));
        } catch (IOException e) {
            described = Map.of(); // not described this time: every task shows as unreported, and is asked again
        }
        Map<String, List<MirrorHistory.TaskSeen>> seen = new TreeMap<>();
        for (String name : List.of(EXACTLY_ONCE, AT_LEAST_ONCE)) {
            Map<Integer, String[]> byPartition = new HashMap<>(); // partition -> {node, state}
            for (String line : described.getOrDefault(name, "").split("\n")) {
                Matcher m = TASK_ROW.matcher(line);
                if (m.find()) {
                    byPartition.put(Integer.parseInt(m.group(2)), new String[]{m.group(3), m.group(4)});
                }
            }
            List<MirrorHistory.TaskSeen> list = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                String[] t = byPartition.get(p);
                list.add(new MirrorHistory.TaskSeen(p, t == null ? -1 : Integer.parseInt(t[0]), t == null ? "-" : t[1], leaders.getOrDefault(p, -1)));
            }
            seen.put(name, list);
        }
        return seen;
    }

    /** A jar holding the pipelines' classes, as a user would build it. */
    private static Path writeJar(Path jar) throws IOException {
        Files.createDirectories(jar.getParent());
        try (OutputStream file = Files.newOutputStream(jar);
             JarOutputStream out = new JarOutputStream(file)) {
            for (Class<?> pipeline : List.of(MirrorPipeline.class, CountPipeline.class)) {
                String entry = pipeline.getName().replace('.', '/') + ".class";
                try (InputStream classFile = Objects.requireNonNull(pipeline.getClassLoader().getResourceAsStream(entry), entry)) {
                    out.putNextEntry(new JarEntry(entry));
                    classFile.transferTo(out);
                    out.closeEntry();
                }
            }
        }
        return jar;
    }
}
