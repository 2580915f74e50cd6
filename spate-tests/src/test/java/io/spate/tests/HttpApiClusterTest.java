package io.spate.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spate.tests.support.Clients;
import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.SpateProcess;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP API of one node of a two-node cluster, for partitions it leads (written through the
 * partition API, read in place) and partitions the other node leads (written as one Produce
 * request to that node, read through the internal consumers).
 */
class HttpApiClusterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "http-cluster";
    private static final int PARTITIONS = 4;
    /** Below the HTTP API's own 1 MiB batch bound, so that a node-wide limit is what splits a large request. */
    private static final int NODE_MAX_MESSAGE_BYTES = 500_000;
    @TempDir
    static Path tmp;
    static SpateCluster cluster;
    static final Map<Integer, Integer> httpPorts = new HashMap<>();
    static HttpClient http;

    @BeforeAll
    static void startCluster() throws Exception {
        for (int id = 1; id <= 2; id++) {
            httpPorts.put(id, SpateProcess.freePort());
        }
        cluster = new SpateCluster(tmp.resolve("cluster"), 2, Map.of("broker.heartbeat.interval.ms", "500", "broker.session.timeout.ms", "3000",
                "offsets.topic.replication.factor", "1", "message.max.bytes", String.valueOf(NODE_MAX_MESSAGE_BYTES)),
                id -> Map.of("http.port", String.valueOf(httpPorts.get(id)))).start();
        cluster.createTopic(TOPIC, PARTITIONS, 1, Map.of());
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void stopCluster() {
        if (http != null) {
            http.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aNodeWritesAndReadsPartitionsItDoesNotHold() throws Exception {
        Map<Integer, Integer> leaders = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            leaders.put(p, cluster.awaitLeader(TOPIC, p));
        }
        assertThat(leaders.values()).as("the partitions of a replication-factor-1 topic spread over both nodes: %s", leaders).contains(1, 2);
        String node1 = "http://127.0.0.1:" + httpPorts.get(1);
        int remote = leaders.entrySet().stream().filter(e -> e.getValue() == 2).findFirst().orElseThrow().getKey();
        int local = leaders.entrySet().stream().filter(e -> e.getValue() == 1).findFirst().orElseThrow().getKey();

        StringBuilder body = new StringBuilder("[");
        for (int p = 0; p < PARTITIONS; p++) {
            body.append(p == 0 ? "" : ",").append("{\"value\": \"to-").append(p).append("\", \"partition\": ").append(p).append('}');
        }
        HttpResponse<String> produced = http.send(HttpRequest.newBuilder(URI.create(node1 + "/topics/" + TOPIC + "/records"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body + "]")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(produced.statusCode()).as(produced.body()).isEqualTo(200);
        JsonNode offsets = JSON.readTree(produced.body()).get("offsets");
        for (int p = 0; p < PARTITIONS; p++) {
            assertThat(offsets.get(p).get("partition").asInt()).isEqualTo(p);
            assertThat(offsets.get(p).get("offset").asLong()).isZero();
        }

        List<ConsumerRecord<String, String>> read;
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(), Map.of())) {
            read = Clients.readAll(consumer, Clients.partitions(TOPIC, PARTITIONS));
        }
        assertThat(read).extracting(r -> r.partition() + "=" + r.value())
                .containsExactlyInAnyOrder("0=to-0", "1=to-1", "2=to-2", "3=to-3");

        // Read in place where node 1 holds the partition, through a consumer where it does not.
        for (int p : new int[]{local, remote}) {
            JsonNode records = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(node1 + "/topics/" + TOPIC + "/partitions/" + p + "/records"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body());
            assertThat(records).as("partition %d", p).hasSize(1);
            assertThat(records.get(0).get("value").asText()).isEqualTo("to-" + p);
        }

        JsonNode described = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(node1 + "/topics/" + TOPIC)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        for (JsonNode p : described.get("partitions")) {
            int partition = p.get("partition").asInt();
            assertThat(p.get("leader").asInt()).isEqualTo(leaders.get(partition));
            assertThat(p.has("local")).as("partition %d is held by node 1", partition).isEqualTo(leaders.get(partition) == 1);
        }

        try (HttpApiTest.Sse live = HttpApiTest.Sse.open(node1 + "/topics/" + TOPIC + "/live?from=beginning", null)) {
            assertThat(live.awaitEvents(PARTITIONS)).extracting(HttpApiClusterTest::value)
                    .containsExactlyInAnyOrder("to-0", "to-1", "to-2", "to-3");
        }
    }

    @Test
    void recordsForAPartitionLedElsewhereAreWrittenWholeOrNotAtAll() throws Exception {
        String topic = "http-cluster-limited";
        cluster.createTopic(topic, PARTITIONS, 1, Map.of("max.message.bytes", "2000"));
        Map<Integer, Integer> leaders = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            leaders.put(p, cluster.awaitLeader(topic, p));
        }
        int remote = leaders.entrySet().stream().filter(e -> e.getValue() == 2).findFirst().orElseThrow().getKey();
        int local = leaders.entrySet().stream().filter(e -> e.getValue() == 1).findFirst().orElseThrow().getKey();
        String records = "http://127.0.0.1:" + httpPorts.get(1) + "/topics/" + topic + "/records";

        // The middle record is larger than the topic takes: node 2 refuses its partition's records
        // together, while node 1's own partition is written.
        String tooLarge = "x".repeat(5_000);
        String body = "[{\"value\": \"first\", \"partition\": " + remote + "}, {\"value\": \"" + tooLarge + "\", \"partition\": " + remote
                + "}, {\"value\": \"third\", \"partition\": " + remote + "}, {\"value\": \"here\", \"partition\": " + local + "}]";
        HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(records))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(207);
        JsonNode answers = JSON.readTree(refused.body()).get("offsets");
        for (int i = 0; i < 3; i++) {
            assertThat(answers.get(i).get("error").asText()).as("record %d: %s", i, refused.body()).contains("TOO_LARGE");
            assertThat(answers.get(i).has("offset")).isFalse();
        }
        assertThat(answers.get(3).get("offset").asLong()).isZero();

        String again = "{\"value\": \"a\", \"partition\": " + remote + "}\n{\"value\": \"b\", \"partition\": " + remote
                + "}\n{\"value\": \"c\", \"partition\": " + remote + "}\n";
        HttpResponse<String> written = http.send(HttpRequest.newBuilder(URI.create(records + "?acks=all"))
                .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofString(again)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(written.statusCode()).as(written.body()).isEqualTo(200);
        assertThat(JSON.readTree(written.body()).get("offsets")).extracting(o -> o.get("offset").asLong()).containsExactly(0L, 1L, 2L);

        List<ConsumerRecord<String, String>> read;
        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(), Map.of())) {
            read = Clients.readAll(consumer, Clients.partitions(topic, PARTITIONS));
        }
        assertThat(read).filteredOn(r -> r.partition() == remote).extracting(r -> r.offset() + "=" + r.value())
                .as("nothing of the refused request is in partition %d", remote).containsExactly("0=a", "1=b", "2=c");
        assertThat(read).filteredOn(r -> r.partition() == local).extracting(ConsumerRecord::value).containsExactly("here");
    }

    /**
     * A topic without a max.message.bytes of its own takes the nodes' message.max.bytes. Records
     * for a partition led elsewhere are sent in batches the leader takes: node 1 once built one
     * batch of up to 1 MiB from 900 KB of small records, and node 2 refused all of them.
     */
    @Test
    void recordsForAPartitionLedElsewhereAreBatchedWithinTheNodesMessageLimit() throws Exception {
        String topic = "http-cluster-node-limit";
        cluster.createTopic(topic, PARTITIONS, 1, Map.of());
        Map<Integer, Integer> leaders = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            leaders.put(p, cluster.awaitLeader(topic, p));
        }
        int remote = leaders.entrySet().stream().filter(e -> e.getValue() == 2).findFirst().orElseThrow().getKey();
        String value = "v".repeat(90);
        int count = 9_000;
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < count; i++) {
            body.append("{\"value\": \"").append(value).append("\", \"partition\": ").append(remote).append("}\n");
        }
        assertThat(body.length()).as("more than the nodes take in one batch").isGreaterThan(NODE_MAX_MESSAGE_BYTES);

        HttpResponse<String> written = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPorts.get(1) + "/topics/" + topic
                        + "/records")).header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(written.statusCode()).as(abbreviated(written.body())).isEqualTo(200);
        JsonNode offsets = JSON.readTree(written.body()).get("offsets");
        assertThat(offsets).hasSize(count);
        assertThat(offsets.get(count - 1).get("offset").asLong()).isEqualTo(count - 1);

        try (KafkaConsumer<String, String> consumer = Clients.consumer(cluster.bootstrap(), Map.of())) {
            assertThat(Clients.readAll(consumer, Clients.partitions(topic, PARTITIONS))).filteredOn(r -> r.partition() == remote)
                    .hasSize(count).allMatch(r -> r.value().equals(value));
        }
    }

    private static String abbreviated(String text) {
        return text.length() <= 2_000 ? text : text.substring(0, 2_000) + "...";
    }

    private static String value(String event) {
        try {
            return JSON.readTree(HttpApiTest.field(event, "data")).get("value").asText();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
