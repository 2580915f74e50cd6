package io.spate.tests;

import io.spate.broker.cli.SpateCommand;
import io.spate.tests.support.Clients;
import io.spate.tests.support.SpateCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code spate topic describe} and {@code spate groups describe|reset-offsets} with one partition
 * leaderless (its only replica's node killed): the commands show what they can read, and a reset
 * refuses rather than moving only the partitions that answered.
 */
@Timeout(180)
class LeaderlessPartitionCommandsTest {
    @TempDir
    Path tmp;

    record Run(int exit, String out, String err) {
        List<String> row(String... prefix) {
            for (String line : out.split("\n")) {
                List<String> cells = Arrays.asList(line.trim().split("\\s+"));
                if (cells.size() >= prefix.length && cells.subList(0, prefix.length).equals(List.of(prefix))) {
                    return cells;
                }
            }
            throw new AssertionError("no row starting " + List.of(prefix) + " in:\n" + out + err);
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

    @Test
    void commandsShowADashForALeaderlessPartitionAndAResetRefuses() throws Exception {
        // Node 1 alone holds the offsets topic (one partition, made before node 2 joins, never moved to it).
        try (SpateCluster cluster = new SpateCluster(tmp, 1, Map.of("offsets.topic.num.partitions", "1",
                "partition.autobalancing.mode", "off")).start()) {
            Admin admin = cluster.admin();
            await().atMost(SpateCluster.SETTLE).ignoreExceptions().until(() -> admin.listConsumerGroupOffsets("readers")
                    .partitionsToOffsetAndMetadata().get() != null);
            int second = cluster.addNode();
            String topic = "halves";
            admin.createTopics(List.of(new NewTopic(topic, Map.of(0, List.of(1), 1, List.of(second))))).all().get();
            try (KafkaProducer<String, String> producer = Clients.producer(cluster.bootstrap(), Map.of())) {
                for (int i = 0; i < 8; i++) {
                    producer.send(new ProducerRecord<>(topic, i < 3 ? 0 : 1, "k", "v" + i)).get();
                }
            }
            TopicPartition p0 = new TopicPartition(topic, 0);
            admin.alterConsumerGroupOffsets("readers", Map.of(p0, new OffsetAndMetadata(1),
                    new TopicPartition(topic, 1), new OffsetAndMetadata(2))).all().get();

            cluster.kill9(second);
            await().atMost(SpateCluster.SETTLE).untilAsserted(() -> {
                var leader = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(1).leader();
                assertThat(leader == null || leader.isEmpty()).as("partition 1 leaderless").isTrue();
            });
            String bootstrap = cluster.bootstrap(1);

            Run topicDescribe = spate("topic", "describe", topic, "--bootstrap-server", bootstrap);
            assertThat(topicDescribe.exit()).as(topicDescribe.err()).isZero();
            List<String> readable = topicDescribe.row("0");
            assertThat(readable.subList(readable.size() - 2, readable.size())).containsExactly("0", "3");
            List<String> leaderless = topicDescribe.row("1");
            assertThat(leaderless.get(1)).isEqualTo("-");
            assertThat(leaderless.subList(leaderless.size() - 2, leaderless.size())).containsExactly("-", "-");

            Run groupDescribe = spate("groups", "describe", "readers", "--bootstrap-server", bootstrap);
            assertThat(groupDescribe.exit()).as(groupDescribe.err()).isZero();
            assertThat(groupDescribe.row(topic, "0").subList(2, 5)).containsExactly("1", "3", "2");
            assertThat(groupDescribe.row(topic, "1").subList(2, 5)).containsExactly("2", "-", "-");

            Run reset = spate("groups", "reset-offsets", "readers", "--topic", topic, "--to-earliest", "--execute",
                    "--bootstrap-server", bootstrap);
            assertThat(reset.exit()).isEqualTo(1);
            assertThat(reset.err().strip()).isEqualTo("spate: cannot read the offsets of halves-1 (has it no leader now?); nothing was reset");
            assertThat(admin.listConsumerGroupOffsets("readers").partitionsToOffsetAndMetadata().get().get(p0).offset()).isEqualTo(1);
        }
    }
}
