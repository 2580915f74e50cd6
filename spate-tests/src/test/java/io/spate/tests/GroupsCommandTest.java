package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.broker.cli.SpateCommand;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code spate groups ...} run in-process through picocli against an embedded node with real consumer groups. */
class GroupsCommandTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;

    /** 2001-09-09T01:46:40Z: records are produced with explicit timestamps a minute apart from here. */
    static final long BASE_TIME = 1_000_000_000_000L;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).config("group.initial.rebalance.delay.ms", "200").start();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    record Run(int exit, String out, String err) {
        /** The whitespace-separated cells of the first output line starting with {@code prefix}'s cells. */
        List<String> row(String... prefix) {
            for (String line : out.split("\n")) {
                List<String> cells = Arrays.asList(line.trim().split("\\s+"));
                if (cells.size() >= prefix.length && cells.subList(0, prefix.length).equals(List.of(prefix))) {
                    return cells;
                }
            }
            throw new AssertionError("no row starting " + List.of(prefix) + " in:\n" + out);
        }
    }

    static Run spate(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new SpateCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** {@code spate groups <args> --bootstrap-server <node>}. */
    static Run groups(String... args) {
        List<String> all = new ArrayList<>(List.of("groups"));
        all.addAll(List.of(args));
        all.add("--bootstrap-server");
        all.add(node.bootstrapServers());
        return spate(all.toArray(String[]::new));
    }

    private static Map<String, Object> groupConfig(String group) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, group + "-client");
        return config;
    }

    private static void produce(String topic, int partition, int count) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, partition, BASE_TIME + i * 60_000L, "k", "v" + i));
            }
            producer.flush();
        }
    }

    /** Subscribes, reads everything ({@code total} records), commits {@code commits}; the caller closes. */
    private static KafkaConsumer<String, String> consumeAndCommit(String group, String topic, int total,
                                                                  Map<TopicPartition, OffsetAndMetadata> commits) {
        KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), groupConfig(group));
        consumer.subscribe(List.of(topic));
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            consumer.poll(Duration.ofMillis(100)).forEach(got::add);
            return got.size() == total;
        });
        consumer.commitSync(commits);
        return consumer;
    }

    private static long committed(String group, TopicPartition tp) throws Exception {
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            OffsetAndMetadata o = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(tp);
            return o == null ? -1 : o.offset();
        }
    }

    @Test
    void listAndDescribeShowStateMembersAndLagPerPartition() throws Exception {
        String topic = "lagging";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        produce(topic, 0, 10);
        produce(topic, 1, 4);
        TopicPartition p0 = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = consumeAndCommit("laggards", topic, 14, Map.of(p0, new OffsetAndMetadata(7)))) {
            String memberId = consumer.groupMetadata().memberId();

            Run list = groups("list");
            assertThat(list.exit()).as(list.err()).isZero();
            assertThat(list.row("GROUP")).containsExactly("GROUP", "STATE", "PROTOCOL-TYPE");
            assertThat(list.row("laggards")).containsExactly("laggards", "Stable", "consumer");

            Run describe = groups("describe", "laggards");
            assertThat(describe.exit()).as(describe.err()).isZero();
            assertThat(describe.out()).contains("Group 'laggards': state Stable, 1 member");
            assertThat(describe.row("TOPIC")).containsExactly("TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                    "CONSUMER-ID", "HOST", "CLIENT-ID");
            List<String> r0 = describe.row(topic, "0");
            assertThat(r0.subList(0, 6)).containsExactly(topic, "0", "7", "10", "3", memberId);
            assertThat(r0.get(7)).isEqualTo("laggards-client");
            // assigned but never committed: no current offset, no lag
            assertThat(describe.row(topic, "1").subList(0, 6)).containsExactly(topic, "1", "-", "4", "-", memberId);
            // the columns line up: every cell of a column starts where its header starts
            String[] lines = describe.out().split("\n");
            String header = Arrays.stream(lines).filter(l -> l.startsWith("TOPIC")).findFirst().orElseThrow();
            String line0 = Arrays.stream(lines).filter(l -> l.startsWith(topic + " ") && l.split("\\s+")[1].equals("0")).findFirst().orElseThrow();
            assertThat(line0.indexOf(" 10 ") + 1).isEqualTo(header.indexOf("LOG-END-OFFSET"));
            assertThat(line0.indexOf(memberId)).isEqualTo(header.indexOf("CONSUMER-ID"));

            // an active group's offsets cannot be reset, and it cannot be deleted
            Run reset = groups("reset-offsets", "laggards", "--topic", topic, "--to-earliest", "--execute");
            assertThat(reset.exit()).isEqualTo(1);
            assertThat(reset.err().strip()).contains("'laggards' has active members").doesNotContain("\n");
            assertThat(committed("laggards", p0)).isEqualTo(7);
            Run delete = groups("delete", "laggards");
            assertThat(delete.exit()).isEqualTo(1);
            assertThat(delete.err().strip()).isEqualTo("spate: group 'laggards' has active members; stop its consumers first");
        }

        Run empty = groups("describe", "laggards");
        assertThat(empty.exit()).as(empty.err()).isZero();
        assertThat(empty.out()).contains("Group 'laggards': state Empty, 0 members");
        assertThat(empty.row(topic, "0")).containsExactly(topic, "0", "7", "10", "3", "-", "-", "-");
        assertThat(empty.out()).doesNotContain(topic + "  1 ");
        assertThat(groups("list").row("laggards")).containsExactly("laggards", "Empty", "consumer");
    }

    @Test
    void resetOffsetsIsADryRunUntilExecuteToEarliestLatestDatetimeAndOffset() throws Exception {
        String topic = "rewind";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        produce(topic, 0, 10);
        TopicPartition tp = new TopicPartition(topic, 0);
        consumeAndCommit("rewinders", topic, 10, Map.of(tp, new OffsetAndMetadata(7))).close();

        Run dry = groups("reset-offsets", "rewinders", "--topic", topic, "--to-earliest");
        assertThat(dry.exit()).as(dry.err()).isZero();
        assertThat(dry.row("GROUP")).containsExactly("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET");
        assertThat(dry.row("rewinders")).containsExactly("rewinders", topic, "0", "7", "0");
        assertThat(dry.out()).contains("Dry run: nothing changed");
        assertThat(committed("rewinders", tp)).isEqualTo(7);

        Run earliest = groups("reset-offsets", "rewinders", "--topic", topic, "--to-earliest", "--execute");
        assertThat(earliest.exit()).as(earliest.err()).isZero();
        assertThat(earliest.row("rewinders")).containsExactly("rewinders", topic, "0", "7", "0");
        assertThat(earliest.out()).contains("Reset 1 partition offset of group 'rewinders'.");
        assertThat(committed("rewinders", tp)).isZero();
        assertThat(groups("describe", "rewinders").row(topic, "0").subList(2, 5)).containsExactly("0", "10", "10");

        Run latest = groups("reset-offsets", "rewinders", "--topic", topic, "--to-latest", "--execute");
        assertThat(latest.exit()).as(latest.err()).isZero();
        assertThat(latest.row("rewinders")).containsExactly("rewinders", topic, "0", "0", "10");
        assertThat(committed("rewinders", tp)).isEqualTo(10);

        // record i has timestamp BASE_TIME + i minutes: 3 min 30 s in is the record at offset 4
        String when = Instant.ofEpochMilli(BASE_TIME + 210_000).toString();
        Run datetimeDry = groups("reset-offsets", "rewinders", "--topic", topic, "--to-datetime", when);
        assertThat(datetimeDry.row("rewinders")).containsExactly("rewinders", topic, "0", "10", "4");
        assertThat(committed("rewinders", tp)).isEqualTo(10);
        // the same instant written with a zone offset
        String withOffset = Instant.ofEpochMilli(BASE_TIME + 210_000).atOffset(ZoneOffset.ofHours(2)).toString();
        Run datetime = groups("reset-offsets", "rewinders", "--topic", topic, "--to-datetime", withOffset, "--execute");
        assertThat(datetime.exit()).as(datetime.err()).isZero();
        assertThat(committed("rewinders", tp)).isEqualTo(4);
        assertThat(groups("describe", "rewinders").row(topic, "0").subList(2, 5)).containsExactly("4", "10", "6");

        // after the last record: the log end
        Run future = groups("reset-offsets", "rewinders", "--topic", topic, "--to-datetime", "2100-01-01T00:00:00Z");
        assertThat(future.row("rewinders")).containsExactly("rewinders", topic, "0", "4", "10");

        Run offset = groups("reset-offsets", "rewinders", "--topic", topic + ":0", "--to-offset", "2", "--execute");
        assertThat(offset.exit()).as(offset.err()).isZero();
        assertThat(committed("rewinders", tp)).isEqualTo(2);
        Run clamped = groups("reset-offsets", "rewinders", "--topic", topic, "--to-offset", "99");
        assertThat(clamped.row("rewinders")).containsExactly("rewinders", topic, "0", "2", "10");
    }

    @Test
    void errorsAreOneLineWithANonZeroExitCode() throws Exception {
        Run unreachable = spate("groups", "list", "--bootstrap-server", "127.0.0.1:1", "--timeout", "1500");
        assertThat(unreachable.exit()).isEqualTo(1);
        assertThat(unreachable.out()).isEmpty();
        assertThat(unreachable.err().strip())
                .isEqualTo("spate: no answer from a broker at 127.0.0.1:1 within 1500 ms (is a node running there?)");
        // a pipeline command's steps are bounded by --timeout too (they kept 30 s each whatever it said)
        Run pipelines = spate("pipeline", "list", "--bootstrap-server", "127.0.0.1:1", "--timeout", "1500");
        assertThat(pipelines.exit()).isEqualTo(1);
        assertThat(pipelines.err().strip())
                .isEqualTo("spate: no answer from a broker at 127.0.0.1:1 within 1500 ms (is a node running there?)");
        Run noTimeout = spate("pipeline", "describe", "p", "--bootstrap-server", "127.0.0.1:1", "--timeout", "0");
        assertThat(noTimeout.exit()).isEqualTo(1);
        assertThat(noTimeout.err().strip()).isEqualTo("spate: a pipeline command's timeout must be positive, not 0 ms");

        Run badAddress = spate("groups", "list", "--bootstrap-server", "no-port-here");
        assertThat(badAddress.exit()).isEqualTo(1);
        assertThat(badAddress.err().strip()).startsWith("spate: bad --bootstrap-server 'no-port-here'").doesNotContain("\n");

        Run unknown = groups("describe", "nobody-home");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err().strip()).isEqualTo("spate: group 'nobody-home' does not exist");

        Run deleteUnknown = groups("delete", "nobody-home");
        assertThat(deleteUnknown.exit()).isEqualTo(1);
        assertThat(deleteUnknown.err().strip()).isEqualTo("spate: group 'nobody-home' does not exist");

        Run noTopic = groups("reset-offsets", "nobody-home", "--topic", "no-such-topic", "--to-latest");
        assertThat(noTopic.exit()).isEqualTo(1);
        assertThat(noTopic.err().strip()).isEqualTo("spate: topic does not exist: no-such-topic");

        Run badTime = groups("reset-offsets", "nobody-home", "--topic", "t", "--to-datetime", "yesterday");
        assertThat(badTime.exit()).isEqualTo(1);
        assertThat(badTime.err().strip()).startsWith("spate: bad --to-datetime 'yesterday'");

        Run noTarget = groups("reset-offsets", "g", "--topic", "t");
        assertThat(noTarget.exit()).isEqualTo(2);
        assertThat(noTarget.err()).contains("Missing required argument");
        Run twoTargets = groups("reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-latest");
        assertThat(twoTargets.exit()).isEqualTo(2);
        assertThat(twoTargets.err()).contains("mutually exclusive");

        // deleting an empty group works, and then it is gone
        String topic = "doomed";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        produce(topic, 0, 3);
        consumeAndCommit("doomed-group", topic, 3, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(3))).close();
        Run delete = groups("delete", "doomed-group");
        assertThat(delete.exit()).as(delete.err()).isZero();
        assertThat(delete.out().strip()).isEqualTo("Deleted group 'doomed-group'.");
        assertThat(groups("list").out()).doesNotContain("doomed-group");
        assertThat(groups("describe", "doomed-group").err().strip()).isEqualTo("spate: group 'doomed-group' does not exist");
    }
}
