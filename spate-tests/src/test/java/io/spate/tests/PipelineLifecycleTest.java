package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.processing.CatalogRecords;
import io.spate.processing.PipelineAdmin;
import io.spate.processing.TaskId;
import io.spate.processing.TaskStatus;
import io.spate.processing.store.StateCheckpoint;
import io.spate.processing.store.StoreFailedException;
import io.spate.stream.KeyValue;
import io.spate.stream.Named;
import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A pipeline's life on one node where it meets trouble: deleted while the node still sets it up,
 * its code that does not return, its store failing under exactly-once in place, its serde failing
 * or hanging while its state is restored. Pipelines on the class path, real clients, one node.
 */
class PipelineLifecycleTest {
    private static final Serde<String> S = Serdes.string();

    @TempDir
    static Path dataDir;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).start();
    }

    @AfterAll
    static void stop() {
        SlowToSetUp.RELEASE.countDown();
        Stuck.RELEASE.countDown();
        RestoreSerde.MODE.set("pass");
        RestoreSerde.RELEASE.countDown();
        if (node != null) {
            node.close();
        }
    }

    /** A count whose definition, run by the node's set-up (not by the deploying client), waits for the test. */
    public static final class SlowToSetUp implements Pipeline {
        static final CountDownLatch SETTING_UP = new CountDownLatch(1);
        static final CountDownLatch RELEASE = new CountDownLatch(1);

        @Override
        public void define(PipelineBuilder builder) {
            if (Thread.currentThread().getName().equals("spate-processing-setup")) {
                SETTING_UP.countDown();
                awaitUninterruptibly(RELEASE);
            }
            builder.stream("raced", S, S).groupByKey().count(Named.as("n")).toStream().to("raced-out", S, Serdes.longs());
        }
    }

    /** Upper-cases values; on "block" it does not return, interrupted or not, until the test releases it. */
    public static final class Stuck implements Pipeline {
        static final CountDownLatch RELEASE = new CountDownLatch(1);
        static final AtomicInteger INSIDE = new AtomicInteger();
        static final AtomicInteger MOST_INSIDE = new AtomicInteger();

        @Override
        public void define(PipelineBuilder builder) {
            builder.stream("stuck", S, S).mapValues(v -> {
                if (v.equals("block")) {
                    MOST_INSIDE.accumulateAndGet(INSIDE.incrementAndGet(), Math::max);
                    awaitUninterruptibly(RELEASE);
                    INSIDE.decrementAndGet();
                }
                return v.toUpperCase(java.util.Locale.ROOT);
            }).to("stuck-out", S, S);
        }
    }

    /** Sleeps on the first "sleep" until interrupted, then goes on; upper-cases values. */
    public static final class SleepsUntilInterrupted implements Pipeline {
        static final CountDownLatch ENTERED = new CountDownLatch(1);
        static final AtomicInteger INTERRUPTED = new AtomicInteger();
        static final java.util.concurrent.atomic.AtomicBoolean SLEPT = new java.util.concurrent.atomic.AtomicBoolean();

        @Override
        public void define(PipelineBuilder builder) {
            builder.stream("sleeper", S, S).mapValues(v -> {
                if (v.equals("sleep") && SLEPT.compareAndSet(false, true)) {
                    ENTERED.countDown();
                    try {
                        Thread.sleep(Long.MAX_VALUE);
                    } catch (InterruptedException e) {
                        INTERRUPTED.incrementAndGet();
                    }
                }
                return v.toUpperCase(java.util.Locale.ROOT);
            }).to("sleeper-out", S, S);
        }
    }

    /**
     * Upper-cases values and sets its own thread's interrupt flag each time, as code that restores
     * the flag after catching an InterruptedException does.
     */
    public static final class SelfInterrupting implements Pipeline {
        @Override
        public void define(PipelineBuilder builder) {
            builder.stream("selfint", S, S).mapValues(v -> {
                Thread.currentThread().interrupt();
                return v.toUpperCase(java.util.Locale.ROOT);
            }).to("selfint-out", S, S);
        }
    }

    /** Upper-cases values; on "disk" it fails as a failing store does, the first three times. */
    public static final class FailingStore implements Pipeline {
        static final AtomicInteger FAILURES = new AtomicInteger();

        @Override
        public void define(PipelineBuilder builder) {
            builder.stream("diskfail", S, S).mapValues(v -> {
                if (v.equals("disk") && FAILURES.incrementAndGet() <= 3) {
                    throw new StoreFailedException("the store's disk failed", new java.io.IOException("Input/output error"));
                }
                return v.toUpperCase(java.util.Locale.ROOT);
            }).to("diskfail-out", S, S);
        }
    }

    /** Concatenates values per key, its store's values read back by a serde the test makes pass, throw or hang. */
    public static final class RestoreSerde implements Pipeline {
        static final AtomicReference<String> MODE = new AtomicReference<>("pass");
        static final CountDownLatch RELEASE = new CountDownLatch(1);
        static final AtomicInteger HANGING = new AtomicInteger();

        @Override
        public void define(PipelineBuilder builder) {
            String topic = builder.setting("topics", "restore");
            Serde<String> stored = Serde.of(v -> v.getBytes(StandardCharsets.UTF_8), bytes -> {
                switch (MODE.get()) {
                    case "throw" -> throw new IllegalStateException("the serde cannot read " + bytes.length + " bytes");
                    case "hang" -> {
                        HANGING.incrementAndGet();
                        awaitUninterruptibly(RELEASE);
                    }
                    default -> { }
                }
                return new String(bytes, StandardCharsets.UTF_8);
            });
            builder.stream(topic, S, S).groupByKey().aggregate(() -> "", (k, v, a) -> a + v, stored, Named.as("concat"))
                    .toStream().to(topic + "-out", S, S);
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        while (true) {
            try {
                latch.await();
                return;
            } catch (InterruptedException e) {
                // code that does not return: what the node must cope with
            }
        }
    }

    /**
     * Deleted with its state while the node's set-up still loads it: the set-up then makes no
     * client for it and does not create its changelog again, which the delete removed.
     */
    @Test
    void aPipelineDeletedWhileTheNodeSetsItUpLeavesNoClientAndNoTopicBehind() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "raced", 1, Map.of());
        try (PipelineAdmin pipelines = node.pipelines(); Admin admin = Clients.admin(node.bootstrapServers())) {
            pipelines.deploy("raced", new PipelineAdmin.Code.OnClassPath(SlowToSetUp.class.getName()), Map.of());
            assertThat(admin.listTopics().names().get()).contains("raced-n-changelog");
            SlowToSetUp.SETTING_UP.await();

            assertThat(pipelines.delete("raced", true)).isEmpty();
            assertThat(admin.listTopics().names().get()).doesNotContain("raced-n-changelog");
            awaitStatusTombstone("raced/"); // the node has retired the deployment its set-up is still making
            SlowToSetUp.RELEASE.countDown();

            // The set-up thread works in order: once a later pipeline runs, it is past the deleted one.
            Clients.createTopic(node.bootstrapServers(), "after-raced", 1, Map.of());
            pipelines.deploy("after-raced", new PipelineAdmin.Code.OnClassPath(PipelineTest.Upper.class.getName()), Map.of("topics", "after-raced"));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipelines.describe("after-raced").orElseThrow().tasks())
                    .extracting(TaskStatus::state).containsExactly("RUNNING"));

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(kafkaClientIds())
                    .noneMatch(id -> id.equals("spate-pipeline-positions-raced") || id.matches("spate-pipeline-raced-\\d+")));
            assertThat(admin.listTopics().names().get()).doesNotContain("raced-n-changelog");
            pipelines.delete("after-raced", true);
        }
    }

    /**
     * A task failed for not returning from its code is not started again, on a resume, while its
     * thread is still in that code: the new instance would race it for the task's positions and
     * stores. It is reported failed meanwhile, and starts once the old thread has returned.
     */
    @Test
    void aTaskAbandonedInItsCodeStartsAgainOnlyOnceItsThreadHasReturned() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "stuck", 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), "stuck-out", 1, Map.of());
        produce("stuck", List.of(KeyValue.pair("k", "block")));
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("stuck", new PipelineAdmin.Code.OnClassPath(Stuck.class.getName()), Map.of("task.timeout.ms", "500"));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipelines.describe("stuck").orElseThrow().tasks())
                    .singleElement().satisfies(t -> {
                        assertThat(t.state()).isEqualTo("FAILED");
                        assertThat(t.error()).contains("task.timeout.ms");
                    }));

            pipelines.pause("stuck");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(pipelines.describe("stuck").orElseThrow().tasks())
                    .extracting(TaskStatus::state).containsExactly("PAUSED"));
            long resumed = pipelines.resume("stuck").generation();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(pipelines.describe("stuck").orElseThrow().tasks())
                    .singleElement().satisfies(t -> {
                        assertThat(t.generation()).isEqualTo(resumed);
                        assertThat(t.state()).isEqualTo("FAILED");
                        assertThat(t.error()).contains("has not returned from the pipeline's code");
                    }));
            assertThat(node.pipelineTasks()).doesNotContain(new TaskId("stuck", 0, 0));
            assertThat(Stuck.INSIDE).hasValue(1);

            Stuck.RELEASE.countDown();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipelines.describe("stuck").orElseThrow().tasks())
                    .singleElement().satisfies(t -> {
                        assertThat(t.generation()).isEqualTo(resumed);
                        assertThat(t.state()).isEqualTo("RUNNING");
                    }));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(values("stuck-out")).contains("BLOCK"));
            assertThat(Stuck.MOST_INSIDE).hasValue(1);
            pipelines.delete("stuck", true);
        }
    }

    /**
     * A pipeline's code that interrupts its own thread does not close the files of the logs its
     * task reads in place and appends its results to (a file channel used by an interrupted
     * thread closes for good): the task goes on without failing, and both partitions go on
     * taking and serving records for every client.
     */
    @Test
    void aPipelineThatInterruptsItsOwnThreadLeavesTheLogsItUsesWorking() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "selfint", 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), "selfint-out", 1, Map.of());
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("selfint", new PipelineAdmin.Code.OnClassPath(SelfInterrupting.class.getName()), Map.of());
            List<String> expected = new java.util.ArrayList<>();
            for (int round = 0; round < 3; round++) {
                List<KeyValue<String, String>> records = new java.util.ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    records.add(KeyValue.pair("k" + i, "r" + round + "-" + i));
                    expected.add(("r" + round + "-" + i).toUpperCase(java.util.Locale.ROOT));
                }
                produce("selfint", records); // each round once the last is through: micro-batches read after the flag was set
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(values("selfint-out")).containsAll(expected));
            }
            assertThat(pipelines.describe("selfint").orElseThrow().tasks()).singleElement().satisfies(t -> {
                assertThat(t.state()).isEqualTo("RUNNING");
                assertThat(t.failures()).isZero();
                assertThat(t.resultsInPlace()).as("appended in place, through the node's own file channel").isPositive();
            });
            produce("selfint", List.of(KeyValue.pair("k", "last")));
            assertThat(values("selfint")).hasSize(61).endsWith("last");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(values("selfint-out")).containsAll(expected).contains("LAST"));
            pipelines.delete("selfint", true);
        }
    }

    /**
     * Exactly-once in place, a store's failure is the node's, not the pipeline's code: the task
     * starts again from its output however often it meets one, and does not fail for good.
     */
    @Test
    void aStoreFailureExactlyOnceInPlaceRestartsTheTaskWithoutFailingIt() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "diskfail", 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), "diskfail-out", 1, Map.of());
        produce("diskfail", List.of(KeyValue.pair("k", "disk"), KeyValue.pair("k", "after")));
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("diskfail", new PipelineAdmin.Code.OnClassPath(FailingStore.class.getName()),
                    Map.of("processing.guarantee", "exactly_once"));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(values("diskfail-out")).containsExactly("DISK", "AFTER"));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(pipelines.describe("diskfail").orElseThrow().tasks())
                    .singleElement().satisfies(t -> {
                        assertThat(t.state()).isEqualTo("RUNNING");
                        assertThat(t.failures()).isEqualTo(3);
                        assertThat(t.resultsInPlace()).isEqualTo(2);
                    }));
            assertThat(FailingStore.FAILURES).hasValue(4);
            pipelines.delete("diskfail", true);
        }
    }

    /** A serde that throws while the task restores its store fails the task as the pipeline's code, instead of restoring forever. */
    @Test
    void aSerdeThatThrowsWhileRestoringFailsTheTask() throws Exception {
        long resumed = restartWithSerde("restorethrow", "throw");
        try (PipelineAdmin pipelines = node.pipelines()) {
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipelines.describe("restorethrow").orElseThrow().tasks())
                    .singleElement().satisfies(t -> {
                        assertThat(t.generation()).isEqualTo(resumed);
                        assertThat(t.state()).isEqualTo("FAILED");
                        assertThat(t.failures()).isGreaterThanOrEqualTo(3);
                        assertThat(t.error()).contains("the serde cannot read");
                    }));
            RestoreSerde.MODE.set("pass");
            pipelines.delete("restorethrow", true);
        }
    }

    /**
     * A task paused while its code blocks is still watched: past task.timeout.ms its thread is
     * interrupted, the code returns, and a resume starts the task again (before, nothing watched
     * a stopping task: the code stayed blocked and the task never started on this node again).
     */
    @Test
    void aTaskStoppedWhileItsCodeBlocksIsInterruptedPastTheTimeoutAndStartsAgainOnResume() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "sleeper", 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), "sleeper-out", 1, Map.of());
        produce("sleeper", List.of(KeyValue.pair("k", "sleep")));
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("sleeper", new PipelineAdmin.Code.OnClassPath(SleepsUntilInterrupted.class.getName()),
                    Map.of("task.timeout.ms", "3000"));
            assertThat(SleepsUntilInterrupted.ENTERED.await(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            pipelines.pause("sleeper");
            await().atMost(Duration.ofSeconds(30)).until(() -> SleepsUntilInterrupted.INTERRUPTED.get() == 1);

            produce("sleeper", List.of(KeyValue.pair("k", "after")));
            pipelines.resume("sleeper");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(values("sleeper-out")).contains("SLEEP", "AFTER"));
            pipelines.delete("sleeper", true);
        }
    }

    /** A serde that hangs while the task restores its store is found past task.timeout.ms, as a micro-batch would be. */
    @Test
    void aSerdeThatHangsWhileRestoringIsFoundStuck() throws Exception {
        long resumed = restartWithSerde("restorehang", "hang");
        try (PipelineAdmin pipelines = node.pipelines()) {
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipelines.describe("restorehang").orElseThrow().tasks())
                    .singleElement().satisfies(t -> {
                        assertThat(t.generation()).isEqualTo(resumed);
                        assertThat(t.state()).isEqualTo("FAILED");
                        assertThat(t.error()).contains("task.timeout.ms");
                    }));
            assertThat(RestoreSerde.HANGING).hasValue(1);
            RestoreSerde.MODE.set("pass");
            RestoreSerde.RELEASE.countDown();
            pipelines.delete("restorehang", true);
        }
    }

    /**
     * A pipeline deleted while paused takes with it the stores its tasks kept on disk at the
     * pause: a pipeline deployed later under its name must not start from them.
     */
    @Test
    void aDeletedPipelinesKeptStoresGoWithIt() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "kept", 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), "kept-out", 1, Map.of());
        produce("kept", List.of(KeyValue.pair("k", "a"), KeyValue.pair("k", "b")));
        Path kept = dataDir.resolve("pipelines").resolve("state").resolve("kept");
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("kept", new PipelineAdmin.Code.OnClassPath(RestoreSerde.class.getName()),
                    Map.of("topics", "kept", "state.store", "rocksdb"));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(values("kept-out")).containsExactly("a", "ab"));
            pipelines.pause("kept");
            await().atMost(Duration.ofSeconds(30)).until(() -> java.nio.file.Files.exists(kept.resolve("0_0").resolve(StateCheckpoint.FILE)));

            pipelines.delete("kept", true);
            await().atMost(Duration.ofSeconds(30)).until(() -> !java.nio.file.Files.exists(kept));
        }
    }

    /** Runs {@link RestoreSerde} on {@code topic} until its store holds something, then pauses and resumes it with the serde in {@code mode}. */
    private static long restartWithSerde(String topic, String mode) throws Exception {
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        Clients.createTopic(node.bootstrapServers(), topic + "-out", 1, Map.of());
        produce(topic, List.of(KeyValue.pair("k", "a"), KeyValue.pair("k", "b")));
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy(topic, new PipelineAdmin.Code.OnClassPath(RestoreSerde.class.getName()),
                    Map.of("topics", topic, "task.timeout.ms", "500"));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(values(topic + "-out")).containsExactly("a", "ab"));
            pipelines.pause(topic);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(pipelines.describe(topic).orElseThrow().tasks())
                    .extracting(TaskStatus::state).containsExactly("PAUSED"));
            await().atMost(Duration.ofSeconds(30)).until(() -> !node.pipelineTasks().contains(new TaskId(topic, 0, 0)));
            RestoreSerde.MODE.set(mode);
            return pipelines.resume(topic).generation();
        }
    }

    private static void produce(String topic, List<KeyValue<String, String>> records) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (KeyValue<String, String> r : records) {
                producer.send(new ProducerRecord<>(topic, r.key(), r.value())).get();
            }
        }
    }

    private static List<String> values(String topic) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", node.bootstrapServers(),
                "isolation.level", "read_committed"), new StringDeserializer(), new StringDeserializer())) {
            return Clients.readAll(consumer, Clients.partitions(topic, 1)).stream().map(ConsumerRecord::value).toList();
        }
    }

    /** Waits for the node to take back a report of {@code pipelinePrefix}: a null value under one of its status keys. */
    private static void awaitStatusTombstone(String pipelinePrefix) {
        TopicPartition status = new TopicPartition(CatalogRecords.STATUS_TOPIC, 0);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", node.bootstrapServers()),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(status));
            consumer.seekToBeginning(List.of(status));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() != null && r.key().startsWith(pipelinePrefix) && r.value() == null) {
                        return true;
                    }
                }
                return false;
            });
        }
    }

    /** The client ids of every Kafka client open in this JVM (the node's own included). */
    private static List<String> kafkaClientIds() throws Exception {
        return ManagementFactory.getPlatformMBeanServer().queryNames(new ObjectName("kafka.*:*"), null).stream()
                .map(name -> name.getKeyProperty("client-id")).filter(java.util.Objects::nonNull).distinct().toList();
    }
}
