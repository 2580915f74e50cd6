package io.spate.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import io.spate.tests.support.HttpNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
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

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The admin endpoints of an embedded node ({@code /admin/...}), through the JDK's HTTP client:
 * the cluster, a topic created, described (offsets, sizes, configs), altered and deleted, a
 * consumer group's lag growing with records it has not consumed, the request figures, the
 * masterless tables with the node's table figures, and bad input answered with its status and
 * error code.
 */
class AdminHttpApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dataDir;
    static HttpNode web;
    static SpateNode node;
    static HttpClient http;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        web = HttpNode.start(SpateNode.builder().dataDir(dataDir).config("broker.rack", "rack-a"));
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
    void clusterNamesThisNodeAsLiveControllerWithItsRack() throws Exception {
        JsonNode cluster = ok(get("/admin/cluster"));
        assertThat(cluster.get("cluster_id").asText()).isEqualTo(node.clusterId());
        assertThat(cluster.get("node_id").asInt()).isEqualTo(1);
        assertThat(cluster.get("controller_id").asInt()).isEqualTo(1);
        assertThat(cluster.get("rack").asText()).isEqualTo("rack-a");
        assertThat(cluster.get("nodes")).hasSize(1);
        JsonNode self = cluster.get("nodes").get(0);
        assertThat(self.get("port").asInt()).isEqualTo(node.port());
        assertThat(self.get("live").asBoolean()).isTrue();
        assertThat(self.get("fenced").asBoolean()).isFalse();
        assertThat(self.get("controller").asBoolean()).isTrue();
        assertThat(self.get("voter").asBoolean()).isTrue();
        assertThat(self.get("self").asBoolean()).isTrue();
        assertThat(self.get("rack").asText()).isEqualTo("rack-a");
    }

    @Test
    void createsDescribesAltersAndDeletesATopic() throws Exception {
        String topic = "admin-orders";
        HttpResponse<String> created = send("POST", "/admin/topics", """
                {"name": "admin-orders", "partitions": 3, "replication_factor": 1, "configs": {"retention.ms": "3600000"}}""");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(JSON.readTree(created.body()).get("name").asText()).isEqualTo(topic);

        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 1, "k" + i, "value-" + i)).get();
            }
        }
        JsonNode described = ok(get("/admin/topics/" + topic));
        assertThat(described.get("partitions")).hasSize(3);
        JsonNode p1 = described.get("partitions").get(1);
        assertThat(p1.get("leader").asInt()).isEqualTo(1);
        assertThat(p1.get("replicas").toString()).isEqualTo("[1]");
        assertThat(p1.get("isr").toString()).isEqualTo("[1]");
        assertThat(p1.get("log_start_offset").asLong()).isZero();
        assertThat(p1.get("log_end_offset").asLong()).isEqualTo(10);
        assertThat(p1.get("records").asLong()).isEqualTo(10);
        assertThat(p1.get("size_bytes").asLong()).as("the bytes of 10 records").isGreaterThan(100);
        assertThat(p1.get("replica_sizes").get("1").asLong()).isEqualTo(p1.get("size_bytes").asLong());
        assertThat(described.get("partitions").get(0).get("size_bytes").asLong()).isZero();
        assertThat(config(described.get("configs"), "retention.ms").get("value").asText()).isEqualTo("3600000");
        assertThat(config(described.get("configs"), "retention.ms").get("default").asBoolean()).isFalse();
        assertThat(config(described.get("configs"), "cleanup.policy").get("default").asBoolean()).isTrue();

        JsonNode listed = ok(get("/admin/topics?internal=false"));
        JsonNode summary = find(listed, "name", topic);
        assertThat(summary.get("partitions").asInt()).isEqualTo(3);
        assertThat(summary.get("replication_factor").asInt()).isEqualTo(1);
        assertThat(summary.get("records").asLong()).isEqualTo(10);
        assertThat(summary.get("size_bytes").asLong()).isEqualTo(p1.get("size_bytes").asLong());
        assertThat(summary.get("under_replicated").asInt()).isZero();
        assertThat(summary.get("offline").asInt()).isZero();
        for (JsonNode t : listed) {
            assertThat(t.get("internal").asBoolean()).as("internal topics left out: %s", t).isFalse();
        }

        JsonNode altered = ok(send("PATCH", "/admin/topics/" + topic + "/configs",
                "{\"set\": {\"cleanup.policy\": \"compact\"}, \"delete\": [\"retention.ms\"]}"));
        assertThat(config(altered, "cleanup.policy").get("value").asText()).isEqualTo("compact");
        assertThat(config(altered, "retention.ms").get("default").asBoolean()).as("retention.ms back to its default").isTrue();
        assertThat(config(ok(get("/admin/topics/" + topic + "/configs")), "cleanup.policy").get("value").asText()).isEqualTo("compact");

        assertError(send("POST", "/admin/topics", "{\"name\": \"admin-orders\", \"partitions\": 1}"), 409, 40901);
        HttpResponse<String> defaults = send("POST", "/admin/topics", "{\"name\": \"admin-defaults\"}");
        assertThat(defaults.statusCode()).as(defaults.body()).isEqualTo(201);
        assertThat(ok(get("/admin/topics/admin-defaults")).get("partitions")).as("num.partitions, 1 by default").hasSize(1);

        JsonNode deleted = ok(send("DELETE", "/admin/topics/" + topic, null));
        assertThat(deleted.get("deleted").asText()).isEqualTo(topic);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertError(get("/admin/topics/" + topic), 404, 40401));
    }

    @Test
    void aGroupsLagIsItsRecordsNotYetCommitted() throws Exception {
        String topic = "admin-lag";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 6; i++) {
                producer.send(new ProducerRecord<>(topic, i % 2, "k", "v" + i)).get();
            }
            try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(),
                    Map.of(ConsumerConfig.GROUP_ID_CONFIG, "admin-lag-group", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false))) {
                consumer.subscribe(List.of(topic));
                List<Object> seen = new ArrayList<>();
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                    return seen.size() >= 6;
                });
                consumer.commitSync();

                JsonNode stable = ok(get("/admin/groups/admin-lag-group"));
                assertThat(stable.get("state").asText()).isEqualTo("STABLE");
                assertThat(stable.get("lag").asLong()).isZero();
                assertThat(stable.get("members")).hasSize(1);
                assertThat(stable.get("members").get(0).get("partitions")).hasSize(2);
                assertThat(stable.get("offsets")).hasSize(2);
                for (JsonNode o : stable.get("offsets")) {
                    assertThat(o.get("committed").asLong()).isEqualTo(3);
                    assertThat(o.get("log_end_offset").asLong()).isEqualTo(3);
                    assertThat(o.get("member_id").asText()).isEqualTo(stable.get("members").get(0).get("member_id").asText());
                }

                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, "k", "later" + i)).get();
                }
                JsonNode behind = ok(get("/admin/groups/admin-lag-group"));
                assertThat(behind.get("lag").asLong()).isEqualTo(5);
                JsonNode p0 = behind.get("offsets").get(0);
                assertThat(p0.get("partition").asInt()).isZero();
                assertThat(p0.get("committed").asLong()).isEqualTo(3);
                assertThat(p0.get("log_end_offset").asLong()).isEqualTo(8);
                assertThat(p0.get("lag").asLong()).isEqualTo(5);
                JsonNode listed = find(ok(get("/admin/groups")), "group_id", "admin-lag-group");
                assertThat(listed.get("lag").asLong()).isEqualTo(5);
                assertThat(listed.get("members").asInt()).isEqualTo(1);
                assertThat(listed.get("topics").toString()).isEqualTo("[\"" + topic + "\"]");
            }
        }
        assertError(get("/admin/groups/no-such-group"), 404, 40402);
    }

    @Test
    void statsShowTheProduceRequestsOfTheLastSeconds() throws Exception {
        String topic = "admin-stats";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>(topic, "k", "v" + i)).get();
            }
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            double produced = 0;
            double bytesIn = 0;
            for (JsonNode sample : ok(get("/admin/stats"))) {
                JsonNode p = sample.get("apis").get("Produce");
                if (p != null) {
                    // a request read in one second may be answered in the next: each sample has either or both
                    produced += p.get("answered").asLong();
                    bytesIn += p.get("bytes_in_per_sec").asDouble();
                    if (p.get("answered").asLong() > 0) {
                        assertThat(p.get("p99_ms").asDouble()).isGreaterThanOrEqualTo(p.get("p50_ms").asDouble()).isPositive();
                    }
                }
            }
            assertThat(produced).as("the 20 produce requests, answered over the samples kept").isGreaterThanOrEqualTo(20);
            assertThat(bytesIn).isPositive();
        });
        HttpResponse<java.io.InputStream> live = http.send(HttpRequest.newBuilder(URI.create(base + "/admin/stats/live")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(live.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        try (java.io.BufferedReader lines = new java.io.BufferedReader(new java.io.InputStreamReader(live.body(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null && !line.startsWith("data: ")) {
                // the retry hint
            }
            assertThat(line).isNotNull();
            assertThat(JSON.readTree(line.substring(6)).get("node_id").asInt()).isEqualTo(1);
        }
    }

    @Test
    void tablesListEachTableWithThisNodesTableFigures() throws Exception {
        try (io.spate.tables.client.TablesClient tables = io.spate.tables.client.TablesClient.of(base)) {
            tables.create("admin-carts", 1, Map.of("durability", "batched:5"));
            for (int i = 0; i < 5; i++) {
                tables.put("admin-carts", "k" + i, new byte[]{(byte) i}, io.spate.tables.Consistency.QUORUM, 0);
            }
            assertThat(tables.get("admin-carts", "k1", io.spate.tables.Consistency.ONE)).isPresent();
        }
        JsonNode t = ok(get("/admin/tables"));
        assertThat(t.get("available").asBoolean()).isTrue();
        JsonNode table = null;
        for (JsonNode x : t.get("tables")) {
            if (x.get("name").asText().equals("admin-carts")) {
                table = x;
            }
        }
        assertThat(table).as(t.toString()).isNotNull();
        assertThat(table.get("replication_factor").asInt()).isEqualTo(1);
        assertThat(table.get("write_consistency").asText()).isEqualTo("QUORUM");
        assertThat(table.get("durability").asText()).isEqualTo("batched:5");
        assertThat(table.get("served_here").asBoolean()).isTrue();
        JsonNode figures = t.get("node");
        assertThat(figures.get("hints_pending").asLong()).isZero();
        assertThat(figures.has("anti_entropy_sessions")).isTrue();
        assertThat(figures.has("read_repair_rate")).isTrue();
        long writesAtQuorum = 0;
        long readsAtOne = 0;
        for (JsonNode r : figures.get("requests")) {
            if (r.get("op").asText().equals("write") && r.get("consistency").asText().equals("quorum")) {
                writesAtQuorum = r.get("count").asLong();
                assertThat(r.get("max_ms").asDouble()).isGreaterThanOrEqualTo(r.get("mean_ms").asDouble()).isPositive();
            }
            if (r.get("op").asText().equals("read") && r.get("consistency").asText().equals("one")) {
                readsAtOne = r.get("count").asLong();
            }
        }
        assertThat(writesAtQuorum).isGreaterThanOrEqualTo(5);
        assertThat(readsAtOne).isGreaterThanOrEqualTo(1);
    }

    /** The pipelines page's endpoint follows the catalog: a deploy, a pause (a new generation) and a delete show at the next look. */
    @Test
    void pipelinesListWhatTheCatalogHoldsAfterEachChange() throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = Clients.admin(node.bootstrapServers())) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("admin-lines", 1, (short) 1))).all().get();
        }
        try (io.spate.processing.PipelineAdmin pipelines = node.pipelines()) {
            pipelines.deploy("admin-words", new io.spate.processing.PipelineAdmin.Code.Example("wordcount"), Map.of("in", "admin-lines"));
            JsonNode deployed = pipeline(ok(get("/admin/pipelines")), "admin-words");
            assertThat(deployed).as("deployed").isNotNull();
            assertThat(deployed.get("source").asText()).isEqualTo("example");
            assertThat(deployed.get("paused").asBoolean()).isFalse();
            assertThat(deployed.get("generation").asLong()).isEqualTo(1);
            await("the task reports").atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(pipeline(ok(get("/admin/pipelines")), "admin-words").get("tasks")).isNotEmpty());

            pipelines.pause("admin-words");
            JsonNode paused = pipeline(ok(get("/admin/pipelines")), "admin-words");
            assertThat(paused.get("paused").asBoolean()).isTrue();
            assertThat(paused.get("generation").asLong()).isEqualTo(2);

            pipelines.delete("admin-words", true);
            assertThat(pipeline(ok(get("/admin/pipelines")), "admin-words")).as("deleted").isNull();
        }
    }

    private static JsonNode pipeline(JsonNode list, String name) {
        for (JsonNode p : list) {
            if (p.get("name").asText().equals(name)) {
                return p;
            }
        }
        return null;
    }

    @Test
    void badInputIsRefusedWithItsStatusAndCode() throws Exception {
        assertError(send("POST", "/admin/topics", "{nope"), 400, 40001);
        assertError(send("POST", "/admin/topics", "[1]"), 400, 40001);
        assertError(send("POST", "/admin/topics", "{\"nam\": \"x\"}"), 400, 40001);
        assertError(send("POST", "/admin/topics", "{\"partitions\": 1}"), 400, 40001);
        assertError(send("POST", "/admin/topics", "{\"name\": \"x\", \"partitions\": 0}"), 400, 40001);
        assertError(send("POST", "/admin/topics", "{\"name\": \"x\", \"configs\": {\"retention.ms\": [1]}}"), 400, 40001);
        assertError(send("POST", "/admin/topics", "{\"name\": \"bad name!\", \"partitions\": 1}"), 400, 40010);
        assertError(send("POST", "/admin/topics", "{\"name\": \"x\", \"partitions\": 1, \"replication_factor\": 3}"), 400, 40010);
        assertError(get("/admin/topics/no-such-topic"), 404, 40401);
        assertError(send("DELETE", "/admin/topics/no-such-topic", null), 404, 40401);
        assertError(send("DELETE", "/admin/topics/__consumer_offsets", null), 403, 40301);
        assertError(send("DELETE", "/admin/topics/__spate_pipelines", null), 403, 40301);
        assertError(send("PATCH", "/admin/topics/no-such-topic/configs", "{\"set\": {\"retention.ms\": \"1\"}}"), 404, 40401);
        Clients.createTopicQuietly(node.bootstrapServers(), "admin-bad");
        assertError(send("PATCH", "/admin/topics/admin-bad/configs", "{}"), 400, 40001);
        assertError(send("PATCH", "/admin/topics/admin-bad/configs", "{\"set\": {\"retention.ms\": \"soon\"}}"), 400, 40010);
        HttpResponse<String> put = send("PUT", "/admin/topics", "{}");
        assertError(put, 405, 40500);
        assertThat(put.headers().firstValue("Allow")).contains("GET");
        assertError(get("/admin/nothing"), 404, 40400);
        assertError(get("/console/../../etc/passwd"), 404, 40400);
        assertError(get("/console/missing.js"), 404, 40400);
        HttpResponse<String> index = get("/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(index.body()).contains("/console/app.js");
        assertThat(get("/console/app.js").headers().firstValue("Content-Type").orElse("")).startsWith("text/javascript");
    }

    @Test
    void anotherSitesPageCannotActThroughABrowser() throws Exception {
        // A page of another site posting a text/plain body (no CORS preflight): refused, nothing created.
        HttpResponse<String> forged = http.send(HttpRequest.newBuilder(URI.create(base + "/admin/topics"))
                .header("Content-Type", "text/plain").header("Origin", "http://evil.example")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"forged\", \"partitions\": 1}")).build(), HttpResponse.BodyHandlers.ofString());
        assertError(forged, 403, 40302);
        HttpResponse<String> produce = http.send(HttpRequest.newBuilder(URI.create(base + "/topics/admin-csrf/records"))
                .header("Sec-Fetch-Site", "cross-site").POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertError(produce, 403, 40302);
        assertError(get("/admin/topics/forged"), 404, 40401);
        // The console's own page: the same origin as the host it was served from.
        HttpResponse<String> own = http.send(HttpRequest.newBuilder(URI.create(base + "/admin/topics"))
                .header("Content-Type", "application/json").header("Origin", base).header("Sec-Fetch-Site", "same-origin")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"admin-same-origin\", \"partitions\": 1}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(own.statusCode()).as(own.body()).isBetween(200, 299);
    }

    private static JsonNode config(JsonNode configs, String name) {
        return find(configs, "name", name);
    }

    private static JsonNode find(JsonNode array, String field, String value) {
        for (JsonNode n : array) {
            if (n.get(field).asText().equals(value)) {
                return n;
            }
        }
        throw new AssertionError("no " + field + "=" + value + " in " + array);
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return send("GET", path, null);
    }

    private static HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode ok(HttpResponse<String> response) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isBetween(200, 299);
        return JSON.readTree(response.body());
    }

    private static void assertError(HttpResponse<String> response, int status, int code) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode error = JSON.readTree(response.body());
        assertThat(error.get("error_code").asInt()).as(response.body()).isEqualTo(code);
        assertThat(error.get("message").asText()).isNotBlank();
    }
}
