package io.spate.tests;

import io.spate.processing.PipelineAdmin;
import io.spate.processing.TaskStatus;
import io.spate.tests.support.PipelineJars;
import io.spate.tests.support.RawKafkaClient;
import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.SteadyProducer;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A pipeline deployed as a jar on a 3-node cluster of real node processes: clicks joined with a
 * users table, re-keyed by region and counted in tumbling windows, under a steady load from the
 * real Kafka producer, while the node leading most of its input is killed with {@code kill -9} and
 * later restarted. The tasks follow the input leaders (checked from `describe`); at the end,
 * exactly-once counts are exact (read_committed) and at-least-once counts miss nothing.
 */
class PipelineClusterTest {
    private static final long WINDOW_MS = 600_000;
    private static final int USERS = 20;

    @TempDir
    static Path tmp;
    private static SpateCluster cluster;
    private static Path jar;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("transaction.state.log.num.partitions", "3",
                "offsets.topic.num.partitions", "3")).start();
        jar = PipelineJars.build(tmp, "regions", List.of(new PipelineJars.Source("com.example.RegionWindows", """
                package com.example;

                import io.spate.stream.KeyValue;
                import io.spate.stream.Pipeline;
                import io.spate.stream.PipelineBuilder;
                import io.spate.stream.Serdes;
                import io.spate.stream.SinkPartition;
                import io.spate.stream.TumblingWindows;
                import java.time.Duration;

                public class RegionWindows implements Pipeline {
                    @Override
                    public void define(PipelineBuilder builder) {
                        String prefix = builder.setting("prefix", "x");
                        var users = builder.table(prefix + "-users", Serdes.string(), Serdes.string());
                        builder.stream(prefix + "-clicks", Serdes.string(), Serdes.string())
                                .join(users, (page, region) -> region)
                                .withSerdes(Serdes.string(), Serdes.string())
                                .groupBy((user, region) -> region, Serdes.string())
                                .windowedBy(TumblingWindows.of(Duration.ofMillis(%d)).grace(Duration.ofHours(1)))
                                .count()
                                .toStream()
                                .map((window, count) -> KeyValue.pair(window.key() + "@" + window.start(), count), Serdes.string(), Serdes.longs())
                                .to(prefix + "-counts", Serdes.string(), Serdes.longs(), SinkPartition.valueOf(builder.setting("out-partition", "KEY")));
                    }
                }
                """.formatted(WINDOW_MS)), new PipelineJars.Source("com.example.Tag", """
                package com.example;

                import io.spate.stream.Pipeline;
                import io.spate.stream.PipelineBuilder;
                import io.spate.stream.Serdes;

                public class Tag implements Pipeline {
                    @Override
                    public void define(PipelineBuilder builder) {
                        String prefix = builder.setting("prefix", "x");
                        builder.stream(prefix + "-clicks", Serdes.string(), Serdes.string())
                                .mapValues(page -> "tagged " + page, Serdes.string())
                                .to(prefix + "-tagged", Serdes.string(), Serdes.string());
                    }
                }
                """), new PipelineJars.Source("com.example.LabelledCount", """
                package com.example;

                import io.spate.stream.Pipeline;
                import io.spate.stream.PipelineBuilder;
                import io.spate.stream.Serdes;
                import io.spate.stream.SinkPartition;

                public class LabelledCount implements Pipeline {
                    @Override
                    public void define(PipelineBuilder builder) {
                        String prefix = builder.setting("prefix", "x");
                        var words = builder.stream(prefix + "-words", Serdes.string(), Serdes.string());
                        var labels = builder.table(prefix + "-labels", Serdes.string(), Serdes.string());
                        words.join(labels, (word, label) -> label)
                                .withSerdes(Serdes.string(), Serdes.string())
                                .groupByKey()
                                .count()
                                .toStream()
                                .to(prefix + "-counts", Serdes.string(), Serdes.longs(), SinkPartition.TASK);
                    }
                }
                """)));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String region(int user) {
        return "r" + (user % 3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"exactly_once", "at_least_once"})
    void countsSurviveAKill9OfTheNodeLeadingMostOfTheInput(String guarantee) throws Exception {
        String prefix = guarantee.equals("exactly_once") ? "eos" : "alos";
        String clicks = prefix + "-clicks";
        cluster.createTopic(clicks, 6, 3, Map.of("min.insync.replicas", "2"));
        cluster.createTopic(prefix + "-users", 6, 3, Map.of("cleanup.policy", "compact", "spate.colocate.with", clicks));
        cluster.awaitFullIsr(clicks, 6, 3);
        cluster.awaitFullIsr(prefix + "-users", 6, 3);
        for (int p = 0; p < 6; p++) {
            assertThat(cluster.awaitLeader(prefix + "-users", p)).as("users-%d is led with clicks-%d", p, p).isEqualTo(cluster.awaitLeader(clicks, p));
        }
        try (KafkaProducer<String, String> producer = producer()) {
            for (int u = 0; u < USERS; u++) {
                producer.send(new ProducerRecord<>(prefix + "-users", "user" + u, region(u))).get();
            }
        }
        boolean exactlyOnce = guarantee.equals("exactly_once");
        if (exactlyOnce) {
            cluster.createTopic(prefix + "-tagged", 6, 3, Map.of("min.insync.replicas", "2", "spate.colocate.with", clicks));
            cluster.awaitFullIsr(prefix + "-tagged", 6, 3);
        }
        try (PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap())) {
            // Exactly-once, each count goes to the partition its task holds: committed in place, with the
            // window store's changes, no transaction (at-least-once, by key: most go to another node).
            pipelines.deploy(prefix, new PipelineAdmin.Code.Jar(jar, "com.example.RegionWindows"),
                    Map.of("prefix", prefix, "processing.guarantee", guarantee, "out-partition", guarantee.equals("exactly_once") ? "TASK" : "KEY"));
            if (exactlyOnce) {
                // Stateless, one output partition per task: committed in place with the results, no transaction. Group
                // commits only every 30 s, so after the kill the positions come from the output itself.
                pipelines.deploy(prefix + "-tag", new PipelineAdmin.Code.Jar(jar, "com.example.Tag"),
                        Map.of("prefix", prefix, "processing.guarantee", guarantee, "commit.interval.ms", "30000"));
            }
        }

        Map<String, Long> expected = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> loadFailure = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        Thread load = Thread.ofPlatform().name("clicks-" + prefix).start(() -> {
            try (KafkaProducer<String, String> producer = producer()) {
                int i = 0;
                while (!stop.get()) {
                    int user = i % USERS;
                    RecordMetadata written = producer.send(new ProducerRecord<>(clicks, "user" + user, "/page/" + i)).get();
                    expected.merge(region(user) + "@" + (written.timestamp() - written.timestamp() % WINDOW_MS), 1L, Long::sum);
                    sent.set(++i);
                    Thread.sleep(5);
                }
            } catch (Throwable e) {
                loadFailure.set(e);
            }
        });
        int victim = -1;
        try {
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> readCounts(prefix + "-counts").values().stream().mapToLong(Long::longValue).sum() > 0);
            Map<Integer, Integer> leads = new HashMap<>();
            for (int p = 0; p < 6; p++) {
                leads.merge(cluster.awaitLeader(clicks, p), 1, Integer::sum);
            }
            victim = leads.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
            cluster.mark("killing node " + victim + ", leader of " + leads.get(victim) + " clicks partitions, after " + sent.get() + " clicks");
            cluster.kill9(victim);
            int killed = victim;
            // The tasks follow the new leaders: every task of the join reports from its input's leader.
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() -> {
                try (PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap())) {
                    List<TaskStatus> tasks = pipelines.describe(prefix).orElseThrow().tasks();
                    SpateCluster.log("tasks after the kill: " + tasks);
                    List<TaskStatus> join = tasks.stream().filter(t -> t.subTopology() == 0).toList();
                    assertThat(join).hasSize(6);
                    for (TaskStatus t : join) {
                        assertThat(t.node()).as("task 0/%d", t.partition()).isNotEqualTo(killed)
                                .isEqualTo(cluster.leader(clicks, t.partition()).orElse(-1));
                        assertThat(t.state()).isEqualTo("RUNNING");
                    }
                }
            });
            int before = sent.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() > before + 200 || loadFailure.get() != null);
            cluster.start(victim);
            victim = -1;
            int afterRestart = sent.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() > afterRestart + 200 || loadFailure.get() != null);
            if (exactlyOnce) {
                // The pass-through's output partition 0 moves for good to a node that does not lead its input partition:
                // task 0 settles its positions from that leader (no in-place read) and goes on with transactions.
                TopicPartition tagged0 = new TopicPartition(prefix + "-tagged", 0);
                int inputPreferred = cluster.admin().describeTopics(List.of(clicks)).allTopicNames().get().get(clicks)
                        .partitions().get(0).replicas().get(0).id();
                List<Integer> replicas = cluster.admin().describeTopics(List.of(tagged0.topic())).allTopicNames().get().get(tagged0.topic())
                        .partitions().get(0).replicas().stream().map(org.apache.kafka.common.Node::id).toList();
                int elsewhere = replicas.stream().filter(n -> n != inputPreferred).findFirst().orElseThrow();
                List<Integer> reordered = new ArrayList<>(List.of(elsewhere));
                replicas.stream().filter(n -> n != elsewhere).forEach(reordered::add);
                cluster.mark("moving the leadership of " + tagged0 + " to node " + elsewhere + ", away from its input's preferred node "
                        + inputPreferred);
                moveLeadership(tagged0, reordered);
                int afterMove = sent.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() > afterMove + 200 || loadFailure.get() != null);
                // And back to its input's node: task 0 commits in place again (a leadership split
                // by a fail-over does not leave it in transactions for as long as it runs).
                long inPlaceBefore = tagTask0(prefix).resultsInPlace();
                cluster.mark("moving the leadership of " + tagged0 + " back to node " + inputPreferred + " (" + inPlaceBefore
                        + " results of task 0 in place so far)");
                moveLeadership(tagged0, replicas);
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() ->
                        assertThat(tagTask0(prefix).resultsInPlace()).as("task 0's results in place").isGreaterThan(inPlaceBefore));
            }
        } finally {
            stop.set(true);
            load.join(60_000);
            if (victim >= 0) {
                cluster.start(victim);
            }
        }
        assertThat(loadFailure.get()).isNull();
        Map<String, Long> want = new TreeMap<>(expected);
        await().atMost(Duration.ofSeconds(120)).ignoreExceptions().untilAsserted(() -> {
            Map<String, Long> counts = readCounts(prefix + "-counts");
            if (guarantee.equals("exactly_once")) {
                assertThat(counts).isEqualTo(want);
            } else {
                assertThat(counts.keySet()).isEqualTo(want.keySet());
                want.forEach((key, count) -> assertThat(counts.get(key)).as(key).isGreaterThanOrEqualTo(count));
            }
        });
        SpateCluster.log(prefix + ": " + sent.get() + " clicks counted as " + want);
        if (exactlyOnce) {
            int clicksSent = sent.get();
            await().atMost(Duration.ofSeconds(120)).ignoreExceptions().untilAsserted(() -> {
                List<ConsumerRecord<String, String>> tagged = readRecords(prefix + "-tagged");
                List<String> values = tagged.stream().map(ConsumerRecord::value).toList();
                SpateCluster.log("tagged: " + values.size() + " of " + clicksSent + " read");
                assertThat(values).hasSize(clicksSent).doesNotHaveDuplicates();
                java.util.Set<String> distinct = new java.util.HashSet<>(values);
                for (int i = 0; i < clicksSent; i++) {
                    assertThat(distinct.contains("tagged /page/" + i)).as("click %d tagged", i).isTrue();
                }
                // Partitions 1-5 (led with their input) were written in place, by no transaction: no offset went to a
                // commit or abort marker, and the batches carry their input positions.
                for (int p = 1; p < 6; p++) {
                    int partition = p;
                    List<Long> offsets = tagged.stream().filter(r -> r.partition() == partition).map(ConsumerRecord::offset).toList();
                    assertThat(offsets).as("offsets of partition %d", p).isEqualTo(java.util.stream.LongStream.range(0, offsets.size()).boxed().toList());
                }
                assertThat(tagged).anySatisfy(r -> assertThat(r.headers().lastHeader("spate.position")).isNotNull());
            });
        }
    }

    /** Reorders {@code tp}'s replicas and elects the first of them, until it leads. */
    private void moveLeadership(TopicPartition tp, List<Integer> replicas) throws Exception {
        cluster.admin().alterPartitionReassignments(Map.of(tp,
                java.util.Optional.of(new org.apache.kafka.clients.admin.NewPartitionReassignment(replicas)))).all().get();
        int leader = replicas.get(0);
        await().atMost(SpateCluster.SETTLE).ignoreExceptions().until(() -> {
            if (cluster.leader(tp.topic(), tp.partition()).orElse(-1) != leader) {
                cluster.admin().electLeaders(org.apache.kafka.common.ElectionType.PREFERRED, java.util.Set.of(tp)).all().get();
            }
            return cluster.leader(tp.topic(), tp.partition()).orElse(-1) == leader;
        });
    }

    /** The pass-through's task on input partition 0, as {@code describe} reports it. */
    private TaskStatus tagTask0(String prefix) throws Exception {
        try (PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap())) {
            return pipelines.describe(prefix + "-tag").orElseThrow().tasks().stream().filter(t -> t.partition() == 0).findFirst().orElseThrow();
        }
    }

    /**
     * Standbys: with {@code num.standby.replicas=2} both followers of each input partition keep a
     * warm copy of its task's stores, a count applied from its changelog and a source table (the
     * labels the words are joined with) applied from the table's topic up to the committed
     * position, both read from the node's own replicas (`describe` lists them, caught up). After
     * a {@code kill -9} of the node leading partition 0, each task that moved starts on the new
     * leader from that node's standby stores and reads less than the labels of its partition
     * (a restore without the standby's table would read them all); the counts, exactly-once, go
     * on exact. The same with the stores in RocksDB, where a standby keeps its databases in a
     * directory of its own and hands them over open.
     */
    @ParameterizedTest
    @CsvSource({"in_memory, 2", "rocksdb, 1"})
    void aTaskThatMovesAfterAKill9TakesOverItsStandbysWarmStores(String stateStore, int standbys) throws Exception {
        String prefix = "standby-" + stateStore.replace("_", "");
        String words = prefix + "-words";
        int keys = 30;
        String labels = prefix + "-labels";
        cluster.createTopic(words, 6, 3, Map.of("min.insync.replicas", "2"));
        cluster.createTopic(labels, 6, 3, Map.of("min.insync.replicas", "2", "cleanup.policy", "compact", "spate.colocate.with", words));
        cluster.awaitFullIsr(words, 6, 3);
        cluster.awaitFullIsr(labels, 6, 3);
        int labelUpdates = 5;
        Map<Integer, Integer> labelsIn = new HashMap<>();
        try (KafkaProducer<String, String> producer = producer()) {
            for (int k = 0; k < keys; k++) {
                for (int u = 0; u < labelUpdates; u++) {
                    producer.send(new ProducerRecord<>(labels, "k" + k, "label-" + u)).get();
                }
                labelsIn.merge(partitionOf("k" + k, 6), labelUpdates, Integer::sum);
            }
        }
        try (PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap())) {
            pipelines.deploy(prefix, new PipelineAdmin.Code.Jar(jar, "com.example.LabelledCount"),
                    Map.of("prefix", prefix, "processing.guarantee", "exactly_once", "num.standby.replicas", String.valueOf(standbys), "state.store", stateStore));
        }
        sendRound(words, keys);
        Map<String, Long> once = new TreeMap<>();
        for (int k = 0; k < keys; k++) {
            once.put("k" + k, 20L);
        }
        await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() -> assertThat(readCounts(prefix + "-counts")).isEqualTo(once));
        // Every task has its standbys, each caught up with its changelog.
        awaitStandbys(prefix, standbys, -1);
        Map<Integer, Integer> leadersBefore = new HashMap<>();
        for (int p = 0; p < 6; p++) {
            leadersBefore.put(p, cluster.awaitLeader(words, p));
        }
        // The controller's node, when it leads some of the tasks: the others then fence themselves
        // for a moment, unanswered while the controller fails over, and lead again what they led.
        int controller = cluster.controller().orElse(-1);
        int victim = leadersBefore.containsValue(controller) ? controller : leadersBefore.get(0);
        Map<Integer, TaskStatus> stayingBefore = new HashMap<>();
        try (PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap())) {
            pipelines.describe(prefix).orElseThrow().tasks().stream().filter(t -> leadersBefore.get(t.partition()) != victim)
                    .forEach(t -> stayingBefore.put(t.partition(), t));
        }
        int survivor = cluster.ids().stream().filter(n -> n != victim).findFirst().orElseThrow();
        Map<Integer, Integer> stayingEpochs = new HashMap<>();
        for (int p : stayingBefore.keySet()) {
            stayingEpochs.put(p, leaderEpochAt(survivor, new TopicPartition(words, p)));
        }
        // The in-sync order decides who leads next (and where the first standby is): in the log when this fails.
        SpateCluster.log("before the kill: " + cluster.describeForHumans(words) + " " + cluster.describeForHumans(labels));
        cluster.mark("killing node " + victim + " (the controller's: " + (victim == controller) + "), its standbys caught up");
        cluster.kill9(victim);
        try {
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() -> {
                try (PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap())) {
                    List<TaskStatus> tasks = pipelines.describe(prefix).orElseThrow().tasks();
                    SpateCluster.log("tasks after the kill: " + tasks);
                    assertThat(tasks).hasSize(6);
                    List<TaskStatus> moved = tasks.stream().filter(t -> leadersBefore.get(t.partition()) == victim).toList();
                    assertThat(moved).isNotEmpty().allSatisfy(t -> {
                        assertThat(t.node()).isNotEqualTo(victim).isEqualTo(cluster.leader(words, t.partition()).orElse(-1));
                        assertThat(t.state()).isEqualTo("RUNNING");
                        assertThat(t.standbyRecords()).as("records task %d took over from its standby", t.partition()).isPositive();
                        assertThat(t.restoredRecords()).as("records task %d read itself", t.partition())
                                .isLessThan(t.standbyRecords()).isLessThan(labelsIn.get(t.partition()));
                    });
                    // A task whose node kept its leadership ran on, through the moment its node may have
                    // fenced itself (which keeps the epoch): not restarted, its stores kept. On a starved
                    // machine the new controller may fence a live node that missed its first heartbeats:
                    // its partitions then moved (a new epoch) and its tasks started again, as they should.
                    assertThat(tasks).filteredOn(t -> stayingBefore.containsKey(t.partition())).hasSize(stayingBefore.size()).allSatisfy(t -> {
                        TaskStatus before = stayingBefore.get(t.partition());
                        int epochNow = leaderEpochAt(survivor, new TopicPartition(words, t.partition()));
                        if (epochNow != stayingEpochs.get(t.partition())) {
                            SpateCluster.log("task " + t.partition() + "'s partition changed leaders meanwhile (epoch " + stayingEpochs.get(t.partition())
                                    + " then " + epochNow + "): not checked for running on");
                            assertThat(t.node()).isEqualTo(cluster.leader(words, t.partition()).orElse(-1));
                            return;
                        }
                        assertThat(t.node()).isEqualTo(before.node());
                        // A task started again counts from zero.
                        assertThat(t.recordsProcessed()).as("records task %d processed, which did not move", t.partition())
                                .isGreaterThanOrEqualTo(before.recordsProcessed()).isPositive();
                    });
                }
            });
            // The killed node, fenced, has left the in-sync sets: a task whose standby it held (or whose
            // second one, with two) has one again on the follower still in sync.
            awaitStandbys(prefix, 1, victim);
            sendRound(words, keys);
            Map<String, Long> twice = new TreeMap<>();
            once.forEach((key, count) -> twice.put(key, 2 * count));
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() -> assertThat(readCounts(prefix + "-counts")).isEqualTo(twice));
        } finally {
            cluster.start(victim);
        }
        try (PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap())) {
            pipelines.delete(prefix, true);
        }
    }

    /** Waits until each of the 6 tasks has {@code perTask} standbys, none on {@code down}, each caught up. */
    private static void awaitStandbys(String pipeline, int perTask, int down) {
        await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() -> {
            try (PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap())) {
                PipelineAdmin.Description described = pipelines.describe(pipeline).orElseThrow();
                SpateCluster.log("standbys: " + described.standbys());
                assertThat(described.tasks()).hasSize(6);
                assertThat(described.standbys()).hasSize(6 * perTask);
                for (TaskStatus task : described.tasks()) {
                    List<TaskStatus> mine = described.standbys().stream().filter(s -> s.partition() == task.partition()).toList();
                    assertThat(mine).extracting(TaskStatus::node).as("standbys of task %d", task.partition())
                            .doesNotContain(task.node(), down).doesNotHaveDuplicates().hasSize(perTask);
                    assertThat(mine).allSatisfy(s -> {
                        assertThat(s.standbyRecords()).isPositive();
                        assertThat(s.inputLag()).isZero();
                    });
                }
            }
        });
    }

    /** The partition the Kafka producer's default partitioner gives {@code key}. */
    private static int partitionOf(String key, int partitions) {
        return org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
                key.getBytes(java.nio.charset.StandardCharsets.UTF_8))) % partitions;
    }

    /** Twenty records for each of {@code keys} keys, acknowledged by all in-sync replicas. */
    private static void sendRound(String topic, int keys) throws Exception {
        try (KafkaProducer<String, String> producer = producer()) {
            List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                for (int k = 0; k < keys; k++) {
                    sent.add(producer.send(new ProducerRecord<>(topic, "k" + k, "w" + i)));
                }
            }
            for (java.util.concurrent.Future<RecordMetadata> f : sent) {
                f.get();
            }
        }
    }

    /**
     * A follower of a pass-through pipeline's output partition paused with SIGSTOP, the output
     * asking for all three replicas in sync (min.insync.replicas=3), the pipeline's
     * request.timeout.ms 2 s: an append in place times out waiting for it. That batch is in the
     * leader's log, so the task waits for it to be committed (exactly-once, after finding its
     * position there) rather than appending it again, and neither fails nor restarts; once the
     * follower is resumed and back in the in-sync set, every result is there, once exactly-once,
     * all of them in place.
     */
    @ParameterizedTest
    @ValueSource(strings = {"exactly_once", "at_least_once"})
    void anAppendInPlaceThatTimedOutWhileAFollowerWasPausedIsWaitedForNotRestarted(String guarantee) throws Exception {
        boolean exactlyOnce = guarantee.equals("exactly_once");
        String prefix = exactlyOnce ? "peos" : "palos";
        String clicks = prefix + "-clicks";
        String tagged = prefix + "-tagged";
        // The input has one replica (pausing a node holds nothing of it back); the output three, led by the
        // input's node, where the task runs. The paused node is neither that node nor the controller: the
        // leader's lease and the metadata quorum stay as they are.
        cluster.createTopic(clicks, 1, 1, Map.of());
        cluster.createTopic(tagged, 1, 3, Map.of("min.insync.replicas", "3"));
        int leader = cluster.awaitLeader(clicks, 0);
        int controller = await().atMost(SpateCluster.SETTLE).ignoreExceptions().until(cluster::controller, java.util.Optional::isPresent).orElseThrow();
        int paused = cluster.ids().stream().filter(id -> id != leader && id != controller).sorted().findFirst().orElseThrow();
        TopicPartition tagged0 = new TopicPartition(tagged, 0);
        List<Integer> replicas = new ArrayList<>(List.of(leader));
        cluster.ids().stream().filter(id -> id != leader).sorted().forEach(replicas::add);
        cluster.admin().alterPartitionReassignments(Map.of(tagged0,
                java.util.Optional.of(new org.apache.kafka.clients.admin.NewPartitionReassignment(replicas)))).all().get();
        await().atMost(SpateCluster.SETTLE).ignoreExceptions().until(() -> {
            if (cluster.leader(tagged, 0).orElse(-1) != leader) {
                cluster.admin().electLeaders(org.apache.kafka.common.ElectionType.PREFERRED, java.util.Set.of(tagged0)).all().get();
            }
            return cluster.leader(tagged, 0).orElse(-1) == leader;
        });
        cluster.awaitFullIsr(tagged, 1, 3);
        // Through the node that is never paused: a client that picks a paused node first waits out its request timeout.
        try (KafkaProducer<String, String> producer = producer();
             PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap(leader))) {
            for (int i = 0; i < 50; i++) {
                producer.send(new ProducerRecord<>(clicks, "user" + i, "/page/" + i)).get();
            }
            Map<String, String> settings = new HashMap<>(Map.of("prefix", prefix, "processing.guarantee", guarantee,
                    "request.timeout.ms", "2000"));
            if (exactlyOnce) {
                settings.put("commit.interval.ms", "30000"); // no group commit while a node is paused: only the append is tested
            }
            pipelines.deploy(prefix + "-tag", new PipelineAdmin.Code.Jar(jar, "com.example.Tag"), settings);
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() -> assertThat(readRecords(tagged, 1)).hasSize(50));

            cluster.pause(paused);
            try {
                for (int i = 50; i < 100; i++) {
                    producer.send(new ProducerRecord<>(clicks, "user" + i, "/page/" + i)).get();
                }
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() ->
                        assertThat(pipelines.describe(prefix + "-tag").orElseThrow().tasks()).singleElement()
                                .satisfies(t -> assertThat(t.error()).contains("TIMED_OUT")));
            } finally {
                cluster.resume(paused);
            }
            cluster.awaitFullIsr(tagged, 1, 3);
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() -> {
                List<String> values = readRecords(tagged, 1).stream().map(ConsumerRecord::value).toList();
                List<String> want = java.util.stream.IntStream.range(0, 100).mapToObj(i -> "tagged /page/" + i).toList();
                if (exactlyOnce) {
                    assertThat(values).containsExactlyElementsOf(want);
                } else {
                    assertThat(values).containsAll(want);
                }
            });
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() ->
                    assertThat(pipelines.describe(prefix + "-tag").orElseThrow().tasks()).singleElement().satisfies(t -> {
                        assertThat(t.node()).isEqualTo(leader);
                        assertThat(t.failures()).as("waited for, not restarted").isZero();
                        assertThat(t.error()).as("past the retry").isEmpty();
                        assertThat(t.state()).isEqualTo("RUNNING");
                        assertThat(t.resultsSent()).as("every result in place").isZero();
                        assertThat(t.resultsInPlace()).isGreaterThanOrEqualTo(100);
                    }));
            pipelines.delete(prefix + "-tag", true);
        }
    }

    /**
     * A reassignment that drops a follower of a pass-through pipeline's input partition keeps its
     * leader but, as Kafka's controller does, gives the partition a newer leader epoch there. The
     * exactly-once task in place on that node began under the old epoch, and its node starts no
     * new task for a partition it already led: the attempt itself starts again under the new
     * epoch (it used to wait, HELD, for good). Under a steady load its results keep coming after
     * the move, the task ends RUNNING with no lag, and every result is there exactly once.
     */
    @Test
    void anExactlyOnceTaskInPlaceGoesOnAfterAReassignmentThatKeepsItsInputsLeader() throws Exception {
        String prefix = "keep";
        String clicks = prefix + "-clicks";
        String tagged = prefix + "-tagged";
        TopicPartition clicks0 = new TopicPartition(clicks, 0);
        cluster.createTopic(clicks, 1, 3, Map.of("min.insync.replicas", "2"));
        cluster.createTopic(tagged, 1, 3, Map.of("min.insync.replicas", "2", "spate.colocate.with", clicks));
        int leader = cluster.awaitLeader(clicks, 0);
        assertThat(cluster.awaitLeader(tagged, 0)).as("the output is led with the input").isEqualTo(leader);
        SteadyProducer load = new SteadyProducer(cluster.bootstrap(), clicks, 1, 200, Map.of()).start();
        try (load; PipelineAdmin pipelines = new PipelineAdmin(cluster.bootstrap())) {
            pipelines.deploy(prefix + "-tag", new PipelineAdmin.Code.Jar(jar, "com.example.Tag"),
                    Map.of("prefix", prefix, "processing.guarantee", "exactly_once"));
            // The premise: the task runs on the input's leader and writes its results in place, no transaction.
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() ->
                    assertThat(pipelines.describe(prefix + "-tag").orElseThrow().tasks()).singleElement().satisfies(t -> {
                        assertThat(t.node()).isEqualTo(leader);
                        assertThat(t.state()).isEqualTo("RUNNING");
                        assertThat(t.resultsInPlace()).isPositive();
                        assertThat(t.resultsSent()).isZero();
                    }));
            int epochBefore = leaderEpochAt(leader, clicks0);
            List<Integer> replicas = cluster.partitionInfo(clicks, 0).replicas().stream().map(org.apache.kafka.common.Node::id).toList();
            List<Integer> kept = new ArrayList<>(List.of(leader));
            replicas.stream().filter(id -> id != leader).limit(1).forEach(kept::add);
            cluster.mark("reassigning " + clicks0 + " from " + replicas + " to " + kept + ", keeping its leader " + leader
                    + " (epoch " + epochBefore + "), after " + load.sent() + " clicks");
            cluster.admin().alterPartitionReassignments(Map.of(clicks0, Optional.of(new NewPartitionReassignment(kept)))).all().get();
            await("the move done, the leader kept at a newer epoch").atMost(SpateCluster.SETTLE).ignoreExceptions().untilAsserted(() -> {
                assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).doesNotContainKey(clicks0);
                assertThat(cluster.partitionInfo(clicks, 0).replicas()).extracting(org.apache.kafka.common.Node::id).containsExactlyElementsOf(kept);
                assertThat(cluster.leader(clicks, 0)).contains(leader);
                assertThat(leaderEpochAt(leader, clicks0)).isGreaterThan(epochBefore);
            });
            long movedAt = load.sent();
            await().atMost(Duration.ofSeconds(30)).until(() -> load.ackedFrom(movedAt) >= 200 || !load.failures().isEmpty());
            long inputEnd = cluster.admin().listOffsets(Map.of(clicks0, org.apache.kafka.clients.admin.OffsetSpec.latest())).all().get()
                    .get(clicks0).offset();
            // Results of the input written after the move: the task goes on under the new epoch.
            await("results past the move").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
                int results = readRecords(tagged, 1).size();
                SpateCluster.log("after the move: " + results + " results of " + inputEnd + " clicks; tasks "
                        + pipelines.describe(prefix + "-tag").orElseThrow().tasks());
                assertThat(results).isGreaterThanOrEqualTo((int) inputEnd);
            });
            load.stop();
            assertThat(load.failureSummary()).isEqualTo("no send failures");
            List<String> want = load.acks().stream().sorted(java.util.Comparator.comparingLong(SteadyProducer.Ack::offset))
                    .map(a -> "tagged " + a.value()).toList();
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
                assertThat(readRecords(tagged, 1).stream().map(ConsumerRecord::value).toList()).containsExactlyElementsOf(want);
                assertThat(pipelines.describe(prefix + "-tag").orElseThrow().tasks()).singleElement().satisfies(t -> {
                    assertThat(t.node()).isEqualTo(leader);
                    assertThat(t.state()).isEqualTo("RUNNING");
                    // A held task reports the lag it last saw: the records it processed say it went on.
                    assertThat(t.recordsProcessed()).isGreaterThanOrEqualTo(want.size());
                    assertThat(t.inputLag()).isZero();
                    assertThat(t.resultsSent()).as("still in place").isZero();
                });
            });
            SpateCluster.log(prefix + ": " + want.size() + " clicks tagged exactly once across the move");
            pipelines.delete(prefix + "-tag", true);
        }
    }

    /** The leader epoch of {@code tp} as node {@code id} knows it (its own metadata image). */
    private static int leaderEpochAt(int id, TopicPartition tp) throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(cluster.bootstrap(id))) {
            MetadataResponse response = client.send(new MetadataRequest.Builder(List.of(tp.topic()), false).build((short) 12));
            return response.data().topics().find(tp.topic()).partitions().stream().filter(p -> p.partitionIndex() == tp.partition())
                    .findFirst().orElseThrow().leaderEpoch();
        }
    }

    /** Every record of the topic's 6 partitions, as a read_committed consumer sees them. */
    private static List<ConsumerRecord<String, String>> readRecords(String topic) {
        return readRecords(topic, 6);
    }

    /** Every record of the topic's first {@code partitionCount} partitions, as a read_committed consumer sees them. */
    private static List<ConsumerRecord<String, String>> readRecords(String topic, int partitionCount) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", cluster.bootstrap(),
                "isolation.level", "read_committed"), new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < partitionCount; p++) {
                partitions.add(new TopicPartition(topic, p));
            }
            return io.spate.tests.support.Clients.readAll(consumer, partitions);
        }
    }

    private static KafkaProducer<String, String> producer() {
        return new KafkaProducer<>(Map.of("bootstrap.servers", cluster.bootstrap(), ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000), new StringSerializer(), new StringSerializer());
    }

    /** The last count of each region and window, as a read_committed consumer sees the output. */
    private static Map<String, Long> readCounts(String topic) {
        Map<String, Long> counts = new TreeMap<>();
        try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", cluster.bootstrap(),
                "isolation.level", "read_committed"), new StringDeserializer(), new LongDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < 6; p++) {
                partitions.add(new TopicPartition(topic, p));
            }
            for (ConsumerRecord<String, Long> r : io.spate.tests.support.Clients.readAll(consumer, partitions)) {
                counts.put(r.key(), r.value());
            }
        }
        return counts;
    }
}
