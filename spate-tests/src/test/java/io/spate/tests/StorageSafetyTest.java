package io.spate.tests;

import io.spate.tests.support.Clients;
import io.spate.tests.support.SpateProcess;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.tools.DeleteRecordsCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What operations an operator does every day (lowering a limit, a restart, deleting records)
 * and what disks do now and then (a flipped bit) never cost acknowledged data on a node process.
 */
class StorageSafetyTest {
    @TempDir
    Path tmp;

    @Test
    void loweringMaxMessageBytesThenKill9KeepsEveryAcknowledgedRecord() throws Exception {
        Path dataDir = tmp.resolve("data");
        int recordBytes = 3 << 20;
        try (SpateProcess node = new SpateProcess(dataDir, Map.of("message.max.bytes", String.valueOf(8 << 20))).start()) {
            Clients.createTopic(node.bootstrap(), "big", 1, Map.of("max.message.bytes", String.valueOf(4 << 20)));
            List<byte[]> sent = new ArrayList<>();
            try (KafkaProducer<byte[], byte[]> producer = Clients.bytesProducer(node.bootstrap(),
                    Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 5 << 20, ProducerConfig.BATCH_SIZE_CONFIG, 1))) {
                for (int i = 0; i < 10; i++) {
                    byte[] value = new byte[recordBytes];
                    Arrays.fill(value, (byte) i);
                    producer.send(new ProducerRecord<>("big", 0, null, value)).get();
                    sent.add(value);
                }
            }
            try (Admin admin = Clients.admin(node.bootstrap())) {
                admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, "big"),
                        List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", "1000"), AlterConfigOp.OpType.SET)))).all().get();
            }
            node.kill9();
            node.start();
            assertThat(node.output()).doesNotContain("torn write").doesNotContain("corrupt");
            try (KafkaConsumer<byte[], byte[]> consumer = Clients.bytesConsumer(node.bootstrap())) {
                List<ConsumerRecord<byte[], byte[]>> records = Clients.readAll(consumer, List.of(new TopicPartition("big", 0)));
                assertThat(records).hasSize(10);
                for (int i = 0; i < 10; i++) {
                    assertThat(records.get(i).offset()).isEqualTo(i);
                    assertThat(records.get(i).value()).isEqualTo(sent.get(i));
                }
            }
        }
    }

    @Test
    void aBitFlipInAnOldSegmentKeepsThePartitionOfflineUntilTheOperatorSetsItAside() throws Exception {
        Path dataDir = tmp.resolve("data");
        try (SpateProcess node = new SpateProcess(dataDir, Map.of()).start()) {
            Clients.createTopic(node.bootstrap(), "flip", 2, Map.of("segment.bytes", "16384"));
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
                for (int i = 0; i < 600; i++) {
                    producer.send(new ProducerRecord<>("flip", i % 2, "k" + i, "value-" + i + "-" + "x".repeat(80))).get();
                }
            }
            node.kill9();

            Path partitionDir = dataDir.resolve("flip-0");
            List<Path> segments = segments(partitionDir);
            assertThat(segments).hasSizeGreaterThan(2);
            Path first = segments.get(0);
            long secondBatch = firstBatchSize(first);
            flipBit(first, secondBatch + 70);
            byte[] firstBytes = Files.readAllBytes(first);

            node.start();
            assertThat(node.output()).contains("corrupt data in " + first).contains("spate log set-aside-corrupt");
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(),
                    Map.of(ProducerConfig.RETRIES_CONFIG, 0, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                            ProducerConfig.LINGER_MS_CONFIG, 0))) {
                assertThatThrownBy(() -> producer.send(new ProducerRecord<>("flip", 0, "k", "refused")).get())
                        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(KafkaStorageException.class);
                assertThat(producer.send(new ProducerRecord<>("flip", 1, "k", "other partitions carry on")).get().offset()).isEqualTo(300);
            }
            node.terminate();
            assertThat(segments(partitionDir)).as("no segment deleted").isEqualTo(segments);
            assertThat(Files.readAllBytes(first)).as("nothing cut").isEqualTo(firstBytes);

            assertThat(logTool(0, "set-aside-corrupt", "--data-dir", dataDir.toString(), "--partition", "flip-0"))
                    .contains("set aside under").contains("offsets 0..1");

            node.start();
            // The tools read a stopped node's directory: a running node's, or a mistyped one, is one line and exit code 2.
            assertThat(logTool(2, "check", "--data-dir", dataDir.toString()).strip())
                    .isEqualTo("spate: data directory " + dataDir.toAbsolutePath() + " is in use by another Spate node; stop that node first");
            Path typo = tmp.resolve("dta");
            assertThat(logTool(2, "set-aside-corrupt", "--data-dir", typo.toString(), "--partition", "flip-0").strip())
                    .isEqualTo("spate: no data directory at " + typo.toAbsolutePath());
            assertThat(typo).doesNotExist();
            try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrap(), Map.of())) {
                List<ConsumerRecord<String, String>> kept = Clients.readAll(consumer, List.of(new TopicPartition("flip", 0)));
                assertThat(kept).extracting(ConsumerRecord::value).containsExactly("value-0-" + "x".repeat(80));
            }
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
                assertThat(producer.send(new ProducerRecord<>("flip", 0, "k", "after")).get().offset()).isEqualTo(1);
            }
            try (Stream<Path> quarantined = Files.list(dataDir.resolve("quarantine"))) {
                Path setAside = quarantined.findFirst().orElseThrow();
                assertThat(segments(setAside).stream().map(p -> p.getFileName().toString()))
                        .containsExactlyElementsOf(segments.stream().map(p -> p.getFileName().toString()).toList());
            }

            // What was set aside is listed, and deleted only when asked, while the node runs.
            String dir = dataDir.toString();
            assertThat(logTool(0, "quarantine", "--data-dir", dir)).contains("kept\tflip-0-").contains("1 kept, 0 deleted");
            assertThat(logTool(0, "quarantine", "--data-dir", dir, "--delete-older-than", "1d")).contains("1 kept, 0 deleted");
            assertThat(logTool(2, "quarantine", "--data-dir", dir, "--delete-older-than", "soon")).contains("is not an age");
            assertThat(logTool(0, "quarantine", "--data-dir", dir, "--delete-older-than", "0s")).contains("deleted\tflip-0-")
                    .contains("0 kept, 1 deleted");
            try (Stream<Path> quarantined = Files.list(dataDir.resolve("quarantine"))) {
                assertThat(quarantined.toList()).isEmpty();
            }
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of())) {
                assertThat(producer.send(new ProducerRecord<>("flip", 0, "k", "still served")).get().offset()).isEqualTo(2);
            }
        }
    }

    /** Runs {@code spate log ARGS} and returns what it printed, checking its exit code. */
    private static String logTool(int exitCode, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-jar",
                System.getProperty("spate.broker.jar"), "log"));
        command.addAll(List.of(args));
        Process tool = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(tool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(tool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(tool.exitValue()).as(output).isEqualTo(exitCode);
        return output;
    }

    @Test
    void kafkaDeleteRecordsMovesTheLogStartAndARestartKeepsIt() throws Exception {
        Path dataDir = tmp.resolve("data");
        try (SpateProcess node = new SpateProcess(dataDir, Map.of()).start()) {
            Clients.createTopic(node.bootstrap(), "purge", 1, Map.of("segment.bytes", "8192"));
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrap(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
                for (int i = 0; i < 400; i++) {
                    producer.send(new ProducerRecord<>("purge", 0, "k", "value-" + i + "-" + "y".repeat(60))).get();
                }
            }
            Path offsets = tmp.resolve("offsets.json");
            Files.writeString(offsets, "{\"version\":1,\"partitions\":[{\"topic\":\"purge\",\"partition\":0,\"offset\":250}]}");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            DeleteRecordsCommand.execute(new String[]{"--bootstrap-server", node.bootstrap(), "--offset-json-file", offsets.toString()},
                    new PrintStream(out, true, StandardCharsets.UTF_8));
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("partition: purge-0\tlow_watermark: 250");
            assertThat(segments(dataDir.resolve("purge-0")).get(0).getFileName().toString())
                    .as("segments wholly below 250 are gone").isNotEqualTo("00000000000000000000.log");
            assertThat(earliest(node.bootstrap(), "purge")).isEqualTo(250);

            Files.writeString(offsets, "{\"version\":1,\"partitions\":[{\"topic\":\"purge\",\"partition\":0,\"offset\":401}]}");
            out.reset();
            DeleteRecordsCommand.execute(new String[]{"--bootstrap-server", node.bootstrap(), "--offset-json-file", offsets.toString()},
                    new PrintStream(out, true, StandardCharsets.UTF_8));
            assertThat(out.toString(StandardCharsets.UTF_8)).as("above the high watermark").contains("OffsetOutOfRangeException");

            node.kill9();
            node.start();
            assertThat(earliest(node.bootstrap(), "purge")).as("the log start survives kill -9").isEqualTo(250);
            try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrap(), Map.of())) {
                List<ConsumerRecord<String, String>> rest = Clients.readAll(consumer, List.of(new TopicPartition("purge", 0)));
                assertThat(rest).hasSize(150);
                assertThat(rest.get(0).offset()).isEqualTo(250);
                assertThat(rest.get(0).value()).startsWith("value-250-");
            }
        }
    }

    private static long earliest(String bootstrap, String topic) throws Exception {
        try (Admin admin = Clients.admin(bootstrap)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            return admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get().offset();
        }
    }

    private static List<Path> segments(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
        }
    }

    private static long firstBatchSize(Path segment) throws Exception {
        ByteBuffer header = ByteBuffer.allocate(12);
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.READ)) {
            channel.read(header, 0);
        }
        return 12 + header.getInt(8);
    }

    private static void flipBit(Path file, long position) throws Exception {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x04)).rewind();
            channel.write(one, position);
        }
    }
}
