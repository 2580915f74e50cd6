package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.processing.PipelineAdmin;
import io.spate.processing.TaskStatus;
import io.spate.stream.EmitMode;
import io.spate.stream.KeyValue;
import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serdes;
import io.spate.stream.TumblingWindows;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code window.close.idle.ms} in the deployed runtime: a windowed count that emits each window
 * once when it closes, fed a few records by a real producer and then nothing more. The windows
 * the records closed come out at once; the last ones only because the idle tasks are woken by
 * their wall-clock deadline and move their stream time on. At-least-once and exactly-once (the
 * results of a close on the wall clock commit in the task's transaction like any other).
 */
class PipelineWallClockTest {
    @TempDir
    static Path dataDir;
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

    /** Records of {@code <topics>} counted per key and second, each window's count sent once when it closes. */
    public static final class CountsPerSecondOnClose implements Pipeline {
        @Override
        public void define(PipelineBuilder builder) {
            String in = builder.setting("topics", "wall");
            builder.stream(in, Serdes.string(), Serdes.string())
                    .groupByKey()
                    .windowedBy(TumblingWindows.of(Duration.ofSeconds(1)).emit(EmitMode.ON_WINDOW_CLOSE))
                    .count()
                    .toStream()
                    .map((w, count) -> KeyValue.pair(w.key() + "@" + w.start() + "-" + w.end(), count))
                    .to(in + "-counts", Serdes.string(), Serdes.longs());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"at_least_once", "exactly_once"})
    void theLastWindowsCloseOnTheWallClockWithoutAnyFurtherInput(String guarantee) throws Exception {
        String topic = "wall-" + guarantee.replace('_', '-');
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        try (PipelineAdmin pipelines = node.pipelines()) {
            String name = topic + "-counts";
            pipelines.deploy(name, new PipelineAdmin.Code.OnClassPath(CountsPerSecondOnClose.class.getName()),
                    Map.of("topics", topic, "processing.guarantee", guarantee, "window.close.idle.ms", "500"));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(pipelines.describe(name).orElseThrow().tasks())
                    .hasSize(2).allSatisfy(t -> assertThat(t.state()).isEqualTo("RUNNING")));
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                producer.send(new ProducerRecord<>(topic, null, 1_000L, "a", "x")).get();
                producer.send(new ProducerRecord<>(topic, null, 1_500L, "a", "x")).get();
                producer.send(new ProducerRecord<>(topic, null, 1_800L, "b", "x")).get();
                producer.send(new ProducerRecord<>(topic, null, 2_100L, "a", "x")).get();
            }
            // Stream time ends at 2100 with a's task (1800 with b's, if on the other partition): without
            // the setting [2000,3000) for a (and [1000,2000) for b there) would wait for a record forever.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(counts(topic + "-counts", guarantee))
                    .containsExactlyInAnyOrder("a@1000-2000=2", "b@1000-2000=1", "a@2000-3000=1"));
            // The tasks processed the four records and nothing else, none late, without a failure (reports come every few seconds).
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                List<TaskStatus> tasks = pipelines.describe(name).orElseThrow().tasks();
                assertThat(tasks.stream().mapToLong(TaskStatus::recordsProcessed).sum()).isEqualTo(4);
                assertThat(tasks).allSatisfy(t -> {
                    assertThat(t.failures()).isZero();
                    assertThat(t.lateRecords()).isZero();
                });
            });
            pipelines.delete(name, true);
        }
    }

    private static List<String> counts(String topic, String guarantee) {
        String isolation = guarantee.equals("exactly_once") ? "read_committed" : "read_uncommitted";
        try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", node.bootstrapServers(),
                "isolation.level", isolation), new StringDeserializer(), new LongDeserializer())) {
            return Clients.readAll(consumer, Clients.partitions(topic, 2)).stream()
                    .map((ConsumerRecord<String, Long> r) -> r.key() + "=" + r.value()).toList();
        }
    }
}
