package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.processing.PipelineAdmin;
import io.spate.processing.TaskStatus;
import io.spate.stream.Named;
import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serdes;
import io.spate.tables.Consistency;
import io.spate.tables.client.TablesClient;
import io.spate.tests.support.Clients;
import io.spate.tests.support.HttpNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Pipelines writing Spate tables ({@code toTable}) on a node, read back through the tables' HTTP
 * API: a count per page at-least-once, a compacted topic materialized by the shipped
 * {@code topic-to-table} example exactly-once (tombstones delete), and a pipeline naming a table
 * that does not exist.
 */
class PipelineTableTest {
    @TempDir
    static Path dataDir;
    static HttpNode web;
    static TablesClient tables;

    @BeforeAll
    static void start() throws Exception {
        web = HttpNode.start(SpateNode.builder().dataDir(dataDir));
        tables = TablesClient.of(web.base());
    }

    @AfterAll
    static void stop() {
        if (tables != null) {
            tables.close();
        }
        if (web != null) {
            web.close();
        }
    }

    /** Clicks (user -> page) counted per page, each count written to the table {@code page-counts} as text. */
    public static final class PageCounts implements Pipeline {
        @Override
        public void define(PipelineBuilder builder) {
            builder.stream(builder.setting("in", "page-clicks"), Serdes.string(), Serdes.string())
                    .groupBy((user, page) -> page, Serdes.string(), Named.as("by-page"))
                    .count(Named.as("per-page"))
                    .toStream()
                    .mapValues(count -> Long.toString(count), Serdes.string())
                    .toTable(builder.setting("table", "page-counts"), Serdes.string(), Serdes.string());
        }
    }

    private static void produce(String topic, String... keysAndValues) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(web.node().bootstrapServers(), Map.of())) {
            for (int i = 0; i < keysAndValues.length; i += 2) {
                producer.send(new ProducerRecord<>(topic, keysAndValues[i], keysAndValues[i + 1])).get();
            }
        }
    }

    private static Optional<String> read(String table, String key) {
        return tables.get(table, key, Consistency.QUORUM).map(v -> new String(v.value(), StandardCharsets.UTF_8));
    }

    @Test
    void countsPerPageLandInATableAsTheyChange() throws Exception {
        tables.create("page-counts", 1, Map.of());
        Clients.createTopic(web.node().bootstrapServers(), "page-clicks", 3, Map.of());
        try (PipelineAdmin pipelines = web.node().pipelines()) {
            pipelines.deploy("pages", new PipelineAdmin.Code.OnClassPath(PageCounts.class.getName()), Map.of());
            Map<String, Integer> expected = new HashMap<>();
            String[] clicks = new String[2 * 300];
            for (int i = 0; i < 300; i++) {
                String page = "/p" + (i % 7);
                clicks[2 * i] = "user" + (i % 11);
                clicks[2 * i + 1] = page;
                expected.merge(page, 1, Integer::sum);
            }
            produce("page-clicks", clicks);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> expected.forEach((page, count) ->
                    assertThat(read("page-counts", page)).as(page).contains(Integer.toString(count))));
            assertThat(pipelines.describe("pages").orElseThrow().tasks()).allSatisfy(t -> assertThat(t.state()).isEqualTo("RUNNING"));
            pipelines.delete("pages", true);
        }
    }

    @Test
    void theTopicToTableExampleMaterializesACompactedTopicExactlyOnceAndDeletesOnTombstones() throws Exception {
        Clients.createTopic(web.node().bootstrapServers(), "users", 2, Map.of("cleanup.policy", "compact"));
        produce("users", "u1", "ada", "u2", "bob", "u3", "cy", "u1", "ada lovelace", "u2", null);
        tables.create("user-table", 1, Map.of());
        try (PipelineAdmin pipelines = web.node().pipelines()) {
            pipelines.deploy("users-to-table", new PipelineAdmin.Code.Example("topic-to-table"),
                    Map.of("in", "users", "table", "user-table", "processing.guarantee", "exactly_once"));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                assertThat(read("user-table", "u1")).contains("ada lovelace");
                assertThat(read("user-table", "u3")).contains("cy");
                assertThat(read("user-table", "u2")).isEmpty();
            });
            // It follows the topic.
            produce("users", "u3", null, "u4", "dee");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                assertThat(read("user-table", "u3")).isEmpty();
                assertThat(read("user-table", "u4")).contains("dee");
            });
            pipelines.delete("users-to-table", true);
        }
    }

    @Test
    void aPipelineWritingATableThatDoesNotExistSaysSoAndCommitsNothingPastIt() throws Exception {
        Clients.createTopic(web.node().bootstrapServers(), "orphans", 1, Map.of());
        try (PipelineAdmin pipelines = web.node().pipelines()) {
            pipelines.deploy("orphans", new PipelineAdmin.Code.Example("topic-to-table"), Map.of("in", "orphans", "table", "no-such-table"));
            produce("orphans", "k", "v");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                java.util.List<TaskStatus> tasks = pipelines.describe("orphans").orElseThrow().tasks();
                assertThat(tasks).hasSize(1);
                assertThat(tasks.get(0).error()).contains("no table no-such-table");
            });
            // Its position stays before the record it could not write.
            try (var admin = Clients.admin(web.node().bootstrapServers())) {
                var committed = admin.listConsumerGroupOffsets("spate-pipeline-orphans").partitionsToOffsetAndMetadata().get();
                assertThat(committed.values()).allSatisfy(offset -> assertThat(offset.offset()).isZero());
            }
            // Created afterwards, the table gets the record on the task's next attempt.
            tables.create("no-such-table", 1, Map.of());
            await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(read("no-such-table", "k")).contains("v"));
            // Its next commit clears the failure from its status.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(pipelines.describe("orphans").orElseThrow().tasks().get(0).error()).isEmpty());
            pipelines.delete("orphans", true);
        }
    }
}
