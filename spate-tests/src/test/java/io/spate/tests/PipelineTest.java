package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.processing.PipelineAdmin;
import io.spate.processing.TaskId;
import io.spate.processing.TaskStatus;
import io.spate.processing.store.StateCheckpoint;
import io.spate.stream.KeyValue;
import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serdes;
import io.spate.tests.support.Clients;
import io.spate.tests.support.PipelineJars;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Pipelines at the data on one node, with the real Kafka clients writing their inputs and reading
 * their outputs: deployed through the embedded API and the CLI (a shipped example, a jar built
 * here), run by tasks reading the node's log in place, with a stream-table join and a re-keyed
 * count; at-least-once and exactly-once; paused, resumed, deleted; a failing pipeline isolated;
 * state and positions kept across a restart of the node.
 */
class PipelineTest {
    @TempDir
    static Path dataDir;
    @TempDir
    static Path work;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).start();
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    /** Clicks (user -> page) joined with users (user -> region), counted per region after a re-key. */
    public static final class ClicksPerRegion implements Pipeline {
        @Override
        public void define(PipelineBuilder builder) {
            String prefix = builder.setting("topics", "clicks");
            var users = builder.table(prefix + "-users", Serdes.string(), Serdes.string());
            builder.stream(prefix, Serdes.string(), Serdes.string())
                    .join(users, (page, region) -> region)
                    .withSerdes(Serdes.string(), Serdes.string())
                    .groupBy((user, region) -> region, Serdes.string())
                    .count()
                    .toStream()
                    .to(prefix + "-per-region", Serdes.string(), Serdes.longs());
        }
    }

    /** Each click (user -> page) with the region its user had when the click was joined. */
    public static final class ClickRegions implements Pipeline {
        @Override
        public void define(PipelineBuilder builder) {
            String prefix = builder.setting("topics", "tclicks");
            var users = builder.table(prefix + "-users", Serdes.string(), Serdes.string());
            builder.stream(prefix, Serdes.string(), Serdes.string())
                    .join(users, (page, region) -> page + "@" + region)
                    .withSerdes(Serdes.string(), Serdes.string())
                    .to(prefix + "-regions", Serdes.string(), Serdes.string());
        }
    }

    /** Upper-cases the values of {@code <topics>} into {@code <topics>-out}. */
    public static final class Upper implements Pipeline {
        @Override
        public void define(PipelineBuilder builder) {
            String in = builder.setting("topics", "upper");
            builder.stream(in, Serdes.string(), Serdes.string())
                    .mapValues(v -> v.toUpperCase(java.util.Locale.ROOT))
                    .to(in + "-out", Serdes.string(), Serdes.string());
        }
    }

    /** Upper-cases the values of {@code <topics>} into {@code <topics>-out}, and throws on the first "boom" it meets. */
    public static final class UpperFailingOnce implements Pipeline {
        static final java.util.concurrent.atomic.AtomicBoolean FAILED = new java.util.concurrent.atomic.AtomicBoolean();

        @Override
        public void define(PipelineBuilder builder) {
            String in = builder.setting("topics", "upper");
            builder.stream(in, Serdes.string(), Serdes.string())
                    .mapValues(v -> {
                        if (v.equals("boom") && FAILED.compareAndSet(false, true)) {
                            throw new IllegalStateException("a passing failure at " + v);
                        }
                        return v.toUpperCase(java.util.Locale.ROOT);
                    })
                    .to(in + "-out", Serdes.string(), Serdes.string());
        }
    }

    /**
     * Counts the values of {@code <topics>} per value after a re-key into {@code <topics>-out};
     * throws once, after the count, on the first "boom" it meets. With {@code to=task} each count
     * goes to the count task's own partition, keyed by the value; with {@code to=key} it is keyed
     * {@code VALUE!} and goes to that key's partition (most of them another task's).
     */
    public static final class CountsFailingOnce implements Pipeline {
        static final Map<String, java.util.concurrent.atomic.AtomicBoolean> FAILED = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public void define(PipelineBuilder builder) {
            String in = builder.setting("topics", "scount");
            boolean toTask = builder.setting("to", "task").equals("task");
            java.util.concurrent.atomic.AtomicBoolean failed = FAILED.computeIfAbsent(in, t -> new java.util.concurrent.atomic.AtomicBoolean());
            builder.stream(in, Serdes.string(), Serdes.string())
                    .groupBy((k, v) -> v, Serdes.string(), io.spate.stream.Named.as("by-value"))
                    .count(io.spate.stream.Named.as("n"))
                    .toStream()
                    .peek((value, n) -> {
                        if (value.equals("boom") && failed.compareAndSet(false, true)) {
                            throw new IllegalStateException("a passing failure after counting " + value);
                        }
                    })
                    .map((value, n) -> KeyValue.pair(toTask ? value : value + "!", n), Serdes.string(), Serdes.longs())
                    .to(in + "-out", Serdes.string(), Serdes.longs(), toTask ? io.spate.stream.SinkPartition.TASK : io.spate.stream.SinkPartition.KEY);
        }
    }

    /** Upper-cases values of its topic ("fragile" unless set), and throws on "boom": a pipeline whose own code fails. */
    public static final class Exploding implements Pipeline {
        @Override
        public void define(PipelineBuilder builder) {
            String in = builder.setting("topics", "fragile");
            builder.stream(in, Serdes.string(), Serdes.string())
                    .mapValues(v -> {
                        if (v.equals("boom")) {
                            throw new IllegalStateException("the pipeline's own bug at " + v);
                        }
                        return v.toUpperCase();
                    })
                    .to(in + "-out", Serdes.string(), Serdes.string());
        }
    }

    private static void produce(String topic, List<KeyValue<String, String>> records) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (KeyValue<String, String> r : records) {
                producer.send(new ProducerRecord<>(topic, r.key(), r.value())).get();
            }
        }
    }

    /** The last count per key of a count's output topic (every update is a record). */
    private static Map<String, Long> lastCounts(String topic, int partitions, String isolation) {
        Map<String, Long> counts = new TreeMap<>();
        try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", node.bootstrapServers(),
                "isolation.level", isolation), new StringDeserializer(), new LongDeserializer())) {
            for (ConsumerRecord<String, Long> r : Clients.readAll(consumer, Clients.partitions(topic, partitions))) {
                counts.put(r.key(), r.value());
            }
        }
        return counts;
    }

    private static List<KeyValue<String, String>> clicks(int count) {
        List<KeyValue<String, String>> clicks = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            clicks.add(KeyValue.pair("user" + (i % 7), "/page/" + i));
        }
        return clicks;
    }

    /** What the pipeline should count: clicks per region of their user. */
    private static Map<String, Long> expectedPerRegion(int clicks) {
        Map<String, Long> expected = new TreeMap<>();
        for (int i = 0; i < clicks; i++) {
            expected.merge(region(i % 7), 1L, Long::sum);
        }
        return expected;
    }

    private static String region(int user) {
        return user % 2 == 0 ? "eu" : "us";
    }

    private static void createUsersAndClicks(String prefix) throws Exception {
        Clients.createTopic(node.bootstrapServers(), prefix, 3, Map.of());
        Clients.createTopic(node.bootstrapServers(), prefix + "-users", 3, Map.of("cleanup.policy", "compact"));
        List<KeyValue<String, String>> users = new java.util.ArrayList<>();
        for (int u = 0; u < 7; u++) {
            users.add(KeyValue.pair("user" + u, region(u)));
        }
        produce(prefix + "-users", users);
    }

    @Test
    void aJoinAndAReKeyedCountRunAtTheDataAndCountEveryClick() throws Exception {
        createUsersAndClicks("clicks");
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("regions", new PipelineAdmin.Code.OnClassPath(ClicksPerRegion.class.getName()), Map.of("topics", "clicks"));
            produce("clicks", clicks(700));

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(lastCounts("clicks-per-region", 3, "read_uncommitted")).isEqualTo(expectedPerRegion(700)));
            // One task per partition of each sub-topology (the join, then the count behind the re-key), all here.
            assertThat(node.pipelineTasks()).filteredOn(t -> t.pipeline().equals("regions")).hasSize(6);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                List<TaskStatus> tasks = pipelines.describe("regions").orElseThrow().tasks();
                assertThat(tasks).hasSize(6).allSatisfy(t -> {
                    assertThat(t.state()).isEqualTo("RUNNING");
                    assertThat(t.node()).isEqualTo(1);
                    assertThat(t.inputLag()).isZero();
                });
                assertThat(tasks.stream().mapToLong(TaskStatus::recordsProcessed).sum()).isGreaterThanOrEqualTo(1400);
                // One node leads every partition: each result (re-keyed, counted, changelogged) was appended in place.
                assertThat(tasks.stream().mapToLong(TaskStatus::resultsInPlace).sum()).isGreaterThanOrEqualTo(700 + 700);
                assertThat(tasks.stream().mapToLong(TaskStatus::resultsSent).sum()).isZero();
            });
            // Its positions are a consumer group's committed offsets, as Kafka's tools see them.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                try (var admin = Clients.admin(node.bootstrapServers())) {
                    long committed = admin.listConsumerGroupOffsets("spate-pipeline-regions").partitionsToOffsetAndMetadata().get()
                            .entrySet().stream().filter(e -> e.getKey().topic().equals("clicks")).mapToLong(e -> e.getValue().offset()).sum();
                    assertThat(committed).isEqualTo(700);
                }
            });
        }
    }

    /**
     * A click joins its user's region as of the click's timestamp, across a pause: the table is
     * restored only to the committed input position, and the table updates and clicks past it are
     * merged by timestamp, whichever topic a micro-batch reads first.
     */
    @Test
    void aClickJoinsTheTableAsOfItsTimestampAcrossAPause() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tclicks", 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), "tclicks-users", 1, Map.of("cleanup.policy", "compact"));
        produce("tclicks-users", List.of(KeyValue.pair("u1", "eu")));
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("tjoin", new PipelineAdmin.Code.OnClassPath(ClickRegions.class.getName()), Map.of("topics", "tclicks"));
            produce("tclicks", List.of(KeyValue.pair("u1", "/a")));
            await().atMost(Duration.ofSeconds(60)).until(() -> joined().equals(List.of("/a@eu")));
            pausePastEverything(pipelines, Map.of("tclicks", 1L, "tclicks-users", 1L));

            // Paused: the region changes, then a click. Resumed, the click sees the new region.
            produce("tclicks-users", List.of(KeyValue.pair("u1", "us")));
            produce("tclicks", List.of(KeyValue.pair("u1", "/b")));
            pipelines.resume("tjoin");
            await().atMost(Duration.ofSeconds(60)).until(() -> joined().equals(List.of("/a@eu", "/b@us")));
            pausePastEverything(pipelines, Map.of("tclicks", 2L, "tclicks-users", 2L));

            // Paused: a click, then a region change stamped a minute after it (written first here).
            // The click is joined with the region of its time, not the table's latest value.
            long now = System.currentTimeMillis();
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                producer.send(new ProducerRecord<>("tclicks-users", 0, now + 60_000, "u1", "apac")).get();
                producer.send(new ProducerRecord<>("tclicks", 0, now, "u1", "/c")).get();
            }
            pipelines.resume("tjoin");
            await().atMost(Duration.ofSeconds(60)).until(() -> joined().size() == 3);
            assertThat(joined()).containsExactly("/a@eu", "/b@us", "/c@us");
            pipelines.delete("tjoin", true);
        }
    }

    /**
     * A backlog longer than a micro-batch: the clicks come ten per micro-batch, the table's two
     * updates in the first one. The region change stamped after the 25th click is applied only
     * once every click before it is joined, in whichever micro-batch that happens.
     */
    @Test
    void aBacklogIsJoinedAsOfEachClicksTimestampAcrossMicroBatches() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "bclicks", 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), "bclicks-users", 1, Map.of("cleanup.policy", "compact"));
        long t0 = System.currentTimeMillis();
        List<String> expected = new java.util.ArrayList<>();
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            producer.send(new ProducerRecord<>("bclicks-users", 0, t0, "u1", "eu")).get();
            producer.send(new ProducerRecord<>("bclicks-users", 0, t0 + 51, "u1", "us")).get();
            for (int i = 1; i <= 50; i++) {
                producer.send(new ProducerRecord<>("bclicks", 0, t0 + 2L * i, "u1", "/p" + i));
                expected.add("/p" + i + "@" + (2 * i < 51 ? "eu" : "us"));
            }
            producer.flush();
        }
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("bjoin", new PipelineAdmin.Code.OnClassPath(ClickRegions.class.getName()),
                    Map.of("topics", "bclicks", "batch.max.records", "10"));
            await().atMost(Duration.ofSeconds(60)).until(() -> joined("bclicks-regions").size() >= 50);
            assertThat(joined("bclicks-regions")).containsExactlyElementsOf(expected);
            pipelines.delete("bjoin", true);
        }
    }

    private static List<String> joined() {
        return joined("tclicks-regions");
    }

    private static List<String> joined(String topic) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", node.bootstrapServers()),
                new StringDeserializer(), new StringDeserializer())) {
            return Clients.readAll(consumer, Clients.partitions(topic, 1)).stream().map(ConsumerRecord::value).toList();
        }
    }

    /** Pauses "tjoin" once its committed positions have reached {@code positions}, and waits for its tasks to end. */
    private static void pausePastEverything(PipelineAdmin pipelines, Map<String, Long> positions) throws Exception {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            try (var admin = Clients.admin(node.bootstrapServers())) {
                Map<String, Long> committed = new TreeMap<>();
                admin.listConsumerGroupOffsets("spate-pipeline-tjoin").partitionsToOffsetAndMetadata().get()
                        .forEach((tp, offset) -> committed.put(tp.topic(), offset.offset()));
                assertThat(committed).isEqualTo(new TreeMap<>(positions));
            }
        });
        pipelines.pause("tjoin");
        await().atMost(Duration.ofSeconds(30)).until(() -> node.pipelineTasks().stream().noneMatch(t -> t.pipeline().equals("tjoin")));
    }

    /**
     * A micro-batch's results appended in place come in batches the output topic's max.message.bytes
     * takes; exactly-once (one batch per micro-batch, with its position) by taking fewer records at a time.
     */
    @ParameterizedTest
    @ValueSource(strings = {"at_least_once", "exactly_once"})
    void resultsAppendedInPlaceFitTheOutputsMaxMessageBytes(String guarantee) throws Exception {
        String wide = guarantee.equals("exactly_once") ? "ewide" : "wide";
        Clients.createTopic(node.bootstrapServers(), wide, 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), wide + "-out", 1, Map.of("max.message.bytes", "2048"));
        // 300 values of 100 bytes in one producer batch: about 30 KB of results from one micro-batch.
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(),
                Map.of("linger.ms", 1000, "batch.size", 1 << 20))) {
            for (int i = 0; i < 300; i++) {
                producer.send(new ProducerRecord<>(wide, "k" + i, String.format("value %03d ", i) + "x".repeat(90)));
            }
            producer.flush();
        }
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy(wide + "-upper", new PipelineAdmin.Code.OnClassPath(Upper.class.getName()),
                    Map.of("topics", wide, "processing.guarantee", guarantee));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", node.bootstrapServers()),
                        new StringDeserializer(), new StringDeserializer())) {
                    List<ConsumerRecord<String, String>> out = Clients.readAll(consumer, Clients.partitions(wide + "-out", 1));
                    assertThat(out).hasSize(300);
                    assertThat(out.get(299).value()).startsWith("VALUE 299 XXX");
                }
            });
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                List<TaskStatus> tasks = pipelines.describe(wide + "-upper").orElseThrow().tasks();
                assertThat(tasks).singleElement().satisfies(t -> {
                    assertThat(t.resultsInPlace()).isEqualTo(300);
                    assertThat(t.resultsSent()).isZero();
                    assertThat(t.failures()).isZero();
                });
            });
            pipelines.delete(wide + "-upper", true);
        }
    }

    /**
     * Exactly-once, a stateless task with one output partition commits each micro-batch's results
     * together with its input position, in one batch appended in place, without a transaction. After
     * a failure it resumes from the position its output records, not from the group's (committed
     * here only at the start: the interval is 30 s), so nothing is written twice.
     */
    @Test
    void statelessExactlyOnceResultsCarryTheirPositionAndResumeFromIt() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "eonce", 2, Map.of());
        Clients.createTopic(node.bootstrapServers(), "eonce-out", 2, Map.of());
        List<KeyValue<String, String>> first = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            first.add(KeyValue.pair("k" + i, "v" + i));
        }
        produce("eonce", first);
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("eonce", new PipelineAdmin.Code.OnClassPath(UpperFailingOnce.class.getName()),
                    Map.of("topics", "eonce", "processing.guarantee", "exactly_once", "commit.interval.ms", "30000"));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(committedValues("eonce-out", 2)).hasSize(100));
            List<KeyValue<String, String>> second = new ArrayList<>();
            second.add(KeyValue.pair("k0", "boom"));
            for (int i = 100; i < 150; i++) {
                second.add(KeyValue.pair("k" + i, "v" + i));
            }
            produce("eonce", second);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                List<String> values = committedValues("eonce-out", 2);
                assertThat(values).hasSize(151).doesNotHaveDuplicates().contains("BOOM", "V0", "V99", "V149");
            });
            assertThat(UpperFailingOnce.FAILED).isTrue();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                List<TaskStatus> tasks = pipelines.describe("eonce").orElseThrow().tasks();
                assertThat(tasks).hasSize(2);
                assertThat(tasks.stream().mapToLong(TaskStatus::failures).sum()).isEqualTo(1);
                assertThat(tasks.stream().mapToLong(TaskStatus::resultsSent).sum()).isZero();
            });
            // Each partition's last batch names the input position its task reached: the end of its input.
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", node.bootstrapServers()),
                    new StringDeserializer(), new StringDeserializer());
                 var admin = Clients.admin(node.bootstrapServers())) {
                List<ConsumerRecord<String, String>> out = Clients.readAll(consumer, Clients.partitions("eonce-out", 2));
                for (int p = 0; p < 2; p++) {
                    int partition = p;
                    long inputEnd = admin.listOffsets(Map.of(new org.apache.kafka.common.TopicPartition("eonce", p),
                            org.apache.kafka.clients.admin.OffsetSpec.latest())).all().get().values().iterator().next().offset();
                    String last = out.stream().filter(r -> r.partition() == partition && r.headers().lastHeader("spate.position") != null)
                            .reduce((a, b) -> b).map(r -> new String(r.headers().lastHeader("spate.position").value())).orElseThrow();
                    assertThat(last).isEqualTo("eonce/0/" + p + "@" + inputEnd);
                }
            }
            pipelines.delete("eonce", true);
        }
    }

    /**
     * Exactly-once, a count whose results all go to its own partition ({@code to=task}) commits
     * each micro-batch's results, input position and store changes in one batch appended in
     * place. Its code fails after counting (the group's position is committed only at the start:
     * the interval is 30 s, which in place only paces the group's commits), so the next attempt rebuilds the counts from the changelog and the
     * changes its output holds, and resumes where the output says: every count of every key is
     * there once, in order. Paused and resumed, the counts are restored from the changelog alone
     * and go on exactly. A count whose results go to other partitions ({@code to=key}) meets that
     * in its first micro-batch, starts again from its last commit and goes on with transactions,
     * as exactly.
     */
    @ParameterizedTest
    @ValueSource(strings = {"task", "key"})
    void statefulExactlyOnceCommitsStoreChangesWithTheResultsInPlace(String to) throws Exception {
        String topic = "scount-" + to;
        String suffix = to.equals("task") ? "" : "!";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            records.add(KeyValue.pair("k" + i, "u" + (i % 5)));
        }
        produce(topic, records);
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy(topic, new PipelineAdmin.Code.OnClassPath(CountsFailingOnce.class.getName()),
                    Map.of("topics", topic, "to", to, "processing.guarantee", "exactly_once", "commit.interval.ms", suffix.isEmpty() ? "30000" : "20"));
            Map<String, Long> expected = new TreeMap<>();
            for (int u = 0; u < 5; u++) {
                expected.put("u" + u + suffix, 20L);
            }
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(countsInOrder(topic + "-out")).isEqualTo(expected));

            records.clear();
            records.add(KeyValue.pair("k-boom", "boom"));
            for (int i = 100; i < 150; i++) {
                records.add(KeyValue.pair("k" + i, "u" + (i % 5)));
            }
            produce(topic, records);
            expected.replaceAll((user, n) -> 30L);
            expected.put("boom" + suffix, 1L);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(countsInOrder(topic + "-out")).isEqualTo(expected));
            assertThat(CountsFailingOnce.FAILED.get(topic)).isTrue();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                List<TaskStatus> counts = pipelines.describe(topic).orElseThrow().tasks().stream()
                        .filter(t -> t.subTopology() == 1).toList();
                assertThat(counts).hasSize(2);
                assertThat(counts.stream().mapToLong(TaskStatus::failures).sum()).isEqualTo(1);
                if (suffix.isEmpty()) {
                    assertThat(counts.stream().mapToLong(TaskStatus::resultsInPlace).sum()).as("every count in place").isGreaterThanOrEqualTo(151);
                    assertThat(counts.stream().mapToLong(TaskStatus::resultsSent).sum()).isZero();
                } else {
                    // (a first micro-batch whose results all went to one partition of this node was committed in place)
                    assertThat(counts.stream().mapToLong(TaskStatus::resultsSent).sum()).as("counts in transactions").isGreaterThanOrEqualTo(100);
                }
            });
            if (suffix.isEmpty()) {
                // The output's batches carry the counts' changes, on their last record.
                try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", node.bootstrapServers()),
                        new StringDeserializer(), new LongDeserializer())) {
                    assertThat(Clients.readAll(consumer, Clients.partitions(topic + "-out", 2)))
                            .anySatisfy(r -> assertThat(r.headers().lastHeader("spate.state")).isNotNull());
                }
            }

            pipelines.pause(topic);
            await().atMost(Duration.ofSeconds(30)).until(() -> node.pipelineTasks().stream().noneMatch(t -> t.pipeline().equals(topic)));
            pipelines.resume(topic);
            records.clear();
            for (int i = 150; i < 160; i++) {
                records.add(KeyValue.pair("k" + i, "u" + (i % 5)));
            }
            produce(topic, records);
            expected.replaceAll((user, n) -> user.startsWith("boom") ? 1L : 32L);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(countsInOrder(topic + "-out")).isEqualTo(expected));
            pipelines.delete(topic, true);
        }
    }

    /**
     * The last count of each key of a count's output, read_committed, once every key's counts read
     * in log order are 1, 2, 3, ... (a count written twice, or skipped, fails it).
     */
    private static Map<String, Long> countsInOrder(String topic) {
        Map<String, List<Long>> seen = new TreeMap<>();
        try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", node.bootstrapServers(),
                "isolation.level", "read_committed"), new StringDeserializer(), new LongDeserializer())) {
            for (ConsumerRecord<String, Long> r : Clients.readAll(consumer, Clients.partitions(topic, 2))) {
                seen.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
            }
        }
        Map<String, Long> last = new TreeMap<>();
        seen.forEach((key, counts) -> {
            for (int i = 0; i < counts.size(); i++) {
                assertThat(counts.get(i)).as("count %d of %s in %s", i + 1, key, counts).isEqualTo(i + 1L);
            }
            last.put(key, (long) counts.size());
        });
        return last;
    }

    /**
     * An output partition with too few in-sync replicas for a while (min.insync.replicas 2 on its
     * one replica): every append in place is refused with NOT_ENOUGH_REPLICAS. The task retries
     * it with a back-off instead of failing and restarting from its last commit (its status says
     * why meanwhile); once the setting is lowered, every result is there exactly once, appended in
     * place, and the task has no failure.
     */
    @ParameterizedTest
    @ValueSource(strings = {"at_least_once", "exactly_once"})
    void anAppendInPlaceRefusedForTooFewInSyncReplicasIsRetriedWithoutARestart(String guarantee) throws Exception {
        String in = guarantee.equals("exactly_once") ? "eisr" : "isr";
        Clients.createTopic(node.bootstrapServers(), in, 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), in + "-out", 1, Map.of("min.insync.replicas", "2"));
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            records.add(KeyValue.pair("k" + i, "v" + i));
        }
        produce(in, records);
        try (PipelineAdmin pipelines = node.pipelines(); var admin = Clients.admin(node.bootstrapServers())) {
            pipelines.deploy(in + "-upper", new PipelineAdmin.Code.OnClassPath(Upper.class.getName()),
                    Map.of("topics", in, "processing.guarantee", guarantee));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipelines.describe(in + "-upper").orElseThrow().tasks())
                    .singleElement().satisfies(t -> assertThat(t.error()).contains("NOT_ENOUGH_REPLICAS")));
            assertThat(committedValues(in + "-out", 1)).isEmpty();

            var topic = new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, in + "-out");
            admin.incrementalAlterConfigs(Map.of(topic, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                    new org.apache.kafka.clients.admin.ConfigEntry("min.insync.replicas", "1"),
                    org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get();

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(committedValues(in + "-out", 1)).hasSize(100));
            List<String> expected = records.stream().map(r -> r.value().toUpperCase(java.util.Locale.ROOT)).toList();
            assertThat(committedValues(in + "-out", 1)).containsExactlyElementsOf(expected);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(pipelines.describe(in + "-upper").orElseThrow().tasks())
                    .singleElement().satisfies(t -> {
                        assertThat(t.failures()).as("retried, not restarted").isZero();
                        assertThat(t.state()).isEqualTo("RUNNING");
                        assertThat(t.resultsInPlace()).isEqualTo(100);
                        assertThat(t.resultsSent()).isZero();
                        assertThat(t.error()).as("cleared by the commit after the retry").isEmpty();
                    }));
            pipelines.delete(in + "-upper", true);
        }
    }

    private static List<String> committedValues(String topic, int partitions) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", node.bootstrapServers(),
                "isolation.level", "read_committed"), new StringDeserializer(), new StringDeserializer())) {
            return Clients.readAll(consumer, Clients.partitions(topic, partitions)).stream().map(ConsumerRecord::value).toList();
        }
    }

    @Test
    void exactlyOnceResultsAreReadCommitted() throws Exception {
        createUsersAndClicks("eclicks");
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("eregions", new PipelineAdmin.Code.OnClassPath(ClicksPerRegion.class.getName()),
                    Map.of("topics", "eclicks", "processing.guarantee", "exactly_once"));
            produce("eclicks", clicks(350));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(lastCounts("eclicks-per-region", 3, "read_committed")).isEqualTo(expectedPerRegion(350)));
            // The tasks write in transactions of their own, one transactional id per task.
            try (var admin = Clients.admin(node.bootstrapServers())) {
                List<String> ids = admin.listTransactions().all().get().stream().map(t -> t.transactionalId())
                        .filter(id -> id.startsWith("spate-pipeline-eregions-")).toList();
                assertThat(ids).hasSize(6);
            }
            // The join's tasks have two inputs: their results go through their transactions. A count's
            // results (keyed by region, the key it counts) all go to the partition its task holds: they
            // are committed in place, with the counts' changes.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                List<TaskStatus> tasks = pipelines.describe("eregions").orElseThrow().tasks();
                assertThat(tasks.stream().filter(t -> t.subTopology() == 0).mapToLong(TaskStatus::resultsSent).sum()).isGreaterThanOrEqualTo(350);
                assertThat(tasks.stream().filter(t -> t.subTopology() == 0).mapToLong(TaskStatus::resultsInPlace).sum()).isZero();
                assertThat(tasks.stream().filter(t -> t.subTopology() == 1).mapToLong(TaskStatus::resultsInPlace).sum()).isEqualTo(350);
                assertThat(tasks.stream().filter(t -> t.subTopology() == 1).mapToLong(TaskStatus::resultsSent).sum()).isZero();
            });
        }
    }

    @Test
    void theCliDeploysAShippedExampleAndManagesIt() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "lines", 2, Map.of());
        GroupsCommandTest.Run deployed = GroupsCommandTest.spate("pipeline", "deploy", "--name", "wc", "--example", "wordcount",
                "--bootstrap-server", node.bootstrapServers());
        assertThat(deployed.exit()).as(deployed.err()).isZero();
        assertThat(deployed.out()).contains("deployed pipeline wc");
        produce("lines", List.of(KeyValue.pair("a", "the quick fox"), KeyValue.pair("b", "the lazy dog"), KeyValue.pair("c", "the end")));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Map<String, Long> counts = lastCounts("word-counts", 2, "read_uncommitted");
            assertThat(counts).containsEntry("the", 3L).containsEntry("fox", 1L).containsEntry("dog", 1L);
        });
        GroupsCommandTest.Run listed = GroupsCommandTest.spate("pipeline", "list", "--bootstrap-server", node.bootstrapServers());
        assertThat(listed.out()).contains("wc").contains("RUNNING").contains("example wordcount");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            GroupsCommandTest.Run described = GroupsCommandTest.spate("pipeline", "describe", "wc", "--bootstrap-server", node.bootstrapServers());
            assertThat(described.out()).contains("RUNNING").contains("P99-MS").contains("OUT-IN-PLACE").contains("100%");
        });

        GroupsCommandTest.Run paused = GroupsCommandTest.spate("pipeline", "pause", "wc", "--bootstrap-server", node.bootstrapServers());
        assertThat(paused.exit()).as(paused.err()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> node.pipelineTasks().stream().noneMatch(t -> t.pipeline().equals("wc")));
        produce("lines", List.of(KeyValue.pair("d", "the pause")));
        assertThat(lastCounts("word-counts", 2, "read_uncommitted")).containsEntry("the", 3L).doesNotContainKey("pause");

        GroupsCommandTest.Run resumed = GroupsCommandTest.spate("pipeline", "resume", "wc", "--bootstrap-server", node.bootstrapServers());
        assertThat(resumed.exit()).as(resumed.err()).isZero();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(lastCounts("word-counts", 2, "read_uncommitted")).containsEntry("the", 4L).containsEntry("pause", 1L));

        GroupsCommandTest.Run deleted = GroupsCommandTest.spate("pipeline", "delete", "wc", "--bootstrap-server", node.bootstrapServers());
        assertThat(deleted.exit()).as(deleted.err()).isZero();
        assertThat(GroupsCommandTest.spate("pipeline", "list", "--bootstrap-server", node.bootstrapServers()).out()).doesNotContain("wc ");
        try (var admin = Clients.admin(node.bootstrapServers())) {
            assertThat(admin.listTopics().names().get()).contains("word-counts").noneMatch(t -> t.startsWith("wc-") && t.endsWith("-changelog"));
        }
        GroupsCommandTest.Run missing = GroupsCommandTest.spate("pipeline", "describe", "wc", "--bootstrap-server", node.bootstrapServers());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("no pipeline named wc");
    }

    @Test
    void aJarIsLoadedInAClassLoaderThatSeesTheApiButNotTheNode() throws Exception {
        Path jar = PipelineJars.build(work, "shout", List.of(new PipelineJars.Source("com.example.Shout", """
                package com.example;

                import io.spate.stream.Pipeline;
                import io.spate.stream.PipelineBuilder;
                import io.spate.stream.Serdes;

                public class Shout implements Pipeline {
                    @Override
                    public void define(PipelineBuilder builder) {
                        String seen;
                        try {
                            Class.forName("io.spate.broker.SpateNode");
                            seen = "sees-the-node";
                        } catch (ClassNotFoundException e) {
                            seen = "isolated";
                        }
                        String visibility = seen;
                        builder.stream("shout-in", Serdes.string(), Serdes.string())
                                .mapValues(v -> v.toUpperCase() + "!" + visibility)
                                .to("shout-out", Serdes.string(), Serdes.string());
                    }
                }
                """)));
        Clients.createTopic(node.bootstrapServers(), "shout-in", 1, Map.of());
        GroupsCommandTest.Run deployed = GroupsCommandTest.spate("pipeline", "deploy", "--name", "shout", "--jar", jar.toString(),
                "--class", "com.example.Shout", "--bootstrap-server", node.bootstrapServers());
        assertThat(deployed.exit()).as(deployed.err()).isZero();
        produce("shout-in", List.of(KeyValue.pair("k", "hello")));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
                assertThat(Clients.readAll(consumer, Clients.partitions("shout-out", 1))).extracting(ConsumerRecord::value)
                        .containsExactly("HELLO!isolated");
            }
        });
        // The node kept the jar it runs, by its hash.
        assertThat(java.nio.file.Files.list(dataDir.resolve("pipelines").resolve("jars")).toList()).hasSize(1);

        GroupsCommandTest.Run wrongClass = GroupsCommandTest.spate("pipeline", "deploy", "--name", "shout2", "--jar", jar.toString(),
                "--class", "com.example.Missing", "--bootstrap-server", node.bootstrapServers());
        assertThat(wrongClass.exit()).isEqualTo(1);
        assertThat(wrongClass.err()).contains("cannot load class com.example.Missing");

        // Deleted, the pipeline's jar leaves the catalog and the node's copy goes too.
        GroupsCommandTest.Run deleted = GroupsCommandTest.spate("pipeline", "delete", "shout", "--bootstrap-server", node.bootstrapServers());
        assertThat(deleted.exit()).as(deleted.err()).isZero();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(java.nio.file.Files.list(dataDir.resolve("pipelines").resolve("jars")).toList()).isEmpty());
    }

    /**
     * max.task.idle.ms: a click read while the users table has nothing to give waits for it, so
     * the user record sent just after, stamped earlier, is joined first. Without the wait the
     * click is processed alone and dropped (an inner join with no user).
     */
    @Test
    void withMaxTaskIdleAClickWaitsForAQuietTableAndIsJoinedWithAnEarlierUpdate() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "iclicks", 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), "iclicks-users", 1, Map.of("cleanup.policy", "compact"));
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("idle", new PipelineAdmin.Code.OnClassPath(ClickRegions.class.getName()),
                    Map.of("topics", "iclicks", "max.task.idle.ms", "30000"));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipelines.describe("idle").orElseThrow().tasks())
                    .singleElement().satisfies(t -> assertThat(t.state()).isEqualTo("RUNNING")));
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                producer.send(new ProducerRecord<>("iclicks", 0, 2_000L, "user9", "/late")).get();
                producer.send(new ProducerRecord<>("iclicks-users", 0, 1_000L, "user9", "north")).get();
            }
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
                    assertThat(Clients.readAll(consumer, Clients.partitions("iclicks-regions", 1))).extracting(ConsumerRecord::value)
                            .containsExactly("/late@north");
                }
            });
            pipelines.delete("idle", true);
        }
    }

    @Test
    void aPipelineWhoseCodeThrowsFailsAloneAndTheNodeKeepsServing() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "fragile", 1, Map.of());
        createUsersAndClicks("sclicks");
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("fragile", new PipelineAdmin.Code.OnClassPath(Exploding.class.getName()), Map.of());
            pipelines.deploy("steady", new PipelineAdmin.Code.OnClassPath(ClicksPerRegion.class.getName()), Map.of("topics", "sclicks"));
            // "fine" alone first: in one micro-batch with "boom", its result would go back with the batch.
            produce("fragile", List.of(KeyValue.pair("k", "fine")));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
                    assertThat(Clients.readAll(consumer, Clients.partitions("fragile-out", 1))).extracting(ConsumerRecord::value).containsExactly("FINE");
                }
                // and committed, or the failure at "boom" would take the task back to before it, and write it again
                try (var admin = Clients.admin(node.bootstrapServers())) {
                    assertThat(admin.listConsumerGroupOffsets("spate-pipeline-fragile").partitionsToOffsetAndMetadata().get()
                            .get(new org.apache.kafka.common.TopicPartition("fragile", 0))).isNotNull().extracting(o -> o.offset()).isEqualTo(1L);
                }
            });
            produce("fragile", List.of(KeyValue.pair("k", "boom"), KeyValue.pair("k", "never")));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                TaskStatus task = pipelines.describe("fragile").orElseThrow().tasks().get(0);
                assertThat(task.state()).isEqualTo("FAILED");
                assertThat(task.error()).contains("the pipeline's own bug at boom");
            });
            try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
                assertThat(Clients.readAll(consumer, Clients.partitions("fragile-out", 1))).extracting(ConsumerRecord::value).containsExactly("FINE");
            }
            // Other pipelines, and the node's clients, go on.
            produce("sclicks", clicks(14));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(lastCounts("sclicks-per-region", 3, "read_uncommitted")).isEqualTo(expectedPerRegion(14)));
            pipelines.delete("fragile", true);
            pipelines.delete("steady", true);
        }
    }

    /**
     * A record the pipeline's code fails on, behind records processed since the last commit: each
     * attempt processes those again before it fails, which is no progress. Three failures in a row
     * fail the task (before, the records processed again counted as progress, and the task
     * restarted for good, writing their results again each time).
     */
    @Test
    void aRecordTheCodeFailsOnBehindABacklogFailsTheTaskAfterThreeTries() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "backlog", 1, Map.of());
        List<KeyValue<String, String>> records = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) {
            records.add(KeyValue.pair("k", "ok-" + i));
        }
        records.add(KeyValue.pair("k", "boom"));
        produce("backlog", records);
        try (PipelineAdmin pipelines = node.pipelines()) {
            // Small micro-batches and no commit before the failing record: every attempt processes the 200 again.
            pipelines.deploy("backlog", new PipelineAdmin.Code.OnClassPath(Exploding.class.getName()),
                    Map.of("topics", "backlog", "batch.max.records", "5", "commit.interval.ms", "600000"));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipelines.describe("backlog").orElseThrow().tasks())
                    .singleElement().satisfies(task -> {
                        assertThat(task.state()).isEqualTo("FAILED");
                        assertThat(task.failures()).isEqualTo(3);
                        assertThat(task.error()).contains("the pipeline's own bug at boom");
                    }));
            pipelines.delete("backlog", true);
        }
    }

    @Test
    void aRestartedNodeRestoresTheStateAndGoesOnFromItsPositions() throws Exception {
        createUsersAndClicks("rclicks");
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("rregions", new PipelineAdmin.Code.OnClassPath(ClicksPerRegion.class.getName()), Map.of("topics", "rclicks"));
        }
        produce("rclicks", clicks(140));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(lastCounts("rclicks-per-region", 3, "read_uncommitted")).isEqualTo(expectedPerRegion(140)));

        node.close();
        // A jar whose pipeline was deleted while the node was down, its catalog records compacted away.
        java.nio.file.Path stray = dataDir.resolve("pipelines").resolve("jars").resolve("0123abcd.jar");
        java.nio.file.Files.createDirectories(stray.getParent());
        java.nio.file.Files.write(stray, new byte[]{1, 2, 3});
        node = SpateNode.builder().dataDir(dataDir).start();
        await().atMost(Duration.ofSeconds(60)).until(() -> !java.nio.file.Files.exists(stray));

        List<KeyValue<String, String>> more = clicks(280).subList(140, 280);
        produce("rclicks", more);
        // The counts go on from the restored state: a count that started over would be lower.
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() ->
                assertThat(lastCounts("rclicks-per-region", 3, "read_uncommitted")).isEqualTo(expectedPerRegion(280)));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            try (PipelineAdmin pipelines = node.pipelines()) {
                assertThat(pipelines.describe("rregions").orElseThrow().tasks())
                        .filteredOn(t -> t.subTopology() == 1).allSatisfy(t -> assertThat(t.restores()).isGreaterThanOrEqualTo(1));
            }
        });
        assertThat(node.pipelineTasks()).contains(new TaskId("rregions", 1, 0));
    }

    @Test
    void stateInRocksDbLivesInTheDataDirectoryWhileItsTaskRunsAndComesBackFromTheChangelog() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "dlines", 2, Map.of());
        GroupsCommandTest.Run unknown = GroupsCommandTest.spate("pipeline", "deploy", "--name", "dwc", "--example", "wordcount",
                "--set", "state.store=lmdb", "--bootstrap-server", node.bootstrapServers());
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).contains("state.store must be in_memory or rocksdb, not 'lmdb'");

        GroupsCommandTest.Run deployed = GroupsCommandTest.spate("pipeline", "deploy", "--name", "dwc", "--example", "wordcount",
                "--set", "in=dlines", "--set", "out=dword-counts", "--set", "state.store=rocksdb", "--bootstrap-server", node.bootstrapServers());
        assertThat(deployed.exit()).as(deployed.err()).isZero();
        produce("dlines", List.of(KeyValue.pair("a", "the quick fox"), KeyValue.pair("b", "the lazy dog"), KeyValue.pair("c", "the end")));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Map<String, Long> counts = lastCounts("dword-counts", 2, "read_uncommitted");
            assertThat(counts).containsEntry("the", 3L).containsEntry("fox", 1L).containsEntry("dog", 1L);
        });
        // The counting tasks (sub-topology 1, behind the re-key) keep their store in RocksDB under the node's data directory.
        Path state = dataDir.resolve("pipelines").resolve("state").resolve("dwc");
        assertThat(state.resolve("1_0").resolve("counts-0")).isDirectory();
        assertThat(state.resolve("1_1").resolve("counts-1")).isDirectory();

        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.pause("dwc");
            // A task that stops cleanly keeps its stores, flushed, with a checkpoint of the changelog offsets they hold.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(state.resolve("1_0").resolve(StateCheckpoint.FILE)).isRegularFile();
                assertThat(state.resolve("1_1").resolve(StateCheckpoint.FILE)).isRegularFile();
            });
            assertThat(state.resolve("1_0").resolve("counts-0")).isDirectory();
            produce("dlines", List.of(KeyValue.pair("d", "the pause")));
            pipelines.resume("dwc");
            // Counts that go on from 3: the kept stores, with nothing to restore past their checkpoint
            // (no count changed while paused); the checkpoint is taken when the task starts.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(lastCounts("dword-counts", 2, "read_uncommitted")).containsEntry("the", 4L).containsEntry("pause", 1L)
                            .containsEntry("fox", 1L));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(pipelines.describe("dwc").orElseThrow().tasks()).filteredOn(t -> t.subTopology() == 1).hasSize(2)
                            .allSatisfy(t -> {
                                assertThat(t.state()).isEqualTo("RUNNING");
                                assertThat(t.restores()).isGreaterThanOrEqualTo(1);
                                assertThat(t.restoredRecords()).isZero();
                            }));
            assertThat(state.resolve("1_0").resolve(StateCheckpoint.FILE)).doesNotExist();
            pipelines.delete("dwc", true);
            await().atMost(Duration.ofSeconds(30)).until(() -> !java.nio.file.Files.exists(state));
        }
    }
}
