package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The group coordinator driven by two consumer implementations not written here: librdkafka's
 * balanced consumer ({@code kcat -G}, installed by scripts/test.sh) and the npm package kafkajs
 * (installed by scripts/test.sh into src/test/node/node_modules). Each runs as a child process;
 * the tests assert on what the processes print and on the group state the Java AdminClient sees.
 */
class ThirdPartyGroupClientsTest {
    private static final Path NODE_DIR = Path.of("src/test/node").toAbsolutePath();
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dataDir;
    static SpateNode node;

    private final List<Child> children = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).config("group.initial.rebalance.delay.ms", "200").start();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @AfterEach
    void killChildren() throws InterruptedException {
        for (Child child : children) {
            child.kill();
        }
    }

    // ------------------------------------------------------------------ kcat -G (librdkafka)

    @Test
    void kcatBalancedConsumersSplitTheTopicCommitAndANewMemberResumes() throws Exception {
        String topic = "kcat-group-topic";
        String group = "kcat-group";
        Clients.createTopic(node.bootstrapServers(), topic, 4, Map.of());

        Child a = kcatGroupConsumer("kcat-a", group, topic);
        Child b = kcatGroupConsumer("kcat-b", group, topic);
        // Both members own a share: the last rebalance each reported splits the four partitions.
        awaitSplit(a, b, ThirdPartyGroupClientsTest::kcatAssignment);
        Map<String, Set<Integer>> byMember = Map.of(kcatMemberId(a), kcatAssignment(a), kcatMemberId(b), kcatAssignment(b));
        awaitStableGroupWithAssignments(group, topic, byMember);

        produce(topic, 4, 25, 0);
        List<Consumed> fromA = new ArrayList<>();
        List<Consumed> fromB = new ArrayList<>();
        await().atMost(WAIT).until(() -> {
            fromA.clear();
            fromA.addAll(kcatRecords(a));
            fromB.clear();
            fromB.addAll(kcatRecords(b));
            return fromA.size() + fromB.size() >= 100;
        });
        List<Consumed> all = new ArrayList<>(fromA);
        all.addAll(fromB);
        assertThat(all).as("every record exactly once across both kcat members")
                .containsExactlyInAnyOrderElementsOf(expected(4, 0, 25));
        // Each partition was read by exactly one member: the one it is assigned to.
        assertThat(fromA).allSatisfy(r -> assertThat(kcatAssignment(a)).contains(r.partition()));
        assertThat(fromB).allSatisfy(r -> assertThat(kcatAssignment(b)).contains(r.partition()));
        assertThat(partitionsOf(fromA)).isEqualTo(kcatAssignment(a));
        assertThat(partitionsOf(fromB)).isEqualTo(kcatAssignment(b));

        // SIGTERM: kcat closes the consumer (final offset commit, LeaveGroup) and exits.
        a.terminate();
        b.terminate();
        assertThat(a.awaitExit()).as(a.describe()).isZero();
        assertThat(b.awaitExit()).as(b.describe()).isZero();
        await().atMost(WAIT).untilAsserted(() -> assertThat(committed(group)).isEqualTo(offsets(topic, 4, 25)));

        // A new member of the same group starts from the committed offsets: only the new records.
        produce(topic, 4, 5, 25);
        Child c = kcatGroupConsumer("kcat-c", group, topic);
        await().atMost(WAIT).until(() -> kcatRecords(c).size() >= 20);
        assertThat(kcatAssignment(c)).isEqualTo(Set.of(0, 1, 2, 3));
        assertThat(kcatRecords(c)).containsExactlyInAnyOrderElementsOf(expected(4, 25, 5));
        c.terminate();
        assertThat(c.awaitExit()).as(c.describe()).isZero();
        assertThat(kcatRecords(c)).as("nothing but the new records").hasSize(20);
        await().atMost(WAIT).untilAsserted(() -> assertThat(committed(group)).isEqualTo(offsets(topic, 4, 30)));
    }

    private Child kcatGroupConsumer(String name, String group, String topic) throws IOException {
        return start(name, Path.of("."), List.of("kcat", "-b", node.bootstrapServers(), "-G", group,
                "-X", "topic.auto.offset.reset=earliest",
                "-X", "auto.commit.interval.ms=200",
                "-X", "session.timeout.ms=10000",
                "-X", "heartbeat.interval.ms=500",
                "-X", "socket.timeout.ms=10000",
                "-u", "-f", "%p|%o|%s\\n", topic));
    }

    private static final Pattern KCAT_REBALANCE = Pattern.compile("Group \\S+ rebalanced \\(memberid (\\S+)\\): (assigned|revoked): ?(.*)");
    private static final Pattern KCAT_PARTITION = Pattern.compile("\\[(\\d+)]");

    /** The partitions of the last rebalance kcat reported on stderr (empty after a revoke). */
    private static Set<Integer> kcatAssignment(Child kcat) {
        Matcher last = lastRebalance(kcat);
        if (last == null || last.group(2).equals("revoked")) {
            return Set.of();
        }
        Set<Integer> partitions = new TreeSet<>();
        Matcher p = KCAT_PARTITION.matcher(last.group(3));
        while (p.find()) {
            partitions.add(Integer.parseInt(p.group(1)));
        }
        return partitions;
    }

    private static String kcatMemberId(Child kcat) {
        Matcher last = lastRebalance(kcat);
        assertThat(last).as(kcat.describe()).isNotNull();
        return last.group(1);
    }

    private static Matcher lastRebalance(Child kcat) {
        kcat.assertAliveOrExitedCleanly();
        Matcher last = null;
        for (String line : kcat.err) {
            Matcher m = KCAT_REBALANCE.matcher(line);
            if (m.find()) {
                last = m;
            }
        }
        return last;
    }

    private static List<Consumed> kcatRecords(Child kcat) {
        kcat.assertAliveOrExitedCleanly();
        return kcat.out.stream().map(line -> {
            String[] parts = line.split("\\|", 3);
            assertThat(parts).as("kcat output line %s", line).hasSize(3);
            return new Consumed(Integer.parseInt(parts[0]), Long.parseLong(parts[1]), parts[2]);
        }).toList();
    }

    // ------------------------------------------------------------------ kafkajs

    @Test
    void kafkajsConsumersSplitTheTopicAndTheSurvivorTakesOverAfterALeave() throws Exception {
        requireNodeModules();
        String topic = "kafkajs-group-topic";
        String group = "kafkajs-group";
        Clients.createTopic(node.bootstrapServers(), topic, 4, Map.of());

        Child a = kafkajsConsumer("kafkajs-a", group, topic);
        Child b = kafkajsConsumer("kafkajs-b", group, topic);
        awaitSplit(a, b, ThirdPartyGroupClientsTest::kafkajsAssignment);
        Set<Integer> assignedToA = kafkajsAssignment(a);
        Set<Integer> assignedToB = kafkajsAssignment(b);
        awaitStableGroupWithAssignments(group, topic,
                Map.of(kafkajsMemberId(a), assignedToA, kafkajsMemberId(b), assignedToB));

        produce(topic, 4, 25, 0);
        await().atMost(WAIT).until(() -> kafkajsRecords(a).size() + kafkajsRecords(b).size() >= 100);
        List<Consumed> fromA = kafkajsRecords(a);
        List<Consumed> fromB = kafkajsRecords(b);
        List<Consumed> all = new ArrayList<>(fromA);
        all.addAll(fromB);
        assertThat(all).as("every record exactly once across both kafkajs members")
                .containsExactlyInAnyOrderElementsOf(expected(4, 0, 25));
        assertThat(partitionsOf(fromA)).isEqualTo(assignedToA);
        assertThat(partitionsOf(fromB)).isEqualTo(assignedToB);

        // a leaves (disconnect: commit, LeaveGroup); b is rebalanced onto all four partitions.
        a.send("stop");
        assertThat(a.awaitExit()).as(a.describe()).isZero();
        assertThat(kafkajsEvents(a, "stopped")).hasSize(1);
        await().atMost(WAIT).until(() -> kafkajsAssignment(b).equals(Set.of(0, 1, 2, 3)));
        awaitStableGroupWithAssignments(group, topic, Map.of(kafkajsMemberId(b), Set.of(0, 1, 2, 3)));

        produce(topic, 4, 10, 25);
        await().atMost(WAIT).until(() -> kafkajsRecords(b).size() >= fromB.size() + 40);
        List<Consumed> afterHandover = kafkajsRecords(b).subList(fromB.size(), kafkajsRecords(b).size());
        assertThat(afterHandover).as("b resumes a's partitions at a's committed offsets: only the new records")
                .containsExactlyInAnyOrderElementsOf(expected(4, 25, 10));

        b.send("stop");
        assertThat(b.awaitExit()).as(b.describe()).isZero();
        assertThat(kafkajsRecords(b)).hasSize(fromB.size() + 40);
        await().atMost(WAIT).untilAsserted(() -> assertThat(committed(group)).isEqualTo(offsets(topic, 4, 35)));
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
            assertThat(description.groupState()).isEqualTo(GroupState.EMPTY);
        }
    }

    @Test
    void kafkajsProducesWhatTheJavaConsumerReads() throws Exception {
        requireNodeModules();
        String topic = "from-kafkajs";
        Clients.createTopic(node.bootstrapServers(), topic, 3, Map.of());
        Child producer = start("kafkajs-producer", NODE_DIR, List.of("node", "kafkajs-client.js", "produce",
                "--bootstrap", node.bootstrapServers(), "--topic", topic, "--count", "60", "--partitions", "3"));
        assertThat(producer.awaitExit()).as(producer.describe()).isZero();
        List<Map<String, String>> produced = kafkajsEvents(producer, "produced");
        assertThat(produced).hasSize(1);
        assertThat(produced.getFirst().get("count")).isEqualTo("60");

        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions(topic, 3));
            assertThat(records).hasSize(60);
            Map<String, ConsumerRecord<String, String>> byKey = records.stream()
                    .collect(Collectors.toMap(ConsumerRecord::key, Function.identity()));
            for (int i = 0; i < 60; i++) {
                ConsumerRecord<String, String> record = byKey.get("k" + i);
                assertThat(record).as("record k%d", i).isNotNull();
                assertThat(record.value()).isEqualTo("kafkajs-" + i);
                assertThat(record.partition()).isEqualTo(i % 3);
                assertThat(record.offset()).isEqualTo(i / 3);
                assertThat(new String(record.headers().lastHeader("seq").value(), StandardCharsets.UTF_8)).isEqualTo(String.valueOf(i));
            }
        }
    }

    /** kafkajs' transactional producer (and its sendOffsets) as the Java client's read_committed consumer sees it. */
    @Test
    void kafkajsTransactionsAreSeenByTheJavaReadCommittedConsumer() throws Exception {
        requireNodeModules();
        String topic = "kafkajs-transactions";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        Child producer = start("kafkajs-transactional", NODE_DIR, List.of("node", "kafkajs-client.js", "transact",
                "--bootstrap", node.bootstrapServers(), "--topic", topic, "--transactional-id", "kafkajs-tx",
                "--transactions", "6", "--per-transaction", "10", "--group", "kafkajs-tx-group"));
        assertThat(producer.awaitExit()).as(producer.describe()).isZero();
        assertThat(kafkajsEvents(producer, "transacted")).hasSize(1);

        List<String> committed = new ArrayList<>();
        List<String> all = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            for (int i = 0; i < 10; i++) {
                all.add("t" + t + "-" + i);
                if (t % 3 != 2) {
                    committed.add("t" + t + "-" + i);
                }
            }
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        Clients.awaitTransactionsCompleted(node.bootstrapServers(), List.of(tp));
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            assertThat(Clients.readAll(consumer, List.of(tp))).extracting(ConsumerRecord::value).containsExactlyElementsOf(committed);
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            assertThat(Clients.readAll(consumer, List.of(tp))).extracting(ConsumerRecord::value).containsExactlyElementsOf(all);
        }
        // The last committed transaction (t4) committed offset 5; the aborted t5's offset 6 never became visible.
        assertThat(committed("kafkajs-tx-group")).isEqualTo(Map.of(tp, 5L));
    }

    private static void requireNodeModules() {
        assertThat(NODE_DIR.resolve("node_modules/kafkajs/package.json"))
                .as("kafkajs is not installed: run `npm ci` in %s (scripts/test.sh does it)", NODE_DIR)
                .exists();
    }

    private Child kafkajsConsumer(String name, String group, String topic) throws IOException {
        return start(name, NODE_DIR, List.of("node", "kafkajs-client.js", "consume", "--bootstrap", node.bootstrapServers(),
                "--topic", topic, "--group", group, "--client-id", name, "--timeout-ms", "180000"));
    }

    private static Set<Integer> kafkajsAssignment(Child kafkajs) {
        List<Map<String, String>> assigned = kafkajsEvents(kafkajs, "assigned");
        if (assigned.isEmpty()) {
            return Set.of();
        }
        String list = assigned.getLast().get("partitions");
        String inner = list.substring(1, list.length() - 1).trim();
        return inner.isEmpty() ? Set.of()
                : Arrays.stream(inner.split(",")).map(String::trim).map(Integer::parseInt).collect(Collectors.toCollection(TreeSet::new));
    }

    private static String kafkajsMemberId(Child kafkajs) {
        List<Map<String, String>> assigned = kafkajsEvents(kafkajs, "assigned");
        assertThat(assigned).as(kafkajs.describe()).isNotEmpty();
        return assigned.getLast().get("memberId");
    }

    private static List<Consumed> kafkajsRecords(Child kafkajs) {
        return kafkajsEvents(kafkajs, "record").stream()
                .map(e -> new Consumed(Integer.parseInt(e.get("partition")), Long.parseLong(e.get("offset")), e.get("value")))
                .toList();
    }

    /** The JSON lines the script printed with {@code "event":event}; fails on crashes and errors. */
    private static List<Map<String, String>> kafkajsEvents(Child kafkajs, String event) {
        kafkajs.assertAliveOrExitedCleanly();
        List<Map<String, String>> events = new ArrayList<>();
        for (String line : kafkajs.out) {
            Map<String, String> fields = flatJson(line);
            if ("crash".equals(fields.get("event")) || "error".equals(fields.get("event"))) {
                throw new ChildFailed(kafkajs.name + " printed " + line + "\n" + kafkajs.describe());
            }
            if (event.equals(fields.get("event"))) {
                events.add(fields);
            }
        }
        return events;
    }

    private static final Pattern JSON_FIELD = Pattern.compile("\"(\\w+)\":(\"(?:[^\"\\\\]|\\\\.)*\"|\\[[^]]*]|[^,}]*)");

    /** Top-level fields of a one-level JSON object as written by kafkajs-client.js (strings unquoted). */
    private static Map<String, String> flatJson(String line) {
        assertThat(line).startsWith("{").endsWith("}");
        Map<String, String> fields = new LinkedHashMap<>();
        Matcher m = JSON_FIELD.matcher(line);
        while (m.find()) {
            String value = m.group(2);
            if (value.startsWith("\"")) {
                value = value.substring(1, value.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
            }
            fields.putIfAbsent(m.group(1), value);
        }
        return fields;
    }

    // ------------------------------------------------------------------ shared

    record Consumed(int partition, long offset, String value) {
    }

    /** Records "p:i" produced by {@link #produce} for partitions 0..partitions-1, i in [from, from+count). */
    private static List<Consumed> expected(int partitions, int from, int count) {
        List<Consumed> list = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            for (int i = from; i < from + count; i++) {
                list.add(new Consumed(p, i, p + ":" + i));
            }
        }
        return list;
    }

    private static void produce(String topic, int partitions, int perPartition, int from) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int p = 0; p < partitions; p++) {
                for (int i = from; i < from + perPartition; i++) {
                    producer.send(new ProducerRecord<>(topic, p, "k", p + ":" + i)).get();
                }
            }
        }
    }

    private static Map<TopicPartition, Long> committed(String group) throws Exception {
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, Long> result = new HashMap<>();
            offsets.forEach((tp, om) -> result.put(tp, om == null ? null : om.offset()));
            return result;
        }
    }

    private static Map<TopicPartition, Long> offsets(String topic, int partitions, long offset) {
        return IntStream.range(0, partitions).boxed().collect(Collectors.toMap(p -> new TopicPartition(topic, p), p -> offset));
    }

    /** The coordinator agrees with the clients: Stable, exactly these members, each owning what it reported. */
    private static void awaitStableGroupWithAssignments(String group, String topic, Map<String, Set<Integer>> byMember) {
        await().atMost(WAIT).untilAsserted(() -> {
            try (Admin admin = Clients.admin(node.bootstrapServers())) {
                ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
                assertThat(description.groupState()).isEqualTo(GroupState.STABLE);
                Map<String, Set<Integer>> described = new HashMap<>();
                for (MemberDescription member : description.members()) {
                    described.put(member.consumerId(), member.assignment().topicPartitions().stream()
                            .peek(tp -> assertThat(tp.topic()).isEqualTo(topic))
                            .map(TopicPartition::partition).collect(Collectors.toCollection(TreeSet::new)));
                }
                assertThat(described).isEqualTo(byMember);
            }
        });
    }

    /** Waits until a and b each report a non-empty share and together exactly partitions 0-3. */
    private static void awaitSplit(Child a, Child b, Function<Child, Set<Integer>> assignment) {
        await().atMost(WAIT).untilAsserted(() -> {
            Set<Integer> ofA = assignment.apply(a);
            Set<Integer> ofB = assignment.apply(b);
            String state = "assignments " + ofA + " / " + ofB + "\n" + a.describe() + "\n" + b.describe();
            assertThat(ofA).as(state).isNotEmpty();
            assertThat(ofB).as(state).isNotEmpty();
            assertThat(disjoint(ofA, ofB)).as(state).isTrue();
            assertThat(union(ofA, ofB)).as(state).isEqualTo(Set.of(0, 1, 2, 3));
        });
    }

    private static Set<Integer> partitionsOf(List<Consumed> records) {
        return records.stream().map(Consumed::partition).collect(Collectors.toCollection(TreeSet::new));
    }

    private static boolean disjoint(Set<Integer> a, Set<Integer> b) {
        return a.stream().noneMatch(b::contains);
    }

    private static Set<Integer> union(Set<Integer> a, Set<Integer> b) {
        Set<Integer> u = new HashSet<>(a);
        u.addAll(b);
        return u;
    }

    private Child start(String name, Path dir, List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).start();
        Child child = new Child(name, command, process);
        children.add(child);
        return child;
    }

    /** A client process failed: ends an await at once. */
    static final class ChildFailed extends RuntimeException {
        ChildFailed(String message) {
            super(message);
        }
    }

    /** A child process whose stdout and stderr lines are collected as they arrive. */
    static final class Child {
        final String name;
        final List<String> command;
        final Process process;
        final List<String> out = new CopyOnWriteArrayList<>();
        final List<String> err = new CopyOnWriteArrayList<>();
        private final Thread outReader;
        private final Thread errReader;

        Child(String name, List<String> command, Process process) {
            this.name = name;
            this.command = command;
            this.process = process;
            this.outReader = Thread.ofVirtual().name(name + "-out").start(() -> collect(process.getInputStream(), out));
            this.errReader = Thread.ofVirtual().name(name + "-err").start(() -> collect(process.getErrorStream(), err));
        }

        private static void collect(InputStream stream, List<String> lines) {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process was killed
            }
        }

        void send(String line) throws IOException {
            OutputStream stdin = process.getOutputStream();
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        }

        /** SIGTERM. */
        void terminate() {
            process.destroy();
        }

        int awaitExit() throws InterruptedException {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError(name + " did not exit within 60 s\n" + describe());
            }
            outReader.join(10_000);
            errReader.join(10_000);
            return process.exitValue();
        }

        /**
         * Fails right away when the process died with an error: a {@link ChildFailed}, not an
         * AssertionError, so that an enclosing {@code untilAsserted} stops instead of retrying.
         */
        void assertAliveOrExitedCleanly() {
            if (!process.isAlive() && process.exitValue() != 0) {
                throw new ChildFailed(name + " exited with " + process.exitValue() + "\n" + describe());
            }
        }

        void kill() throws InterruptedException {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }

        String describe() {
            return name + " " + command + "\n--- stdout (last 30 lines)\n" + tail(out) + "\n--- stderr (last 30 lines)\n" + tail(err);
        }

        private static String tail(List<String> lines) {
            List<String> copy = List.copyOf(lines);
            return String.join("\n", copy.subList(Math.max(0, copy.size() - 30), copy.size()));
        }
    }
}
