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
 * partition API, read in place) and partitions the other node leads (through its internal
 * producer and consumers).
 */
class HttpApiClusterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "http-cluster";
    private static final int PARTITIONS = 4;
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
                "offsets.topic.replication.factor", "1"), id -> Map.of("http.port", String.valueOf(httpPorts.get(id)))).start();
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

    private static String value(String event) {
        try {
            return JSON.readTree(HttpApiTest.field(event, "data")).get("value").asText();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
