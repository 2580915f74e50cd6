package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.processing.PipelineAdmin;
import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serdes;
import io.spate.tests.support.Clients;
import io.spate.tests.support.HttpNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /metrics} of an embedded node, scraped with the JDK's HTTP client before and after
 * traffic the test causes (Kafka produce requests from a real producer, HTTP produce requests): the
 * figures grow by what the test did, and the whole answer parses as Prometheus' text format.
 */
class MetricsEndpointTest {
    /** A sample line: name, optional labels, a value (and an optional timestamp). */
    private static final Pattern SAMPLE = Pattern.compile(
            "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"(\\\\.|[^\"\\\\])*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"(\\\\.|[^\"\\\\])*\")*,?})?"
                    + " (-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[+-]Inf)( -?[0-9]+)?");
    private static final int KAFKA_PRODUCES = 25;
    private static final int HTTP_PRODUCES = 7;
    private static final int VALUE_BYTES = 1000;

    @TempDir
    static Path dataDir;
    static HttpNode web;
    static SpateNode node;
    static HttpClient http;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        web = HttpNode.start(SpateNode.builder().dataDir(dataDir));
        node = web.node();
        http = web.http();
        base = web.base();
    }

    @AfterAll
    static void stop() {
        if (web != null) {
            web.close();
        }
    }

    @Test
    void countsAndTimesTheKafkaAndHttpRequestsTheTestMakes() throws Exception {
        String topic = "metrics-produce";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        String before = scrape();

        // One send at a time, each waited for: one Produce request each.
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
            for (int i = 0; i < KAFKA_PRODUCES; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "v".repeat(VALUE_BYTES))).get();
            }
        }
        for (int i = 0; i < HTTP_PRODUCES; i++) {
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(base + "/topics/" + topic + "/records"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("[{\"value\": \"http " + i + "\"}]")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        }
        String after = scrape();

        String produce = "{api=\"Produce\"}";
        assertThat(value(after, "spate_kafka_requests_total" + produce) - value(before, "spate_kafka_requests_total" + produce))
                .isGreaterThanOrEqualTo(KAFKA_PRODUCES);
        // Each Produce request that arrived has been answered (the producer waited for each), and timed once.
        assertThat(value(after, "spate_kafka_request_duration_seconds_count" + produce))
                .isEqualTo(value(after, "spate_kafka_requests_total" + produce));
        assertThat(value(after, "spate_kafka_request_duration_seconds_bucket{api=\"Produce\",le=\"+Inf\"}"))
                .isEqualTo(value(after, "spate_kafka_request_duration_seconds_count" + produce));
        assertThat(value(after, "spate_kafka_request_duration_seconds_sum" + produce)).isPositive();
        assertThat(value(after, "spate_kafka_request_bytes_total" + produce) - value(before, "spate_kafka_request_bytes_total" + produce))
                .isGreaterThanOrEqualTo((double) KAFKA_PRODUCES * VALUE_BYTES);
        assertThat(value(after, "spate_kafka_response_bytes_total" + produce) - value(before, "spate_kafka_response_bytes_total" + produce))
                .isGreaterThan(0);
        // The producer's metadata and the admin's topic creation came over the same listener.
        assertThat(value(after, "spate_kafka_requests_total{api=\"Metadata\"}")).isPositive();
        assertThat(value(after, "spate_kafka_requests_total{api=\"CreateTopics\"}")).isGreaterThanOrEqualTo(1);

        String httpProduce = "{route=\"produce\"}";
        assertThat(value(after, "spate_http_requests_total" + httpProduce) - value(before, "spate_http_requests_total" + httpProduce))
                .isEqualTo(HTTP_PRODUCES);
        assertThat(value(after, "spate_http_request_duration_seconds_count" + httpProduce)
                - value(before, "spate_http_request_duration_seconds_count" + httpProduce)).isEqualTo(HTTP_PRODUCES);
        // The first scrape was answered before the second one was taken.
        assertThat(value(after, "spate_http_requests_total{route=\"metrics\"}")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void timesEachFsyncOfATopicThatFsyncsEveryMessage() throws Exception {
        String topic = "metrics-fsync";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of("flush.messages", "1"));
        String before = scrape();
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
            for (int i = 0; i < 5; i++) {
                // One at a time: each acknowledgement waited for its own fsync.
                producer.send(new ProducerRecord<>(topic, "k", "v" + i)).get();
            }
        }
        String after = scrape();
        assertThat(value(after, "spate_log_fsync_duration_seconds_count") - value(before, "spate_log_fsync_duration_seconds_count"))
                .isGreaterThanOrEqualTo(5);
        assertThat(value(after, "spate_log_fsync_duration_seconds_sum")).isPositive();
        assertThat(value(after, "spate_log_fsync_duration_seconds_bucket{le=\"+Inf\"}"))
                .isEqualTo(value(after, "spate_log_fsync_duration_seconds_count"));
    }

    @Test
    void showsEachGroupsLagFromItsCommittedOffsets() throws Exception {
        String topic = "metrics-lag";
        String group = "metrics-lag-group";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k", "a" + i)).get();
                producer.send(new ProducerRecord<>(topic, 1, "k", "b" + i)).get();
            }
        }
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrapServers()))) {
            // Partition 0 consumed up to offset 7 (3 behind), partition 1 up to 2 (8 behind).
            admin.alterConsumerGroupOffsets(group, Map.of(
                    new org.apache.kafka.common.TopicPartition(topic, 0), new org.apache.kafka.clients.consumer.OffsetAndMetadata(7),
                    new org.apache.kafka.common.TopicPartition(topic, 1), new org.apache.kafka.clients.consumer.OffsetAndMetadata(2))).all().get();
        }
        String labels = "{group=\"" + group + "\"}";
        String text = scrape();
        assertThat(value(text, "spate_consumer_group_lag_sum" + labels)).as(text).isEqualTo(11);
        assertThat(value(text, "spate_consumer_group_lag_max" + labels)).isEqualTo(8);
    }

    @Test
    void showsPartitionHealthAndTheJvm() throws Exception {
        double electionsBefore = value(scrape(), "spate_leader_elections_total");
        Clients.createTopic(node.bootstrapServers(), "metrics-health", 3, Map.of());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String health = scrape();
            // The node took the lead of each new partition.
            assertThat(value(health, "spate_leader_elections_total") - electionsBefore).isGreaterThanOrEqualTo(3);
            assertThat(value(health, "spate_partitions_led")).isGreaterThanOrEqualTo(3);
            assertThat(value(health, "spate_partitions_under_replicated")).isZero();
            assertThat(value(health, "spate_partitions_offline")).isZero();
        });
        String text = scrape();
        assertThat(value(text, "jvm_memory_used_bytes{area=\"heap\"}")).isPositive();
        assertThat(value(text, "jvm_threads_current")).isPositive();
        assertThat(text).contains("# TYPE jvm_gc_collection_seconds summary");
    }

    /** Upper-cases values. */
    public static final class Upper implements Pipeline {
        @Override
        public void define(PipelineBuilder builder) {
            builder.stream("metrics-words", Serdes.string(), Serdes.string())
                    .mapValues(v -> v.toUpperCase(java.util.Locale.ROOT))
                    .to("metrics-words-upper", Serdes.string(), Serdes.string());
        }
    }

    @Test
    void showsEachPipelineTasksFigures() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "metrics-words", 1, Map.of());
        try (PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("upper", new PipelineAdmin.Code.OnClassPath(Upper.class.getName()), Map.of());
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("metrics-words", "k", "word " + i)).get();
                }
            }
            String task = "{partition=\"0\",pipeline=\"upper\",sub_topology=\"0\"}"; // the client writes labels sorted
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                String text = scrape();
                assertThat(value(text, "spate_pipeline_task_records_processed_total" + task)).as(text).isEqualTo(10);
                assertThat(text).contains("spate_pipeline_task_input_lag_records" + task + " ",
                        "spate_pipeline_task_latency_p99_seconds" + task + " ");
            });
            pipelines.delete("upper", true);
        }
    }

    @Test
    void theAnswerIsPrometheusTextFormat() throws Exception {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
        List<String> bad = new ArrayList<>();
        for (String line : answer.body().split("\n")) {
            if (!line.isEmpty() && !line.startsWith("# HELP ") && !line.startsWith("# TYPE ") && !SAMPLE.matcher(line).matches()) {
                bad.add(line);
            }
        }
        assertThat(bad).as("lines that are neither a comment nor name{labels} value").isEmpty();
        assertThat(answer.body()).contains("# TYPE spate_kafka_request_duration_seconds histogram");

        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
    }

    private static String scrape() throws Exception {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(200);
        return answer.body();
    }

    /** The sample's value; 0 when the scrape has no such sample (a series not yet made). */
    private static double value(String text, String sample) {
        for (String line : text.split("\n")) {
            if (line.startsWith(sample + " ")) {
                return Double.parseDouble(line.substring(sample.length() + 1).split(" ")[0]);
            }
        }
        return 0;
    }
}
