package io.spate.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import io.spate.tests.support.HttpNode;
import org.apache.kafka.clients.admin.Admin;
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

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Confluent's REST Proxy v2 on an embedded node, through the JDK's HTTP client, with the request
 * and response shapes of Confluent's API reference: produce in the json and binary embedded
 * formats read back by a Kafka consumer, metadata, consumer instances reading what a Kafka
 * producer wrote and committing offsets the group's Kafka clients see, and each refusal.
 */
class RestProxyV2Test {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String V2 = "application/vnd.kafka.v2+json";
    private static final String V2_JSON = "application/vnd.kafka.json.v2+json";
    private static final String V2_BINARY = "application/vnd.kafka.binary.v2+json";
    private static final int MAX_INSTANCES = 6;
    @TempDir
    static Path dataDir;
    static HttpNode web;
    static SpateNode node;
    static HttpClient http;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        web = HttpNode.start(SpateNode.builder().dataDir(dataDir)
                .config("group.initial.rebalance.delay.ms", "0")
                .config("http.consumer.max.instances", String.valueOf(MAX_INSTANCES)));
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
    void producesJsonAndBinaryRecordsThatAKafkaConsumerReadsBack() throws Exception {
        String topic = "v2-produce";
        Clients.createTopic(node.bootstrapServers(), topic, 3, Map.of());

        HttpResponse<String> json = send("POST", "/topics/" + topic, V2_JSON, V2, """
                {"records": [{"key": "k1", "value": {"a": 1, "b": [true, null]}},
                             {"value": "plain", "partition": 2},
                             {"value": 12.50}]}""");
        assertThat(json.statusCode()).as(json.body()).isEqualTo(200);
        assertThat(json.headers().firstValue("Content-Type")).hasValue(V2);
        JsonNode answer = JSON.readTree(json.body());
        assertThat(fieldNames(answer)).containsExactlyInAnyOrder("key_schema_id", "value_schema_id", "offsets");
        assertThat(answer.get("key_schema_id").isNull()).isTrue();
        assertThat(answer.get("value_schema_id").isNull()).isTrue();
        JsonNode offsets = answer.get("offsets");
        assertThat(offsets).hasSize(3);
        for (JsonNode o : offsets) {
            assertThat(fieldNames(o)).containsExactlyInAnyOrder("partition", "offset", "error_code", "error");
            assertThat(o.get("error_code").isNull()).isTrue();
            assertThat(o.get("error").isNull()).isTrue();
        }
        assertThat(offsets.get(1).get("partition").asInt()).isEqualTo(2);

        byte[] binaryKey = {0, 1, 2, (byte) 0xff};
        HttpResponse<String> binary = send("POST", "/topics/" + topic + "/partitions/1", V2_BINARY, null, "{\"records\": [{\"key\": \""
                + Base64.getEncoder().encodeToString(binaryKey) + "\", \"value\": \"" + b64("bin-value") + "\"}, {\"value\": null}]}");
        assertThat(binary.statusCode()).as(binary.body()).isEqualTo(200);
        JsonNode binaryOffsets = JSON.readTree(binary.body()).get("offsets");
        assertThat(binaryOffsets).extracting(o -> o.get("partition").asInt()).containsExactly(1, 1);
        assertThat(binaryOffsets.get(1).get("offset").asLong()).isEqualTo(binaryOffsets.get(0).get("offset").asLong() + 1);

        List<ConsumerRecord<byte[], byte[]>> read;
        try (KafkaConsumer<byte[], byte[]> consumer = Clients.bytesConsumer(node.bootstrapServers())) {
            read = Clients.readAll(consumer, Clients.partitions(topic, 3));
        }
        Map<String, ConsumerRecord<byte[], byte[]>> byValue = new HashMap<>();
        read.forEach(r -> byValue.put(r.value() == null ? "<null>" : new String(r.value(), StandardCharsets.UTF_8), r));
        // The json format stores each key and value as its JSON text: a string keeps its quotes.
        assertThat(byValue).containsOnlyKeys("{\"a\":1,\"b\":[true,null]}", "\"plain\"", "12.50", "bin-value", "<null>");
        ConsumerRecord<byte[], byte[]> keyed = byValue.get("{\"a\":1,\"b\":[true,null]}");
        assertThat(new String(keyed.key(), StandardCharsets.UTF_8)).isEqualTo("\"k1\"");
        assertThat(keyed.partition()).isEqualTo(offsets.get(0).get("partition").asInt());
        assertThat(keyed.offset()).isEqualTo(offsets.get(0).get("offset").asLong());
        assertThat(byValue.get("\"plain\"").partition()).isEqualTo(2);
        assertThat(byValue.get("bin-value").key()).isEqualTo(binaryKey);
        assertThat(byValue.get("bin-value").partition()).isEqualTo(1);
        HttpResponse<String> partitionOffsets = send("GET", "/topics/" + topic + "/partitions/1/offsets", null, V2, null);
        assertThat(partitionOffsets.statusCode()).as(partitionOffsets.body()).isEqualTo(200);
        long onePartition = read.stream().filter(r -> r.partition() == 1).count();
        assertThat(JSON.readTree(partitionOffsets.body()))
                .isEqualTo(JSON.readTree("{\"beginning_offset\": 0, \"end_offset\": " + onePartition + "}"));

        // A keyed record lands where Kafka's own producer puts the same key bytes.
        Clients.createTopic(node.bootstrapServers(), "v2-partitioner-check", 3, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            int kafkaPartition = producer.send(new ProducerRecord<>("v2-partitioner-check", "\"k1\"", "x")).get().partition();
            assertThat(keyed.partition()).isEqualTo(kafkaPartition);
        }
    }

    @Test
    void answersMetadataInV2ShapesWhenAskedFor() throws Exception {
        String topic = "v2-metadata";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());

        HttpResponse<String> brokers = send("GET", "/brokers", null, V2, null);
        assertThat(brokers.statusCode()).as(brokers.body()).isEqualTo(200);
        JsonNode brokerIds = JSON.readTree(brokers.body());
        assertThat(fieldNames(brokerIds)).containsExactly("brokers");
        assertThat(brokerIds.get("brokers")).hasSize(1);
        int brokerId = brokerIds.get("brokers").get(0).asInt();

        HttpResponse<String> names = send("GET", "/topics", null, V2, null);
        assertThat(names.headers().firstValue("Content-Type")).hasValue(V2);
        List<String> listed = new ArrayList<>();
        JSON.readTree(names.body()).forEach(n -> listed.add(n.textValue()));
        assertThat(listed).contains(topic).doesNotContain("__consumer_offsets").isSorted();
        // Without the v2 type, Spate's own shape.
        assertThat(JSON.readTree(send("GET", "/topics", null, null, null).body()).get(0).has("partitions")).isTrue();

        JsonNode described = JSON.readTree(send("GET", "/topics/" + topic, null, V2, null).body());
        assertThat(fieldNames(described)).containsExactlyInAnyOrder("name", "configs", "partitions");
        assertThat(described.get("name").asText()).isEqualTo(topic);
        assertThat(described.get("configs").isObject()).isTrue();
        assertThat(described.get("partitions")).hasSize(2);
        for (int p = 0; p < 2; p++) {
            JsonNode partition = described.get("partitions").get(p);
            assertThat(fieldNames(partition)).containsExactlyInAnyOrder("partition", "leader", "replicas");
            assertThat(partition.get("partition").asInt()).isEqualTo(p);
            assertThat(partition.get("leader").asInt()).isEqualTo(brokerId);
            JsonNode replica = partition.get("replicas").get(0);
            assertThat(fieldNames(replica)).containsExactlyInAnyOrder("broker", "leader", "in_sync");
            assertThat(replica.get("broker").asInt()).isEqualTo(brokerId);
            assertThat(replica.get("leader").asBoolean()).isTrue();
            assertThat(replica.get("in_sync").asBoolean()).isTrue();
        }
        HttpResponse<String> partitions = send("GET", "/topics/" + topic + "/partitions", null, V2, null);
        assertThat(JSON.readTree(partitions.body())).isEqualTo(described.get("partitions"));
        HttpResponse<String> one = send("GET", "/topics/" + topic + "/partitions/1", null, null, null);
        assertThat(JSON.readTree(one.body())).isEqualTo(described.get("partitions").get(1));

        // /brokers and the partitions paths are counted under their own route (once each answer is written).
        await().atMost(Duration.ofSeconds(5)).until(() -> send("GET", "/metrics", null, null, null).body().lines()
                .filter(l -> l.startsWith("spate_http_requests_total{route=\"rest_proxy\"}"))
                .anyMatch(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) >= 3));
    }

    @Test
    void aV2ConsumerReadsWhatAKafkaProducerWroteAndCommitsOffsetsItsGroupSees() throws Exception {
        String topic = "v2-consume";
        String group = "v2-group";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 6; i++) {
                producer.send(new ProducerRecord<>(topic, i % 2, "key-" + i, i == 5 ? "{\"n\": 5}" : "value-" + i)).get();
            }
        }

        HttpResponse<String> created = send("POST", "/consumers/" + group, V2, V2, """
                {"name": "c1", "format": "json", "auto.offset.reset": "earliest", "auto.commit.enable": "false",
                 "fetch.min.bytes": "1", "consumer.request.timeout.ms": "500"}""");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        JsonNode instance = JSON.readTree(created.body());
        assertThat(fieldNames(instance)).containsExactlyInAnyOrder("instance_id", "base_uri");
        assertThat(instance.get("instance_id").asText()).isEqualTo("c1");
        // base_uri names the host the client used (the JDK client sends Host: 127.0.0.1:port).
        String baseUri = instance.get("base_uri").asText();
        assertThat(baseUri).isEqualTo(base + "/consumers/" + group + "/instances/c1");
        String path = baseUri.substring(base.length());

        HttpResponse<String> subscribed = send("POST", path + "/subscription", V2, null, "{\"topics\": [\"" + topic + "\"]}");
        assertThat(subscribed.statusCode()).as(subscribed.body()).isEqualTo(204);
        assertThat(JSON.readTree(send("GET", path + "/subscription", null, V2, null).body()))
                .isEqualTo(JSON.readTree("{\"topics\": [\"" + topic + "\"]}"));

        List<JsonNode> records = new ArrayList<>();
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            HttpResponse<String> read = send("GET", path + "/records?timeout=500", null, V2_JSON, null);
            assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
            assertThat(read.headers().firstValue("Content-Type")).hasValue(V2_JSON);
            JSON.readTree(read.body()).forEach(records::add);
            return records.size() >= 6;
        });
        assertThat(records).hasSize(6);
        for (JsonNode r : records) {
            assertThat(fieldNames(r)).containsExactlyInAnyOrder("topic", "key", "value", "partition", "offset");
            assertThat(r.get("topic").asText()).isEqualTo(topic);
            int i = Integer.parseInt(r.get("key").asText().substring("key-".length()));
            assertThat(r.get("partition").asInt()).isEqualTo(i % 2);
            assertThat(r.get("offset").asLong()).isEqualTo(i / 2);
            if (i == 5) {
                // Bytes that hold a JSON value come as that value, others as their text.
                assertThat(r.get("value")).isEqualTo(JSON.readTree("{\"n\": 5}"));
            } else {
                assertThat(r.get("value").asText()).isEqualTo("value-" + i);
            }
        }
        JsonNode assigned = JSON.readTree(send("GET", path + "/assignments", null, V2, null).body());
        assertThat(assigned).isEqualTo(JSON.readTree("{\"partitions\": [{\"topic\": \"" + topic + "\", \"partition\": 0},"
                + " {\"topic\": \"" + topic + "\", \"partition\": 1}]}"));

        // No offsets given: everything handed out so far is committed, and the group's Kafka clients see it.
        HttpResponse<String> commitAll = send("POST", path + "/offsets", V2, null, null);
        assertThat(commitAll.statusCode()).as(commitAll.body()).isEqualTo(200);
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            assertThat(committed.get(p0).offset()).isEqualTo(3);
            assertThat(committed.get(p1).offset()).isEqualTo(3);

            // An offset given is the last record processed: the group resumes after it, as with Confluent's proxy.
            HttpResponse<String> commitOne = send("POST", path + "/offsets", V2, null,
                    "{\"offsets\": [{\"topic\": \"" + topic + "\", \"partition\": 0, \"offset\": 0}]}");
            assertThat(commitOne.statusCode()).as(commitOne.body()).isEqualTo(200);
            committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            assertThat(committed.get(p0).offset()).isEqualTo(1);
            assertThat(committed.get(p1).offset()).isEqualTo(3);
        }
        HttpResponse<String> queried = send("GET", path + "/offsets", V2, V2,
                "{\"partitions\": [{\"topic\": \"" + topic + "\", \"partition\": 0}, {\"topic\": \"" + topic + "\", \"partition\": 1}]}");
        assertThat(JSON.readTree(queried.body())).isEqualTo(JSON.readTree("{\"offsets\": ["
                + "{\"topic\": \"" + topic + "\", \"partition\": 0, \"offset\": 1, \"metadata\": \"\"},"
                + "{\"topic\": \"" + topic + "\", \"partition\": 1, \"offset\": 3, \"metadata\": \"\"}]}"));

        HttpResponse<String> unsubscribed = send("DELETE", path + "/subscription", null, null, null);
        assertThat(unsubscribed.statusCode()).isEqualTo(204);
        assertThat(JSON.readTree(send("GET", path + "/subscription", null, V2, null).body()).get("topics")).isEmpty();

        // A pattern subscription: the matching topics are assigned once the instance polls.
        assertThat(send("POST", path + "/subscription", V2, null, "{\"topic_pattern\": \"v2-cons.*\"}").statusCode()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            assertThat(send("GET", path + "/records?timeout=200", null, V2_JSON, null).statusCode()).isEqualTo(200);
            return JSON.readTree(send("GET", path + "/assignments", null, V2, null).body()).get("partitions").size() == 2;
        });
        assertThat(JSON.readTree(send("GET", path + "/subscription", null, V2, null).body()))
                .isEqualTo(JSON.readTree("{\"topics\": [\"" + topic + "\"]}"));
        assertThat(send("DELETE", path, null, null, null).statusCode()).isEqualTo(204);
        assertError(send("GET", path + "/subscription", null, V2, null), 404, 40403);

        // A Kafka consumer of the same group starts where the v2 consumer committed.
        try (KafkaConsumer<String, String> kafka = Clients.consumer(node.bootstrapServers(), Map.of("group.id", group))) {
            Map<TopicPartition, OffsetAndMetadata> committed = kafka.committed(java.util.Set.of(p0, p1));
            assertThat(committed.get(p0).offset()).isEqualTo(1);
            assertThat(committed.get(p1).offset()).isEqualTo(3);
        }
    }

    @Test
    void aBinaryConsumerAssignsSeeksAndReadsBase64() throws Exception {
        String topic = "v2-binary";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        try (KafkaProducer<byte[], byte[]> producer = Clients.bytesProducer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(topic, 0, new byte[]{(byte) i, (byte) 0xfe}, ("v" + i).getBytes(StandardCharsets.UTF_8))).get();
            }
        }
        // No body at all: a binary consumer with a generated id.
        HttpResponse<String> created = send("POST", "/consumers/v2-binary-group", V2, V2, null);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        String id = JSON.readTree(created.body()).get("instance_id").asText();
        assertThat(id).isNotBlank();
        String path = "/consumers/v2-binary-group/instances/" + id;
        String partition = "{\"topic\": \"" + topic + "\", \"partition\": 0}";

        assertThat(send("POST", path + "/assignments", V2, null, "{\"partitions\": [" + partition + "]}").statusCode()).isEqualTo(204);
        assertThat(JSON.readTree(send("GET", path + "/assignments", null, V2, null).body()))
                .isEqualTo(JSON.readTree("{\"partitions\": [" + partition + "]}"));
        assertThat(send("POST", path + "/positions/beginning", V2, null, "{\"partitions\": [" + partition + "]}").statusCode()).isEqualTo(204);
        List<JsonNode> all = readUntil(path, V2_BINARY, 3);
        assertThat(all).extracting(r -> r.get("offset").asLong()).containsExactly(0L, 1L, 2L);
        assertThat(Base64.getDecoder().decode(all.get(1).get("key").asText())).isEqualTo(new byte[]{1, (byte) 0xfe});
        assertThat(Base64.getDecoder().decode(all.get(2).get("value").asText())).isEqualTo("v2".getBytes(StandardCharsets.UTF_8));

        assertThat(send("POST", path + "/positions", V2, null, "{\"offsets\": [{\"topic\": \"" + topic
                + "\", \"partition\": 0, \"offset\": 1}]}").statusCode()).isEqualTo(204);
        // max_bytes bounds the keys and values one answer carries (4 bytes a record here); the rest comes next.
        HttpResponse<String> bounded = send("GET", path + "/records?max_bytes=4&timeout=5000", null, V2_BINARY, null);
        assertThat(JSON.readTree(bounded.body())).extracting(r -> r.get("offset").asLong()).containsExactly(1L);
        assertThat(readUntil(path, V2_BINARY, 1)).extracting(r -> r.get("offset").asLong()).containsExactly(2L);

        assertThat(send("POST", path + "/positions/end", V2, null, "{\"partitions\": [" + partition + "]}").statusCode()).isEqualTo(204);
        HttpResponse<String> atEnd = send("GET", path + "/records?timeout=200", null, V2_BINARY, null);
        assertThat(atEnd.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(atEnd.body())).isEmpty();

        // A record with neither key nor value is an answer as soon as it is there, not at the timeout.
        try (KafkaProducer<byte[], byte[]> producer = Clients.bytesProducer(node.bootstrapServers(), Map.of())) {
            producer.send(new ProducerRecord<>(topic, 0, null, null)).get();
        }
        long started = System.nanoTime();
        HttpResponse<String> empty = send("GET", path + "/records?timeout=25000", null, V2_BINARY, null);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
        assertThat(JSON.readTree(empty.body())).isEqualTo(JSON.readTree("[{\"topic\": \"" + topic
                + "\", \"key\": null, \"value\": null, \"partition\": 0, \"offset\": 3}]"));
        assertThat(send("DELETE", path, null, null, null).statusCode()).isEqualTo(204);
    }

    /**
     * Records taken from what an earlier poll left, then a poll that fails (a partition with no
     * committed offset and auto.offset.reset none): the records go out with the answer, the
     * failure comes with the next read. They were lost to the client before, and counted as consumed.
     */
    @Test
    void recordsTakenBeforeAPollFailsAreAnsweredNotLost() throws Exception {
        String topic = "v2-taken";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        try (KafkaProducer<byte[], byte[]> producer = Clients.bytesProducer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, ("v" + i).getBytes(StandardCharsets.UTF_8))).get();
            }
        }
        // fetch.min.bytes: a read holds out for more than the buffered records carry, and polls again.
        HttpResponse<String> created = send("POST", "/consumers/v2-taken-group", V2, V2,
                "{\"name\": \"t1\", \"auto.offset.reset\": \"none\", \"fetch.min.bytes\": \"1000000\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        String path = "/consumers/v2-taken-group/instances/t1";
        String p0 = "{\"topic\": \"" + topic + "\", \"partition\": 0}";
        String p1 = "{\"topic\": \"" + topic + "\", \"partition\": 1}";
        assertThat(send("POST", path + "/assignments", V2, null, "{\"partitions\": [" + p0 + "]}").statusCode()).isEqualTo(204);
        assertThat(send("POST", path + "/positions/beginning", V2, null, "{\"partitions\": [" + p0 + "]}").statusCode()).isEqualTo(204);
        // One record an answer (2 bytes each): the poll's others wait in the instance.
        List<Long> seen = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            HttpResponse<String> read = send("GET", path + "/records?max_bytes=2&timeout=500", null, V2_BINARY, null);
            JSON.readTree(read.body()).forEach(r -> seen.add(r.get("offset").asLong()));
            return !seen.isEmpty();
        });
        assertThat(seen).containsExactly(0L);
        // Partition 1 has no committed offset and may not reset: the next poll fails.
        assertThat(send("POST", path + "/assignments", V2, null, "{\"partitions\": [" + p0 + ", " + p1 + "]}").statusCode()).isEqualTo(204);
        HttpResponse<String> rest = send("GET", path + "/records?timeout=2000", null, V2_BINARY, null);
        assertThat(rest.statusCode()).as(rest.body()).isEqualTo(200);
        JSON.readTree(rest.body()).forEach(r -> seen.add(r.get("offset").asLong()));
        assertThat(seen).containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(send("GET", path + "/records?timeout=500", null, V2_BINARY, null).statusCode()).as("the failure, on the next read")
                .isGreaterThanOrEqualTo(400);
        assertThat(send("DELETE", path, null, null, null).statusCode()).isEqualTo(204);
    }

    @Test
    void refusesBadInputWithConfluentsErrorCodes() throws Exception {
        String topic = "v2-errors";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());

        // Unknown topic, partition, instance.
        assertError(send("POST", "/topics/v2-nope", V2_JSON, null, "{\"records\": [{\"value\": 1}]}"), 404, 40401);
        assertError(send("GET", "/topics/v2-nope", null, V2, null), 404, 40401);
        assertError(send("GET", "/topics/" + topic + "/partitions/2", null, V2, null), 404, 40402);
        assertError(send("GET", "/topics/" + topic + "/partitions/x/offsets", null, V2, null), 404, 40402);
        assertError(send("POST", "/topics/" + topic + "/partitions/7", V2_BINARY, null, "{\"records\": [{\"value\": null}]}"), 404, 40402);
        assertError(send("POST", "/topics/" + topic, V2_JSON, null, "{\"records\": [{\"value\": 1, \"partition\": 5}]}"), 404, 40402);
        assertError(send("GET", "/consumers/g/instances/nope/records", null, V2_BINARY, null), 404, 40403);
        assertError(send("DELETE", "/consumers/g/instances/nope", null, null, null), 404, 40403);
        assertError(send("POST", "/consumers/g/instances/nope/offsets", V2, null, null), 404, 40403);

        // Bodies.
        assertError(send("POST", "/topics/" + topic, V2_BINARY, null, "{\"records\": [{\"value\": \"not base64!\"}]}"), 422, 42200);
        assertError(send("POST", "/topics/" + topic, V2_BINARY, null, "{\"records\": [{\"key\": 12, \"value\": null}]}"), 422, 42200);
        assertError(send("POST", "/topics/" + topic, V2_JSON, null, "{\"records\": []}"), 422, 42200);
        assertError(send("POST", "/topics/" + topic, V2_JSON, null, "{\"records\": [{\"value\": 1, \"colour\": 2}]}"), 422, 42200);
        assertError(send("POST", "/topics/" + topic, V2_JSON, null, "{\"records\": [{\"value\": 1}"), 400, 40001);
        assertError(send("POST", "/topics/" + topic, V2_JSON, null, "{\"records\": [{\"value\": 1}]} {}"), 400, 40001);
        assertError(send("POST", "/topics/" + topic, V2_JSON, null, "{\"records\": [{\"value\": 1}], \"colour\": 2}"), 422, 42200);
        assertError(send("POST", "/topics/" + topic, V2_JSON, null, "[{\"value\": 1}]"), 422, 42200);
        // Read as a stream and counted as it comes (a tree of the whole body took ~200 bytes a record first).
        String tooMany = "{\"records\": [" + "{\"value\":1},".repeat(100_000) + "{\"value\":1}]}";
        HttpResponse<String> refusedMany = send("POST", "/topics/" + topic, V2_JSON, null, tooMany);
        assertError(refusedMany, 422, 42200);
        assertThat(refusedMany.body()).contains("more than 100000 records");
        try (var admin = Clients.admin(node.bootstrapServers())) {
            var ends = admin.listOffsets(Map.of(new org.apache.kafka.common.TopicPartition(topic, 0),
                    org.apache.kafka.clients.admin.OffsetSpec.latest(), new org.apache.kafka.common.TopicPartition(topic, 1),
                    org.apache.kafka.clients.admin.OffsetSpec.latest())).all().get();
            assertThat(ends.values()).as("nothing of a refused body is written").allSatisfy(e -> assertThat(e.offset()).isZero());
        }

        // Content types: the schema formats need a registry Spate does not have.
        for (String schema : new String[]{"avro", "protobuf", "jsonschema"}) {
            assertError(send("POST", "/topics/" + topic, "application/vnd.kafka." + schema + ".v2+json", null,
                    "{\"value_schema\": \"{\\\"type\\\": \\\"int\\\"}\", \"records\": [{\"value\": 1}]}"), 415, 41501);
        }
        assertError(send("POST", "/topics/" + topic, "text/plain", null, "hello"), 415, 41500);
        assertError(send("POST", "/consumers/g", V2, null, "{\"format\": \"avro\"}"), 422, 42204);
        assertError(send("POST", "/consumers/g", V2, null, "{\"auto.offset.reset\": \"sometime\"}"), 422, 42204);

        // Accept.
        assertError(send("GET", "/brokers", null, "text/html", null), 406, 40600);
        HttpResponse<String> created = send("POST", "/consumers/v2-errors-group", V2, V2, "{\"name\": \"e1\", \"format\": \"json\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        String path = "/consumers/v2-errors-group/instances/e1";
        assertError(send("GET", path + "/records", null, V2_BINARY, null), 406, 40601);
        assertError(send("GET", path + "/records", null, "text/html", null), 406, 40600);
        // States the consumer refuses: no subscription or assignment, a seek on a partition not assigned.
        assertError(send("GET", path + "/records", null, V2_JSON, null), 409, 40903);
        assertError(send("POST", path + "/positions", V2, null, "{\"offsets\": [{\"topic\": \"" + topic
                + "\", \"partition\": 0, \"offset\": 0}]}"), 409, 40903);
        assertError(send("POST", path + "/subscription", V2, null, "{\"topics\": [\"a\"], \"topic_pattern\": \"b.*\"}"), 422, 42200);
        // A commit is of the offset after the one given: the largest long has none (it was a 500).
        assertError(send("POST", path + "/offsets", V2, null, "{\"offsets\": [{\"topic\": \"" + topic
                + "\", \"partition\": 0, \"offset\": 9223372036854775807}]}"), 422, 42200);
        assertError(send("PUT", path + "/subscription", V2, null, "{}"), 405, 40500);

        // Names are unique per group; instances per node are bounded.
        assertError(send("POST", "/consumers/v2-errors-group", V2, null, "{\"name\": \"e1\"}"), 409, 40902);
        List<String> made = new ArrayList<>();
        HttpResponse<String> refused = null;
        for (int i = 0; i <= MAX_INSTANCES && refused == null; i++) {
            HttpResponse<String> more = send("POST", "/consumers/v2-errors-many", V2, null, null);
            if (more.statusCode() == 200) {
                made.add(JSON.readTree(more.body()).get("instance_id").asText());
            } else {
                refused = more;
            }
        }
        assertThat(refused).isNotNull();
        assertError(refused, 429, 42902);
        for (String id : made) {
            assertThat(send("DELETE", "/consumers/v2-errors-many/instances/" + id, null, null, null).statusCode()).isEqualTo(204);
        }
        assertThat(send("DELETE", path, null, null, null).statusCode()).isEqualTo(204);
        assertThat(send("POST", "/consumers/v2-errors-many", V2, null, null).statusCode()).isEqualTo(200);
    }

    private static List<JsonNode> readUntil(String path, String accept, int count) {
        List<JsonNode> records = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            HttpResponse<String> read = send("GET", path + "/records?timeout=500", null, accept, null);
            assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
            JSON.readTree(read.body()).forEach(records::add);
            return records.size() >= count;
        });
        return records;
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** A request with an optional Content-Type, Accept and body (a GET may carry one, as v2's committed-offsets query does). */
    static HttpResponse<String> send(String method, String path, String contentType, String accept, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (accept != null) {
            request.header("Accept", accept);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The status, and Confluent's error body: exactly {"error_code", "message"}, in the v2 type. */
    static void assertError(HttpResponse<String> response, int status, int errorCode) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValue(V2);
        JsonNode error = JSON.readTree(response.body());
        assertThat(fieldNames(error)).containsExactlyInAnyOrder("error_code", "message");
        assertThat(error.get("error_code").asInt()).as(response.body()).isEqualTo(errorCode);
        assertThat(error.get("message").asText()).isNotBlank();
    }
}
