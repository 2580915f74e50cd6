package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * librdkafka's kcat (installed by scripts/test.sh) as producer and consumer: a second, independent
 * implementation of the protocol, negotiating older versions than the Java client.
 */
class KcatTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).start();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void kcatProducesWhatTheJavaConsumerReads() throws Exception {
        List<String> lines = IntStream.range(0, 200).mapToObj(i -> "key" + i + ":line-" + i).toList();
        Result produced = kcat(String.join("\n", lines) + "\n", "-P", "-t", "from-kcat", "-K:", "-p", "0", "-z", "lz4");
        assertThat(produced.exit).as(produced.err).isZero();
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions("from-kcat", 1));
            assertThat(records).extracting(ConsumerRecord::value)
                    .containsExactlyElementsOf(IntStream.range(0, 200).mapToObj(i -> "line-" + i).toList());
            assertThat(records).extracting(ConsumerRecord::key)
                    .containsExactlyElementsOf(IntStream.range(0, 200).mapToObj(i -> "key" + i).toList());
        }
    }

    @Test
    void kcatConsumesWhatTheJavaProducerWrote() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "to-kcat", 2, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 100; i++) {
                ProducerRecord<String, String> record = new ProducerRecord<>("to-kcat", i % 2, "k" + i, "v" + i);
                record.headers().add("trace", ("t" + i).getBytes(StandardCharsets.UTF_8));
                producer.send(record);
            }
            producer.flush();
        }
        Result consumed = kcat("", "-C", "-t", "to-kcat", "-o", "beginning", "-e", "-f", "%p|%o|%k|%s|%h\\n");
        assertThat(consumed.exit).as(consumed.err).isZero();
        List<String> out = consumed.out.lines().toList();
        assertThat(out).hasSize(100);
        for (int i = 0; i < 100; i++) {
            int partition = i % 2;
            long offset = i / 2;
            assertThat(out).contains(partition + "|" + offset + "|k" + i + "|v" + i + "|trace=t" + i);
        }
    }

    @Test
    void kcatListsMetadataAndQueriesOffsets() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "listed", 3, Map.of());
        Result metadata = kcat("", "-L", "-t", "listed");
        assertThat(metadata.exit).as(metadata.err).isZero();
        assertThat(metadata.out).contains("topic \"listed\" with 3 partitions");
        Result offsets = kcat("", "-Q", "-t", "listed:0:-1");
        assertThat(offsets.exit).as(offsets.err).isZero();
        assertThat(offsets.out).contains("listed [0] offset 0");
    }

    record Result(int exit, String out, String err) {
    }

    private static Result kcat(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kcat", "-b", node.bootstrapServers(), "-X", "socket.timeout.ms=10000"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        var out = process.getInputStream().readAllBytes();
        var err = process.getErrorStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("kcat did not finish within 60 s");
        }
        return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }
}
