package io.spate.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spate.broker.SpateNode;
import io.spate.broker.cli.ProduceCommand;
import io.spate.broker.cli.SpateCommand;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@code rpk}-like commands ({@code spate topic|produce|consume}) against an embedded node: in
 * process through picocli with captured stdout/stderr (and stdin for produce), and once as
 * {@code java -jar spate.jar} processes with a real stdin pipe and a SIGTERM.
 */
@Timeout(60)
class TopicProduceConsumeCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** 2001-09-09T01:46:40Z: records produced by hand get timestamps a second apart from here. */
    static final long BASE_TIME = 1_000_000_000_000L;

    @TempDir
    static Path dataDir;
    static SpateNode node;

    @TempDir
    Path outputs;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).config("group.initial.rebalance.delay.ms", "0").start();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    record Run(int exit, String out, String err) {
        List<String> row(String... prefix) {
            for (String line : out.split("\n")) {
                List<String> cells = Arrays.asList(line.trim().split("\\s+"));
                if (cells.size() >= prefix.length && cells.subList(0, prefix.length).equals(List.of(prefix))) {
                    return cells;
                }
            }
            throw new AssertionError("no row starting " + List.of(prefix) + " in:\n" + out);
        }

        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }

        List<JsonNode> jsonLines() throws Exception {
            List<JsonNode> lines = new ArrayList<>();
            for (String line : out.split("\n")) {
                lines.add(JSON.readTree(line));
            }
            return lines;
        }

        /** An expected failure: exit 1, nothing on stdout, exactly one line on stderr (no stack trace). */
        Run failedWith(String message) {
            assertThat(exit).as(err).isEqualTo(1);
            assertThat(err.strip()).isEqualTo("spate: " + message);
            assertThat(out).isEmpty();
            return this;
        }
    }

    /** {@code spate <args>} in process; {@code stdin} is what produce reads. */
    static Run run(String stdin, String... args) {
        return run(stdin, new StringWriter(), new StringWriter(), args);
    }

    /** As {@link #run(String, String...)}, into writers the caller can read while it runs. */
    static Run run(String stdin, StringWriter out, StringWriter err, String... args) {
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == ProduceCommand.class) {
                    return cls.cast(new ProduceCommand(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8))));
                }
                return CommandLine.defaultFactory().create(cls);
            }
        };
        CommandLine cli = new CommandLine(new SpateCommand(), factory);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** {@code spate <args> --bootstrap-server <node>}. */
    static Run spate(String... args) {
        return spateWithInput("", args);
    }

    static Run spateWithInput(String stdin, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--bootstrap-server");
        all.add(node.bootstrapServers());
        return run(stdin, all.toArray(String[]::new));
    }

    @Test
    void topicCreateListDescribeAlterDeleteAsTablesAndJson() throws Exception {
        Run create = spate("topic", "create", "cli-orders", "cli-events", "-p", "3", "-r", "1", "-c", "retention.ms=60000");
        assertThat(create.exit()).as(create.err()).isZero();
        assertThat(create.row("TOPIC")).containsExactly("TOPIC", "PARTITIONS", "REPLICAS", "STATUS");
        assertThat(create.row("cli-orders")).containsExactly("cli-orders", "3", "1", "OK");
        assertThat(create.row("cli-events")).containsExactly("cli-events", "3", "1", "OK");

        // one new, one existing: the new one is made, the other is one line on stderr, exit 1
        Run again = spate("topic", "create", "cli-orders", "cli-single", "--json");
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err().strip()).isEqualTo("spate: topic 'cli-orders' already exists");
        JsonNode created = again.json();
        assertThat(created.get(0).get("topic").asText()).isEqualTo("cli-orders");
        assertThat(created.get(0).get("error").asText()).isEqualTo("topic 'cli-orders' already exists");
        assertThat(created.get(1).get("topic").asText()).isEqualTo("cli-single");
        assertThat(created.get(1).get("error").isNull()).isTrue();
        assertThat(created.get(1).get("partitions").asInt()).isEqualTo(1); // the node's num.partitions

        Run list = spate("topic", "list");
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(list.row("NAME")).containsExactly("NAME", "PARTITIONS", "REPLICAS");
        assertThat(list.row("cli-orders")).containsExactly("cli-orders", "3", "1");
        assertThat(list.row("cli-single")).containsExactly("cli-single", "1", "1");
        // aligned: each cell starts under its header
        String header = list.out().lines().filter(l -> l.startsWith("NAME")).findFirst().orElseThrow();
        String single = list.out().lines().filter(l -> l.startsWith("cli-single ")).findFirst().orElseThrow();
        assertThat(single.indexOf("1 ")).isEqualTo(header.indexOf("PARTITIONS"));

        // the group coordinator's topic is internal: listed with --internal only
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            admin.listConsumerGroupOffsets("make-the-offsets-topic").partitionsToOffsetAndMetadata().get();
        }
        JsonNode listed = spate("topic", "list", "--json").json();
        assertThat(names(listed)).contains("cli-orders", "cli-events", "cli-single").doesNotContain("__consumer_offsets");
        JsonNode orders = find(listed, "name", "cli-orders");
        assertThat(orders.get("partitions").asInt()).isEqualTo(3);
        assertThat(orders.get("replication_factor").asInt()).isEqualTo(1);
        assertThat(orders.get("internal").asBoolean()).isFalse();
        JsonNode withInternal = spate("topic", "list", "--internal", "--json").json();
        assertThat(find(withInternal, "name", "__consumer_offsets").get("internal").asBoolean()).isTrue();
        assertThat(spate("topic", "list", "--internal").row("__consumer_offsets")).hasSize(3);

        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>("cli-orders", 2, "k", "v" + i));
            }
            producer.flush();
        }
        Run describe = spate("topic", "describe", "cli-orders");
        assertThat(describe.exit()).as(describe.err()).isZero();
        assertThat(describe.row("NAME")).containsExactly("NAME", "cli-orders");
        assertThat(describe.row("PARTITIONS", "3")).hasSize(2);
        assertThat(describe.row("*", "retention.ms")).containsExactly("*", "retention.ms", "60000", "topic");
        assertThat(describe.row("cleanup.policy")).containsExactly("cleanup.policy", "delete", "default");
        assertThat(describe.row("PARTITION")).containsExactly("PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "HIGH-WATERMARK");
        String leader = String.valueOf(nodeId());
        assertThat(describe.row("2", leader)).containsExactly("2", leader, "[" + leader + "]", "[" + leader + "]", "0", "5");
        assertThat(describe.row("0", leader)).containsExactly("0", leader, "[" + leader + "]", "[" + leader + "]", "0", "0");

        JsonNode described = spate("topic", "describe", "cli-orders", "--json").json();
        assertThat(described.get("name").asText()).isEqualTo("cli-orders");
        assertThat(described.get("partitions").asInt()).isEqualTo(3);
        assertThat(described.get("replication_factor").asInt()).isEqualTo(1);
        JsonNode retention = find(described.get("configs"), "name", "retention.ms");
        assertThat(retention.get("value").asText()).isEqualTo("60000");
        assertThat(retention.get("default").asBoolean()).isFalse();
        assertThat(retention.get("source").asText()).isEqualTo("topic");
        assertThat(find(described.get("configs"), "name", "cleanup.policy").get("default").asBoolean()).isTrue();
        JsonNode p2 = find(described.get("partition_details"), "partition", "2");
        assertThat(p2.get("leader").asInt()).isEqualTo(nodeId());
        assertThat(p2.get("replicas").get(0).asInt()).isEqualTo(nodeId());
        assertThat(p2.get("isr").get(0).asInt()).isEqualTo(nodeId());
        assertThat(p2.get("log_start_offset").asLong()).isZero();
        assertThat(p2.get("high_watermark").asLong()).isEqualTo(5);

        Run alter = spate("topic", "alter-config", "cli-orders", "--set", "segment.bytes=1048576", "--delete", "retention.ms");
        assertThat(alter.exit()).as(alter.err()).isZero();
        assertThat(alter.row("cli-orders", "segment.bytes")).containsExactly("cli-orders", "segment.bytes", "1048576");
        assertThat(alter.row("cli-orders", "retention.ms")).containsExactly("cli-orders", "retention.ms", "(default)");
        JsonNode altered = spate("topic", "describe", "cli-orders", "--json").json();
        assertThat(find(altered.get("configs"), "name", "segment.bytes").get("value").asText()).isEqualTo("1048576");
        assertThat(find(altered.get("configs"), "name", "segment.bytes").get("default").asBoolean()).isFalse();
        assertThat(find(altered.get("configs"), "name", "retention.ms").get("default").asBoolean()).isTrue();
        JsonNode alterJson = spate("topic", "alter-config", "cli-orders", "--set", "retention.ms=120000", "--json").json();
        assertThat(alterJson.get("topic").asText()).isEqualTo("cli-orders");
        assertThat(alterJson.get("changes").get("retention.ms").asText()).isEqualTo("120000");
        spate("topic", "alter-config", "cli-orders", "--set", "retention.ms=nope")
                .failedWith("bad config for 'cli-orders': retention.ms must be a whole number, not 'nope'");
        spate("topic", "alter-config", "cli-orders", "--set", "no.such.setting=1")
                .failedWith("bad config for 'cli-orders': unknown topic config 'no.such.setting'");

        Run grown = spate("topic", "add-partitions", "cli-orders", "-n", "2");
        assertThat(grown.exit()).as(grown.err()).isZero();
        assertThat(grown.row("cli-orders")).containsExactly("cli-orders", "5", "OK");
        assertThat(spate("topic", "describe", "cli-orders", "--json").json().get("partitions").asInt()).isEqualTo(5);
        JsonNode grownJson = spate("topic", "add-partitions", "cli-orders", "--num", "1", "--json").json();
        assertThat(grownJson.get(0).get("partitions").asInt()).isEqualTo(6);
        spate("topic", "add-partitions", "cli-orders", "-n", "0").failedWith("--num must be at least 1, not 0");
        spate("topic", "add-partitions", "no-such-topic", "-n", "1").failedWith("topic 'no-such-topic' does not exist");

        Run delete = spate("topic", "delete", "cli-events", "cli-single");
        assertThat(delete.exit()).as(delete.err()).isZero();
        assertThat(delete.row("cli-events")).containsExactly("cli-events", "OK");
        JsonNode deleted = spate("topic", "delete", "cli-orders", "--json").json();
        assertThat(deleted.get(0).get("topic").asText()).isEqualTo("cli-orders");
        assertThat(deleted.get(0).get("error").isNull()).isTrue();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(names(spate("topic", "list", "--json").json())).doesNotContain("cli-orders", "cli-events", "cli-single"));
        spate("topic", "delete", "cli-orders").failedWith("topic 'cli-orders' does not exist");
    }

    @Test
    void produceWithKeysHeadersAndAcksThenConsumeAsJsonAndFormat() throws Exception {
        assertThat(spate("topic", "create", "cli-kv", "-p", "2").exit()).isZero();
        String input = "alice:{\"n\":1}\nbob:x:y\nno key here\n:empty key\n";
        Run produce = spateWithInput(input, "produce", "cli-kv", "-k", ":", "-H", "source=cli", "-H", "trace=a=b",
                "--acks", "all", "-p", "1", "--linger-ms", "0");
        assertThat(produce.exit()).as(produce.err()).isZero();
        assertThat(produce.err()).isEmpty();
        List<String> lines = produce.out().lines().toList();
        assertThat(lines).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertThat(lines.get(i)).startsWith("Produced to partition 1 at offset " + i + " with timestamp ");
        }

        Run consumed = spate("consume", "cli-kv", "-p", "1", "-n", "4", "--json");
        assertThat(consumed.exit()).as(consumed.err()).isZero();
        List<JsonNode> records = consumed.jsonLines();
        assertThat(records).hasSize(4);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            JsonNode r = records.get(i);
            assertThat(r.get("topic").asText()).isEqualTo("cli-kv");
            assertThat(r.get("partition").asInt()).isEqualTo(1);
            assertThat(r.get("offset").asLong()).isEqualTo(i);
            assertThat(r.get("timestamp").asLong()).isPositive();
            keys.add(r.get("key").isNull() ? null : r.get("key").asText());
            assertThat(r.get("headers").toString()).isEqualTo("[{\"key\":\"source\",\"value\":\"cli\"},{\"key\":\"trace\",\"value\":\"a=b\"}]");
        }
        assertThat(keys).containsExactly("alice", "bob", null, "");
        assertThat(records.stream().map(r -> r.get("value").asText())).containsExactly("{\"n\":1}", "x:y", "no key here", "empty key");
        long firstTimestamp = records.get(0).get("timestamp").asLong();

        Run formatted = spate("consume", "cli-kv", "-p", "1", "-n", "2", "--format", "%t|%p|%o|%k|%v|%h|%T|100%%\\n");
        assertThat(formatted.exit()).as(formatted.err()).isZero();
        assertThat(formatted.out()).isEqualTo("cli-kv|1|0|alice|{\"n\":1}|source=cli,trace=a=b|" + firstTimestamp + "|100%\n"
                + "cli-kv|1|1|bob|x:y|source=cli,trace=a=b|" + records.get(1).get("timestamp").asLong() + "|100%\n");
        Run tabs = spate("consume", "cli-kv", "-p", "1", "-n", "1", "-f", "%k\\t%v");
        assertThat(tabs.out()).isEqualTo("alice\t{\"n\":1}");
        Run values = spate("consume", "cli-kv", "-p", "1", "-n", "4");
        assertThat(values.out()).isEqualTo("{\"n\":1}\nx:y\nno key here\nempty key\n");

        // acks=1 and acks=0: the records arrive; acks=0 has no offsets to report
        Run one = spateWithInput("one-1\none-2\n", "produce", "cli-kv", "--acks", "1", "-p", "0", "--json");
        assertThat(one.exit()).as(one.err()).isZero();
        assertThat(one.jsonLines()).extracting(j -> j.get("offset").asLong()).containsExactly(0L, 1L);
        assertThat(one.jsonLines().get(1).get("line").asLong()).isEqualTo(2);
        Run zero = spateWithInput("zero-1\nzero-2\n", "produce", "cli-kv", "--acks", "0", "-p", "0", "--summary", "--json");
        assertThat(zero.exit()).as(zero.err()).isZero();
        assertThat(zero.json().get("records").asLong()).isEqualTo(2);
        assertThat(zero.json().get("failed").asLong()).isZero();
        Run partition0 = spate("consume", "cli-kv", "-p", "0", "-n", "4");
        assertThat(partition0.out()).isEqualTo("one-1\none-2\nzero-1\nzero-2\n");

        // with no partition given, records spread by key
        Run summary = spateWithInput(IntStream.range(0, 100).mapToObj(i -> "key" + i + "=v" + i).collect(Collectors.joining("\n")),
                "produce", "cli-kv", "-k", "=", "--summary");
        assertThat(summary.exit()).as(summary.err()).isZero();
        assertThat(summary.out()).startsWith("Produced 100 records to cli-kv in ");
        Run all = spate("consume", "cli-kv", "-n", "108", "--format", "%k\\n");
        assertThat(all.out().lines().filter(l -> l.startsWith("key")).distinct().count()).isEqualTo(100);
    }

    @Test
    void consumeFromOffsetFromEndFromTimestampAndAsAGroup() throws Exception {
        assertThat(spate("topic", "create", "cli-history").exit()).isZero();
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>("cli-history", 0, BASE_TIME + i * 1000L, "k" + i, "r" + i));
            }
            producer.flush();
        }
        assertThat(spate("consume", "cli-history", "-o", "7", "-n", "3").out()).isEqualTo("r7\nr8\nr9\n");
        assertThat(spate("consume", "cli-history", "-o", "-2", "-n", "2").out()).isEqualTo("r8\nr9\n");
        assertThat(spate("consume", "cli-history", "-o", "-50", "-n", "1").out()).isEqualTo("r0\n"); // clamped to the start
        assertThat(spate("consume", "cli-history", "--offset", "@" + (BASE_TIME + 3500), "-n", "2").out()).isEqualTo("r4\nr5\n");
        assertThat(spate("consume", "cli-history", "-o", "start", "-n", "1", "-f", "%o %k\\n").out()).isEqualTo("0 k0\n");

        Run first = spate("consume", "cli-history", "-g", "cli-readers", "-n", "4");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).isEqualTo("r0\nr1\nr2\nr3\n");
        assertThat(committed("cli-readers")).isEqualTo(4);
        Run second = spate("consume", "cli-history", "--group", "cli-readers", "-n", "3");
        assertThat(second.out()).isEqualTo("r4\nr5\nr6\n");
        assertThat(committed("cli-readers")).isEqualTo(7);
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of("cli-readers")).all().get().get("cli-readers");
            assertThat(group.members()).as("the consumer left its group on exit").isEmpty();
        }
        spate("consume", "cli-history", "-g", "cli-readers", "-o", "5")
                .failedWith("with --group, --offset must be start or end (where a partition without a committed offset begins)");
    }

    /**
     * Two members of one group: when a partition moves from the first to the second, what the
     * first printed from it is committed at the move and never again, so the second goes on from
     * there and its own commits stand: every record printed once, the group's offsets at the end.
     */
    @Test
    void twoGroupMembersSharePartitionsWithoutDuplicatesOrStaleCommits() throws Exception {
        assertThat(spate("topic", "create", "cli-shared", "-p", "2").exit()).isZero();
        produceValues("cli-shared", 0, 5);
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            ExecutorService threads = Executors.newFixedThreadPool(2);
            try {
                StringWriter firstOut = new StringWriter();
                Future<Run> first = threads.submit(() -> run("", firstOut, new StringWriter(), "consume", "cli-shared",
                        "-g", "cli-sharers", "-n", "16", "-f", "%p:%v\\n", "--bootstrap-server", node.bootstrapServers()));
                await().atMost(Duration.ofSeconds(20)).until(() -> firstOut.toString().lines().count() == 10);
                await().atMost(Duration.ofSeconds(10)).until(() -> committed("cli-sharers") == 10);

                Future<Run> second = threads.submit(() -> spate("consume", "cli-shared", "-g", "cli-sharers", "-n", "5", "-f", "%p:%v\\n"));
                // both members hold a partition before more records come
                await().atMost(Duration.ofSeconds(20)).until(() -> {
                    ConsumerGroupDescription g = admin.describeConsumerGroups(List.of("cli-sharers")).all().get().get("cli-sharers");
                    return g.members().size() == 2 && g.members().stream().allMatch(m -> m.assignment().topicPartitions().size() == 1);
                });
                produceValues("cli-shared", 5, 10);

                // the second stops after its 5 and leaves: the first takes its partition back, from
                // where the second committed (a stale commit of its own would make it print 5 again)
                Run b = second.get(30, TimeUnit.SECONDS);
                assertThat(b.exit()).as(b.err()).isZero();
                await().atMost(Duration.ofSeconds(20)).until(() -> firstOut.toString().lines().count() == 15);
                await().atMost(Duration.ofSeconds(20)).until(() -> {
                    ConsumerGroupDescription g = admin.describeConsumerGroups(List.of("cli-sharers")).all().get().get("cli-sharers");
                    return g.members().size() == 1 && g.members().iterator().next().assignment().topicPartitions().size() == 2;
                });
                try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                    producer.send(new ProducerRecord<>("cli-shared", 1, null, "v10")).get();
                }
                Run a = first.get(30, TimeUnit.SECONDS);
                assertThat(a.exit()).as(a.err()).isZero();
                List<String> printed = new ArrayList<>(a.out().lines().toList());
                printed.addAll(b.out().lines().toList());
                List<String> expected = new ArrayList<>();
                for (int p = 0; p < 2; p++) {
                    for (int i = 0; i < 10; i++) {
                        expected.add(p + ":v" + i);
                    }
                }
                expected.add("1:v10");
                assertThat(printed).containsExactlyInAnyOrderElementsOf(expected);
                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("cli-sharers").partitionsToOffsetAndMetadata().get();
                assertThat(offsets.get(new TopicPartition("cli-shared", 0)).offset()).isEqualTo(10);
                assertThat(offsets.get(new TopicPartition("cli-shared", 1)).offset()).isEqualTo(11);
            } finally {
                threads.shutdownNow();
            }
        }
    }

    /** Values v{from}..v{to - 1} to both partitions of {@code topic}. */
    private static void produceValues(String topic, int from, int to) {
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int p = 0; p < 2; p++) {
                for (int i = from; i < to; i++) {
                    producer.send(new ProducerRecord<>(topic, p, null, "v" + i));
                }
            }
            producer.flush();
        }
    }

    @Test
    void errorsAreOneLineOnStderrWithExitOne() throws Exception {
        String unreachable = "no answer from a broker at 127.0.0.1:1 within 1500 ms (is a node running there?)";
        run("", "topic", "list", "--bootstrap-server", "127.0.0.1:1", "--timeout", "1500").failedWith(unreachable);
        run("x\n", "produce", "t", "--bootstrap-server", "127.0.0.1:1", "--timeout", "1500").failedWith(unreachable);
        run("", "consume", "t", "--bootstrap-server", "127.0.0.1:1", "--timeout", "1500").failedWith(unreachable);
        Run badAddress = run("", "topic", "list", "--bootstrap-server", "no-port-here");
        assertThat(badAddress.exit()).isEqualTo(1);
        assertThat(badAddress.out()).isEmpty();
        assertThat(badAddress.err().strip()).startsWith("spate: bad --bootstrap-server 'no-port-here'").doesNotContain("\n");

        spate("topic", "describe", "cli-missing").failedWith("topic 'cli-missing' does not exist");
        spateWithInput("x\n", "produce", "cli-missing").failedWith("topic 'cli-missing' does not exist");
        spate("consume", "cli-missing", "-n", "1").failedWith("topic 'cli-missing' does not exist");
        spate("topic", "alter-config", "cli-missing", "--set", "retention.ms=1").failedWith("topic 'cli-missing' does not exist");
        spate("topic", "create", "cli-bad", "-c", "retention.ms=soon")
                .failedWith("bad config for 'cli-bad': retention.ms must be a whole number, not 'soon'");
        spate("topic", "create", "cli-bad", "-c", "retention.ms").failedWith("bad --config 'retention.ms': expected KEY=VALUE");
        spate("topic", "create", "cli-bad", "-r", "3").failedWith(
                "bad replication factor for 'cli-bad': replication factor 3 is larger than the number of live nodes (1)");
        spate("topic", "alter-config", "cli-bad").failedWith("nothing to change: give --set KEY=VALUE or --delete KEY");

        assertThat(spate("topic", "create", "cli-errors").exit()).isZero();
        spateWithInput("x\n", "produce", "cli-errors", "--acks", "2").failedWith("bad --acks '2': expected 0, 1 or all");
        spateWithInput("x\n", "produce", "cli-errors", "-p", "5").failedWith("topic 'cli-errors' has no partition 5 (it has 1)");
        spateWithInput("x\n", "produce", "cli-errors", "-H", "novalue").failedWith("bad --header 'novalue': expected KEY=VALUE");
        spate("consume", "cli-errors", "-o", "yesterday")
                .failedWith("bad --offset 'yesterday': expected start, end, N, -N or @TIMESTAMP-MS");
        spate("consume", "cli-errors", "-p", "3").failedWith("topic 'cli-errors' has no partition 3 (it has 1)");
        spate("consume", "cli-errors", "-f", "%x").failedWith("bad --format '%x': unknown field %x (known: %t %p %o %k %v %h %T %%)");
        spate("consume", "cli-errors", "-g", "g", "-p", "0")
                .failedWith("--partitions cannot be used with --group (the group assigns partitions)");

        // a record the node refuses: the others go in, the failure is on stderr, the exit code 1
        assertThat(spate("topic", "create", "cli-small", "-c", "max.message.bytes=200").exit()).isZero();
        Run tooLarge = spateWithInput("small\n" + "x".repeat(1000) + "\nsmall again\n", "produce", "cli-small", "--summary",
                "--acks", "1", "--linger-ms", "0");
        assertThat(tooLarge.exit()).isEqualTo(1);
        assertThat(tooLarge.err().strip()).startsWith("spate: record from line 2 failed: RecordTooLargeException").doesNotContain("\n");
        assertThat(tooLarge.out().strip()).startsWith("Produced 2 records to cli-small in ").endsWith(", 1 failed");
        assertThat(spate("consume", "cli-small", "-n", "2").out()).isEqualTo("small\nsmall again\n");
    }

    /**
     * {@code java -jar spate.jar}: produce reads a real stdin pipe, shows its progress on stderr
     * (never on stdout) while the input lasts; consume as a group member stops on SIGTERM (what
     * Ctrl-C's shutdown runs too), having committed what it printed and left its group.
     */
    @Test
    void asProcessesProduceFromAPipeAndConsumeUntilTerminated() throws Exception {
        assertThat(spate("topic", "create", "cli-pipe").exit()).isZero();
        Path produceOut = outputs.resolve("produce.out");
        Path produceErr = outputs.resolve("produce.err");
        Process produce = start(produceOut, produceErr, "produce", "cli-pipe", "--summary", "-k", ",", "--progress-interval-ms", "200");
        try (OutputStream stdin = produce.getOutputStream()) {
            stdin.write(lines(0, 500));
            stdin.flush();
            // the input is still open: the progress line shows what went in so far, on stderr (a JVM
            // starting beside another test class's cluster on two cores can take a while; a failure
            // shows what the process printed)
            await().atMost(Duration.ofSeconds(45)).untilAsserted(() -> assertThat(Files.readString(produceErr)).contains("500 records produced"));
            stdin.write(lines(500, 1000));
        }
        assertThat(produce.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = Files.readString(produceOut);
        String err = Files.readString(produceErr);
        assertThat(produce.exitValue()).as(out + err).isZero();
        assertThat(out.lines().toList()).as(out).hasSize(1);
        assertThat(out).startsWith("Produced 1000 records to cli-pipe in ");
        assertThat(err.lines().toList()).allSatisfy(l -> assertThat(l).matches("spate: \\d+ records produced \\(\\d+ records/s\\), \\d+ in flight, 0 failed"));

        Path consumeOut = outputs.resolve("consume.out");
        Path consumeErr = outputs.resolve("consume.err");
        Process consume = start(consumeOut, consumeErr, "consume", "cli-pipe", "-g", "cli-pipe-readers", "-f", "%k=%v\\n");
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.readString(consumeOut).lines().count() == 1000);
        consume.destroy(); // SIGTERM
        assertThat(consume.waitFor(20, TimeUnit.SECONDS)).isTrue();
        List<String> consumed = Files.readString(consumeOut).lines().toList();
        assertThat(consumed).containsExactlyElementsOf(IntStream.range(0, 1000).mapToObj(i -> "k" + i + "=v" + i).toList());
        assertThat(Files.readString(consumeErr)).isEmpty();
        assertThat(committed("cli-pipe-readers")).isEqualTo(1000);
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            // it left the group on its way out: no waiting for a 45 s session timeout
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of("cli-pipe-readers")).all().get().get("cli-pipe-readers");
            assertThat(group.members()).isEmpty();
        }
    }

    private static byte[] lines(int from, int to) {
        return IntStream.range(from, to).mapToObj(i -> "k" + i + ",v" + i + "\n").collect(Collectors.joining()).getBytes(StandardCharsets.UTF_8);
    }

    private Process start(Path out, Path err, String... args) throws Exception {
        String jar = System.getProperty("spate.broker.jar");
        assertThat(jar).as("the broker jar (run through Maven)").isNotNull();
        assertThat(Path.of(jar)).exists();
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx256m", "-jar", jar));
        command.addAll(List.of(args));
        command.addAll(List.of("--bootstrap-server", node.bootstrapServers()));
        return new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    }

    private static long committed(String group) throws Exception {
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            return offsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
        }
    }

    private static int nodeId() throws Exception {
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            return admin.describeCluster().nodes().get().iterator().next().id();
        }
    }

    private static List<String> names(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(n -> n.get("name").asText()).toList();
    }

    private static JsonNode find(JsonNode array, String field, String value) {
        for (JsonNode n : array) {
            if (n.get(field).asText().equals(value)) {
                return n;
            }
        }
        throw new AssertionError("no element with " + field + "=" + value + " in " + array);
    }
}
