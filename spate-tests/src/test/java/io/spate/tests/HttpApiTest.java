package io.spate.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import io.spate.tests.support.HttpNode;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The HTTP API of an embedded node, through the JDK's HTTP client: produce in its three forms read
 * back by a Kafka consumer, reads, live Server-Sent Events with resumption, topic listing, and
 * every kind of bad input answered with its status while other connections go on.
 */
class HttpApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
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
    void producesJsonNdjsonAndRawBodiesThatAKafkaConsumerReadsBack() throws Exception {
        String topic = "http-produce";
        Clients.createTopic(node.bootstrapServers(), topic, 3, Map.of());

        HttpResponse<String> array = post("/topics/" + topic + "/records", "application/json", """
                [{"key": "k1", "value": "v1", "headers": {"h": "x"}},
                 {"key": "k2", "value": {"a": 1, "b": [true, null]}},
                 {"value": "to-p2", "partition": 2},
                 {"key": "k3", "value": null}]""");
        assertThat(array.statusCode()).as(array.body()).isEqualTo(200);
        JsonNode offsets = JSON.readTree(array.body()).get("offsets");
        assertThat(offsets).hasSize(4);
        assertThat(offsets.get(2).get("partition").asInt()).isEqualTo(2);

        HttpResponse<String> ndjson = post("/topics/" + topic + "/records", "application/x-ndjson",
                "{\"key\": \"n1\", \"value\": \"line one\"}\n\n{\"value\": 2, \"partition\": 1}\r\n");
        assertThat(ndjson.statusCode()).as(ndjson.body()).isEqualTo(200);
        assertThat(JSON.readTree(ndjson.body()).get("offsets")).hasSize(2);

        HttpResponse<String> raw = post("/topics/" + topic + "/records?key=rk&acks=1", "text/plain", "a raw body");
        assertThat(raw.statusCode()).as(raw.body()).isEqualTo(200);

        // A keyed record lands where Kafka's own producer puts the same key.
        Map<String, Integer> httpPartitions = Map.of("k1", offsets.get(0).get("partition").asInt(),
                "k2", offsets.get(1).get("partition").asInt(), "k3", offsets.get(3).get("partition").asInt(),
                "n1", JSON.readTree(ndjson.body()).get("offsets").get(0).get("partition").asInt(),
                "rk", JSON.readTree(raw.body()).get("offsets").get(0).get("partition").asInt());
        Clients.createTopic(node.bootstrapServers(), "http-partitioner-check", 3, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (var keyed : httpPartitions.entrySet()) {
                int kafkaPartition = producer.send(new ProducerRecord<>("http-partitioner-check", keyed.getKey(), "x")).get().partition();
                assertThat(keyed.getValue()).as("partition of key %s", keyed.getKey()).isEqualTo(kafkaPartition);
            }
        }

        List<ConsumerRecord<byte[], byte[]>> read;
        try (KafkaConsumer<byte[], byte[]> consumer = Clients.bytesConsumer(node.bootstrapServers())) {
            read = Clients.readAll(consumer, Clients.partitions(topic, 3));
        }
        Map<String, ConsumerRecord<byte[], byte[]>> byValue = new java.util.HashMap<>();
        read.forEach(r -> byValue.put(r.value() == null ? "<null>" : new String(r.value(), StandardCharsets.UTF_8), r));
        assertThat(byValue).containsOnlyKeys("v1", "{\"a\":1,\"b\":[true,null]}", "to-p2", "<null>", "line one", "2", "a raw body");
        assertThat(new String(byValue.get("v1").headers().lastHeader("h").value(), StandardCharsets.UTF_8)).isEqualTo("x");
        assertThat(new String(byValue.get("v1").key(), StandardCharsets.UTF_8)).isEqualTo("k1");
        assertThat(byValue.get("to-p2").partition()).isEqualTo(2);
        assertThat(byValue.get("2").partition()).isEqualTo(1);
        assertThat(new String(byValue.get("a raw body").key(), StandardCharsets.UTF_8)).isEqualTo("rk");
        ConsumerRecord<byte[], byte[]> v1 = byValue.get("v1");
        assertThat(offsets.get(0).get("offset").asLong()).isEqualTo(v1.offset());
        assertThat(offsets.get(0).get("partition").asInt()).isEqualTo(v1.partition());
    }

    /** A request's records for a partition led here go in as many batches as max.message.bytes needs, in one write. */
    @Test
    void recordsOverTheTopicsMaxMessageBytesAreWrittenInSeveralBatches() throws Exception {
        String topic = "http-small-batches";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of("max.message.bytes", "2048"));
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < 50; i++) {
            json.append(i == 0 ? "" : ",").append("{\"value\": \"").append(String.format("%03d", i)).append("x".repeat(97)).append("\"}");
        }
        HttpResponse<String> answer = post("/topics/" + topic + "/records", "application/json", json.append(']').toString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        JsonNode offsets = JSON.readTree(answer.body()).get("offsets");
        assertThat(offsets).hasSize(50);
        for (int i = 0; i < 50; i++) {
            assertThat(offsets.get(i).get("offset").asLong()).isEqualTo(i);
        }
        try (KafkaConsumer<byte[], byte[]> consumer = Clients.bytesConsumer(node.bootstrapServers())) {
            List<ConsumerRecord<byte[], byte[]>> read = Clients.readAll(consumer, Clients.partitions(topic, 1));
            assertThat(read).hasSize(50);
            assertThat(new String(read.get(49).value(), StandardCharsets.UTF_8)).startsWith("049xxx");
        }
    }

    @Test
    void readsRecordsFromAnOffset() throws Exception {
        String topic = "http-read";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        StringBuilder ndjson = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            ndjson.append("{\"key\": \"k").append(i).append("\", \"value\": \"v").append(i).append("\", \"partition\": 1, \"headers\": {\"n\": \"")
                    .append(i).append("\"}}\n");
        }
        assertThat(post("/topics/" + topic + "/records", "application/x-ndjson", ndjson.toString()).statusCode()).isEqualTo(200);

        HttpResponse<String> page = get("/topics/" + topic + "/partitions/1/records?offset=1&max=2");
        assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
        JsonNode records = JSON.readTree(page.body());
        assertThat(records).hasSize(2);
        assertThat(records.get(0).get("offset").asLong()).isEqualTo(1);
        assertThat(records.get(0).get("partition").asInt()).isEqualTo(1);
        assertThat(records.get(0).get("key").asText()).isEqualTo("k1");
        assertThat(records.get(1).get("value").asText()).isEqualTo("v2");
        assertThat(records.get(1).get("headers").get("n").asText()).isEqualTo("2");
        assertThat(records.get(1).get("timestamp").asLong()).isPositive();

        JsonNode all = JSON.readTree(get("/topics/" + topic + "/partitions/1/records").body());
        assertThat(all).hasSize(5);
        JsonNode binary = JSON.readTree(get("/topics/" + topic + "/partitions/1/records?offset=4&format=base64").body());
        assertThat(new String(Base64.getDecoder().decode(binary.get(0).get("value").asText()), StandardCharsets.UTF_8)).isEqualTo("v4");
        assertThat(JSON.readTree(get("/topics/" + topic + "/partitions/1/records?offset=5").body())).isEmpty();
        assertThat(JSON.readTree(get("/topics/" + topic + "/partitions/0/records").body())).isEmpty();

        assertError(get("/topics/" + topic + "/partitions/1/records?offset=6"), 400, 40004);
        assertError(get("/topics/" + topic + "/partitions/2/records"), 400, 40003);
        assertError(get("/topics/" + topic + "/partitions/x/records"), 400, 40003);
        assertError(get("/topics/" + topic + "/partitions/1/records?max=0"), 400, 40002);
        assertError(get("/topics/" + topic + "/partitions/1/records?format=hex"), 400, 40002);
        // A byte bound as well as a count: "v0" is 2 bytes of value and key, "k0" 2 more, so 5 bytes stop after two.
        assertThat(JSON.readTree(get("/topics/" + topic + "/partitions/1/records?max_bytes=5").body())).hasSize(2);
        assertThat(JSON.readTree(get("/topics/" + topic + "/partitions/1/records?max_bytes=1").body())).hasSize(1);
        assertError(get("/topics/" + topic + "/partitions/1/records?max_bytes=0"), 400, 40002);
        assertError(get("/topics/no-such-topic/partitions/0/records"), 404, 40401);
    }

    @Test
    void streamsRecordsLiveAndResumesAfterLastEventId() throws Exception {
        String topic = "http-live";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        List<String> events;
        try (Sse stream = Sse.open(base + "/topics/" + topic + "/live", null)) {
            stream.awaitComment("streaming");
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                for (int i = 0; i < 3; i++) {
                    producer.send(new ProducerRecord<>(topic, i % 2, "k" + i, "v" + i)).get();
                }
            }
            events = stream.awaitEvents(3);
        }
        List<JsonNode> data = new ArrayList<>();
        for (String event : events) {
            data.add(JSON.readTree(field(event, "data")));
        }
        assertThat(data).extracting(d -> d.get("value").asText()).containsExactlyInAnyOrder("v0", "v1", "v2");
        // Partition 0 holds v0 then v2: in order within the partition.
        assertThat(data.stream().filter(d -> d.get("partition").asInt() == 0).map(d -> d.get("value").asText())).containsExactly("v0", "v2");
        String lastId = field(events.getLast(), "id");
        assertThat(lastId).matches("0:\\d+,1:\\d+");

        // Resuming after the first event delivers the other two, and nothing before.
        String firstId = field(events.getFirst(), "id");
        try (Sse resumed = Sse.open(base + "/topics/" + topic + "/live?from=beginning", firstId)) {
            List<String> again = resumed.awaitEvents(2);
            assertThat(again).extracting(e -> field(e, "data")).containsExactlyInAnyOrderElementsOf(
                    events.subList(1, 3).stream().map(e -> field(e, "data")).toList());
            assertThat(field(again.getLast(), "id")).isEqualTo(lastId);
        }
        // From the beginning, without an id: all three.
        try (Sse fromStart = Sse.open(base + "/topics/" + topic + "/live?from=beginning", null)) {
            assertThat(fromStart.awaitEvents(3)).hasSize(3);
        }
        HttpResponse<String> badId = http.send(HttpRequest.newBuilder(URI.create(base + "/topics/" + topic + "/live"))
                .header("Last-Event-ID", "0:1,7:3").build(), HttpResponse.BodyHandlers.ofString());
        assertError(badId, 400, 40002);
        assertError(get("/topics/no-such-topic/live"), 404, 40401);
    }

    @Test
    void aLiveClientThatStopsReadingIsCutOffHavingCostBoundedBytes() throws Exception {
        String topic = "http-slow";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        byte[] value = "x".repeat(8 * 1024).getBytes(StandardCharsets.UTF_8);
        int records = 4_000; // 32 MiB
        try (KafkaProducer<byte[], byte[]> producer = Clients.bytesProducer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, value));
            }
            producer.flush();
        }
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(16 * 1024);
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", node.httpPort()));
            socket.getOutputStream().write(("GET /topics/" + topic + "/live?from=beginning HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            // The client's slowness itself: it reads nothing for longer than the node waits on it.
            Thread.sleep(Duration.ofMillis(12_000));
            socket.setSoTimeout(30_000);
            long received = 0;
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[64 * 1024];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                received += n; // ends: the node closed the stream
            }
            assertThat(received).as("bytes the node had sent or buffered for a client that stopped reading").isPositive()
                    .isLessThan(16L * 1024 * 1024);
        }
        // The node goes on serving.
        assertThat(get("/topics/" + topic).statusCode()).isEqualTo(200);
    }

    @Test
    void listsAndDescribesTopics() throws Exception {
        String topic = "http-describe";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        assertThat(post("/topics/" + topic + "/records", "text/plain", "one").statusCode()).isEqualTo(200);

        HttpResponse<String> list = get("/topics");
        assertThat(list.statusCode()).isEqualTo(200);
        JsonNode listed = null;
        for (JsonNode t : JSON.readTree(list.body())) {
            if (t.get("name").asText().equals(topic)) {
                listed = t;
            }
        }
        assertThat(listed).as(list.body()).isNotNull();
        assertThat(listed.get("partitions").asInt()).isEqualTo(2);

        HttpResponse<String> described = get("/topics/" + topic);
        assertThat(described.statusCode()).isEqualTo(200);
        JsonNode partitions = JSON.readTree(described.body()).get("partitions");
        assertThat(partitions).hasSize(2);
        long records = 0;
        for (JsonNode p : partitions) {
            assertThat(p.get("leader").asInt()).isEqualTo(1);
            assertThat(p.get("replicas").toString()).isEqualTo("[1]");
            assertThat(p.get("isr").toString()).isEqualTo("[1]");
            assertThat(p.get("local").get("role").asText()).isEqualTo("leader");
            assertThat(p.get("local").get("log_start_offset").asLong()).isZero();
            records += p.get("local").get("log_end_offset").asLong();
        }
        assertThat(records).isEqualTo(1);
        assertError(get("/topics/no-such-topic"), 404, 40401);
    }

    @Test
    void badInputGetsItsStatusAndOtherConnectionsGoOn() throws Exception {
        String topic = "http-bad";
        Clients.createTopic(node.bootstrapServers(), topic, 2, Map.of());
        String records = "/topics/" + topic + "/records";

        HttpResponse<String> malformed = post(records, "application/json", "[{\"value\": \"a\"},\n {\"value\": }]");
        assertError(malformed, 400, 40001);
        assertThat(message(malformed)).contains("line 2");
        assertThat(message(post(records, "application/json", "[{\"value\": \"a\"}, 7]"))).contains("element 1");
        assertThat(message(post(records, "application/json", "{\"value\": \"a\"}"))).contains("JSON array");
        assertThat(message(post(records, "application/json", "[{\"valeu\": \"a\"}]"))).contains("element 0").contains("valeu");
        HttpResponse<String> badLine = post(records, "application/x-ndjson", "{\"value\": 1}\n{\"value\": 2\n{\"value\": 3}\n");
        assertError(badLine, 400, 40001);
        assertThat(message(badLine)).contains("line 2");
        assertError(post(records, "application/json", "[]"), 400, 40001);
        assertError(post(records, "application/json", ""), 400, 40001);
        assertError(post(records, "application/json", "[{\"value\": \"a\", \"partition\": 2}]"), 400, 40003);
        assertError(post(records, "application/json", "[{\"value\": \"a\", \"partition\": \"one\"}]"), 400, 40003);
        assertError(post(records + "?acks=2", "text/plain", "x"), 400, 40002);
        assertError(post(records + "?timeout_ms=soon", "text/plain", "x"), 400, 40002);
        assertError(post("/topics/no-such-topic/records", "text/plain", "x"), 404, 40401);
        // The coordinators' own topics take no records from outside, as a Kafka produce to them is refused.
        assertError(post("/topics/__consumer_offsets/records?partition=0", "text/plain", "x"), 403, 40301);
        assertError(post("/topics/__transaction_state/records", "application/json", "[{\"value\": \"x\"}]"), 403, 40301);
        // Nothing of a refused request was written.
        assertThat(JSON.readTree(get("/topics/" + topic).body()).get("partitions").findValues("log_end_offset"))
                .allMatch(end -> end.asLong() == 0);

        HttpResponse<String> wrongMethod = http.send(HttpRequest.newBuilder(URI.create(base + records)).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(wrongMethod, 405, 40500);
        assertThat(wrongMethod.headers().firstValue("Allow")).contains("POST");
        assertError(post("/topics", "application/json", "[]"), 405, 40500);
        assertError(get("/nope"), 404, 40400);
        assertError(get("/topics/" + topic + "/records/extra"), 404, 40400);
        assertError(post(records, "application/octet-stream", "x".repeat(8 * 1024 * 1024 + 1)), 413, 41300);

        // Not HTTP at all: a 400, on that connection only.
        try (Socket socket = new Socket("127.0.0.1", node.httpPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("\u0000\u0001 GARBAGE\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(new String(socket.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 400");
        }
        // A new client, so a new connection: served as if nothing happened.
        try (HttpClient other = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpResponse<String> good = other.send(HttpRequest.newBuilder(URI.create(base + records))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("[{\"value\": \"fine\"}]")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(good.statusCode()).as(good.body()).isEqualTo(200);
        }
    }

    /** Bodies the parser once failed on (500s) and a compressed body once stored as it came (200). */
    @Test
    void oddBodiesAre400sAndCompressedOnes415() throws Exception {
        String topic = "http-odd-bodies";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        String records = "/topics/" + topic + "/records";
        String deep = "[".repeat(1001) + "]".repeat(1001);
        assertError(post(records, "application/json", "[{\"value\":" + deep + "}]"), 400, 40001);
        assertError(send(records, "application/json", new byte[]{0, 0, '[', 0}, Map.of()), 400, 40001);
        assertError(send(records, "application/x-ndjson", new byte[]{0, 0, '[', 0}, Map.of()), 400, 40001);
        java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gzip = new java.util.zip.GZIPOutputStream(zipped)) {
            gzip.write("compressed".getBytes(StandardCharsets.UTF_8));
        }
        assertError(send(records, "text/plain", zipped.toByteArray(), Map.of("Content-Encoding", "gzip")), 415, 41502);
        assertError(send(records, "text/plain", zipped.toByteArray(), Map.of("Content-Encoding", "identity, gzip")), 415, 41502);
        assertThat(JSON.readTree(get("/topics/" + topic).body()).get("partitions").findValues("log_end_offset"))
                .allMatch(end -> end.asLong() == 0);

        HttpResponse<String> crLine = post(records, "application/x-ndjson", "{\"value\":\"a\"}\n\r\r\n");
        assertThat(crLine.statusCode()).as(crLine.body()).isEqualTo(200);
        assertThat(JSON.readTree(crLine.body()).get("offsets")).hasSize(1);
        HttpResponse<String> identity = send(records, "text/plain", "plain".getBytes(StandardCharsets.UTF_8),
                Map.of("Content-Encoding", "identity"));
        assertThat(identity.statusCode()).as(identity.body()).isEqualTo(200);
    }

    /**
     * A pipelining client pairs answers with requests by their order: a refusal, or a 100 Continue,
     * for a later request must not come ahead of an earlier request's answer. The earlier request
     * here is a REST Proxy read that waits on an empty partition, so its answer comes late.
     */
    @Test
    void refusalsAndContinuesOfPipelinedRequestsComeInTheirTurn() throws Exception {
        String topic = "http-pipelined";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        String slowRead = "GET " + waitingReader(topic) + "/records?timeout=500 HTTP/1.1\r\nHost: x\r\n"
                + "Accept: application/vnd.kafka.binary.v2+json\r\n\r\n";
        String post = "POST /topics/" + topic + "/records HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n";

        try (Socket socket = new Socket("127.0.0.1", node.httpPort())) {
            socket.setSoTimeout(10_000);
            write(socket, slowRead + post + "Content-Length: " + (8 * 1024 * 1024 + 1) + "\r\n\r\n");
            String answers = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1); // to the half-close
            assertThat(statusLines(answers)).containsExactly("HTTP/1.1 200 OK", "HTTP/1.1 413 Request Entity Too Large");
            assertThat(answers).containsIgnoringCase("connection: close");
        }
        try (Socket socket = new Socket("127.0.0.1", node.httpPort())) {
            socket.setSoTimeout(10_000);
            write(socket, slowRead + post + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            String interim = readUntil(socket, "100 Continue\r\n\r\n");
            assertThat(statusLines(interim)).containsExactly("HTTP/1.1 200 OK", "HTTP/1.1 100 Continue");
            write(socket, "hello");
            assertThat(statusLines(readUntil(socket, "\"offsets\""))).containsExactly("HTTP/1.1 200 OK");
        }
    }

    /** A REST Proxy v2 consumer at the end of {@code topic}'s partition 0, whose reads wait for their timeout. */
    private static String waitingReader(String topic) throws Exception {
        String v2 = "application/vnd.kafka.v2+json";
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(base + "/consumers/" + topic))
                .header("Content-Type", v2).header("Accept", v2).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        String path = "/consumers/" + topic + "/instances/" + JSON.readTree(created.body()).get("instance_id").asText();
        String partitions = "{\"partitions\": [{\"topic\": \"" + topic + "\", \"partition\": 0}]}";
        for (String step : List.of("/assignments", "/positions/end")) {
            HttpResponse<String> done = http.send(HttpRequest.newBuilder(URI.create(base + path + step)).header("Content-Type", v2)
                    .POST(HttpRequest.BodyPublishers.ofString(partitions)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(done.statusCode()).as(done.body()).isEqualTo(204);
        }
        return path;
    }

    private static void write(Socket socket, String text) throws Exception {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    /** What the socket gives until {@code end} has come (a read timeout fails the test). */
    private static String readUntil(Socket socket, String end) throws Exception {
        StringBuilder read = new StringBuilder();
        InputStream in = socket.getInputStream();
        while (read.indexOf(end) < 0) {
            int b = in.read();
            assertThat(b).as("the connection ended before %s, after: %s", end, read).isNotNegative();
            read.append((char) b);
        }
        return read.toString();
    }

    /** Not by line: an answer's body has no line end, so the next answer's status line follows it on the same line. */
    private static List<String> statusLines(String answers) {
        return java.util.regex.Pattern.compile("HTTP/1\\.1 \\d{3}[^\\r\\n]*").matcher(answers).results()
                .map(java.util.regex.MatchResult::group).toList();
    }

    @Test
    void requestBytesBeyondTheInFlightLimitAreRefusedWith429() throws Exception {
        String topic = "http-pressure";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        // Eight bodies of the largest size allowed, announced and never sent, hold the node's 64 MiB;
        // a ninth is refused before its body is read, and the others' bytes are not queued.
        String head = "POST /topics/" + topic + "/records HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: "
                + (8 * 1024 * 1024) + "\r\n\r\n";
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 9; i++) {
                Socket socket = new Socket("127.0.0.1", node.httpPort());
                socket.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
                sockets.add(socket);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> sockets.stream().anyMatch(HttpApiTest::hasInput));
            List<Socket> answered = sockets.stream().filter(HttpApiTest::hasInput).toList();
            assertThat(answered).hasSize(1);
            answered.getFirst().setSoTimeout(10_000);
            String response = new String(answered.getFirst().getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 429").containsIgnoringCase("retry-after: 1").contains("\"error_code\":42900");
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        // The held bytes are released with their connections.
        await().atMost(Duration.ofSeconds(10)).until(() -> post("/topics/" + topic + "/records", "text/plain", "after").statusCode() == 200);
    }

    private static boolean hasInput(Socket socket) {
        try {
            return socket.getInputStream().available() > 0;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    // ---- helpers ----

    static HttpResponse<String> post(String path, String contentType, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> send(String path, String contentType, byte[] body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static void assertError(HttpResponse<String> response, int status, int errorCode) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.get("error_code").asInt()).as(response.body()).isEqualTo(errorCode);
        assertThat(body.get("message").asText()).isNotBlank();
    }

    static String message(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body()).get("message").asText();
    }

    /** The value of {@code name} in one event's lines. */
    static String field(String event, String name) {
        return event.lines().filter(l -> l.startsWith(name + ": ")).map(l -> l.substring(name.length() + 2)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in " + event));
    }

    /** A Server-Sent Events stream read line by line on its own thread; events and comments as they arrive. */
    static final class Sse implements AutoCloseable {
        final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        final BlockingQueue<String> comments = new LinkedBlockingQueue<>();
        final HttpClient client;
        final CompletableFuture<Void> reading;

        private Sse(HttpClient client, HttpResponse<Stream<String>> response) {
            this.client = client;
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
            reading = CompletableFuture.runAsync(() -> {
                StringBuilder event = new StringBuilder();
                response.body().forEach(line -> {
                    if (line.startsWith(":")) {
                        comments.add(line);
                    } else if (line.isEmpty()) {
                        if (!event.isEmpty()) {
                            events.add(event.toString());
                            event.setLength(0);
                        }
                    } else {
                        event.append(line).append('\n');
                    }
                });
            });
        }

        static Sse open(String url, String lastEventId) throws Exception {
            HttpClient opener = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream");
            if (lastEventId != null) {
                request.header("Last-Event-ID", lastEventId);
            }
            return new Sse(opener, opener.send(request.build(), HttpResponse.BodyHandlers.ofLines()));
        }

        void awaitComment(String containing) {
            await().atMost(Duration.ofSeconds(30)).until(() -> comments.stream().anyMatch(c -> c.contains(containing)));
        }

        List<String> awaitEvents(int count) {
            await().atMost(Duration.ofSeconds(30)).until(() -> events.size() >= count);
            List<String> out = new ArrayList<>();
            events.drainTo(out);
            assertThat(out).hasSize(count);
            return out;
        }

        @Override
        public void close() {
            client.shutdownNow(); // ends the body's stream, and with it the reading thread
        }
    }
}
