package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import io.spate.tests.support.RawKafkaClient;
import io.spate.tests.support.RawRequests;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.ProduceResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Bad input gets a Kafka error code or a closed connection; the node keeps serving other
 * clients and stores nothing it should not.
 */
class BadInputTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir)
                .config("auto.create.topics.enable", "false")
                .config("socket.request.max.bytes", "1048576")
                .start();
        Clients.createTopic(node.bootstrapServers(), "target", 1, Map.of());
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void garbageFrameClosesOnlyThatConnection() throws Exception {
        try (RawKafkaClient bystander = new RawKafkaClient(node.bootstrapServers());
             RawKafkaClient attacker = new RawKafkaClient(node.bootstrapServers())) {
            attacker.writeFrame(ByteBuffer.wrap(new byte[]{0, 3, 0, 1, 0, 0, 0, 7, (byte) 0xff, (byte) 0xff, 42, 42, 42}));
            assertThat(attacker.closedByServer()).isTrue();
            assertProduceWorks(bystander, "after-garbage");
        }
    }

    @Test
    void unknownApiKeyClosesTheConnection() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            client.writeFrame(ByteBuffer.wrap(new byte[]{0x7f, 0x11, 0, 0, 0, 0, 0, 1, 0, 0}));
            assertThat(client.closedByServer()).isTrue();
        }
        assertStillServes();
    }

    @Test
    void unsupportedApiVersionsVersionGetsUnsupportedVersionAndTheVersionTable() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            // ApiVersions v99: header (key 18, version 99, correlation 5, client id null) and an empty body.
            client.writeFrame(ByteBuffer.wrap(new byte[]{0, 18, 0, 99, 0, 0, 0, 5, (byte) 0xff, (byte) 0xff}));
            ByteBuffer response = client.readFrame();
            assertThat(response.getInt()).isEqualTo(5);
            ApiVersionsResponseData data = ApiVersionsResponse.parse(new org.apache.kafka.common.protocol.ByteBufferAccessor(response), (short) 0).data();
            assertThat(data.errorCode()).isEqualTo(Errors.UNSUPPORTED_VERSION.code());
            assertThat(data.apiKeys().find(ApiKeys.PRODUCE.id)).isNotNull();
        }
    }

    @Test
    void unsupportedVersionOfAnotherApiClosesTheConnection() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            client.writeFrame(ByteBuffer.wrap(new byte[]{0, 0, 0, 99, 0, 0, 0, 5, (byte) 0xff, (byte) 0xff}));
            assertThat(client.closedByServer()).isTrue();
        }
        assertStillServes();
    }

    @Test
    void oversizedAndNegativeFramesCloseTheConnection() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            client.writeRaw(ByteBuffer.allocate(4).putInt(2 * 1024 * 1024).array());
            assertThat(client.closedByServer()).isTrue();
        }
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            client.writeRaw(ByteBuffer.allocate(4).putInt(-5).array());
            assertThat(client.closedByServer()).isTrue();
        }
        assertStillServes();
    }

    @Test
    void truncatedRequestBodyClosesTheConnection() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            ByteBuffer full = RawRequests.produce("target", 0, (short) 1, RawRequests.records("x"))
                    .serializeWithHeader(new org.apache.kafka.common.requests.RequestHeader(ApiKeys.PRODUCE, RawRequests.PRODUCE_VERSION, "t", 1));
            full.limit(full.limit() - 30);
            client.writeFrame(full);
            assertThat(client.closedByServer()).isTrue();
        }
        assertStillServes();
    }

    @Test
    void batchWithBadCrcIsRefusedAndNotStored() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            long before = endOffset("target");
            MemoryRecords records = RawRequests.records("corrupted");
            ByteBuffer buffer = records.buffer();
            int last = buffer.limit() - 1;
            buffer.put(last, (byte) (buffer.get(last) ^ 0x5a));
            ProduceResponse response = client.send(RawRequests.produce("target", 0, (short) 1, records));
            assertThat(RawRequests.only(response).errorCode()).isEqualTo(Errors.CORRUPT_MESSAGE.code());
            assertThat(RawRequests.only(response).errorMessage()).contains("CRC");
            assertThat(endOffset("target")).isEqualTo(before);
            assertProduceWorks(client, "after-bad-crc");
        }
    }

    @Test
    void aCompressedBatchThatInflatesFarBeyondItsTopicsBoundIsRefusedAndTheNodeServesOn() throws Exception {
        // max.message.bytes 64 KB: records may inflate to 128 times that, 8 MB
        Clients.createTopic(node.bootstrapServers(), "inflating", 1, Map.of("max.message.bytes", "65536"));
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            MemoryRecords bomb = gzipOfZeros(12 << 20);
            assertThat(bomb.sizeInBytes()).isLessThan(65536);
            ProduceResponse refused = client.send(RawRequests.produce("inflating", 0, (short) 1, bomb));
            assertThat(RawRequests.only(refused).errorCode()).isEqualTo(Errors.MESSAGE_TOO_LARGE.code());
            assertThat(RawRequests.only(refused).errorMessage()).contains("inflate to more than 8388608 bytes");
            assertThat(endOffset("inflating")).isZero();

            ProduceResponse taken = client.send(RawRequests.produce("inflating", 0, (short) 1, gzipOfZeros(4 << 20)));
            assertThat(RawRequests.only(taken).errorCode()).isZero();
            assertThat(endOffset("inflating")).isEqualTo(1);
            assertProduceWorks(client, "after-the-bomb");
        }
    }

    /** One gzip batch of one record whose value is {@code size} zeros: a few kilobytes on the wire. */
    private static MemoryRecords gzipOfZeros(int size) {
        var builder = MemoryRecords.builder(ByteBuffer.allocate(1 << 16), org.apache.kafka.common.compress.Compression.gzip().build(),
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L);
        builder.append(System.currentTimeMillis(), null, new byte[size]);
        return builder.build();
    }

    @Test
    void aProduceWithoutAcksThatFailsClosesTheConnectionSoTheProducerLooksAgain() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            client.write(RawRequests.produce("target", 0, (short) 0, RawRequests.records("fire-and-forget")));
            ApiVersionsResponse versions = client.send(new ApiVersionsRequest.Builder().build((short) 3));
            assertThat(versions.data().errorCode()).isZero();

            client.write(RawRequests.produce("target", 7, (short) 0, RawRequests.records("into-nothing")));
            assertThat(client.closedByServer()).isTrue();
        }
        assertStillServes();
    }

    @Test
    void framesReadBehindAFatalOneAreNotActedOn() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "behind", 1, Map.of());
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            byte[] produceV99 = {0, 0, 0, 99, 0, 0, 0, 1, (byte) 0xff, (byte) 0xff};
            ByteBuffer produce = RawRequests.produce("behind", 0, (short) 1, RawRequests.records("behind-a-fatal-frame"))
                    .serializeWithHeader(new org.apache.kafka.common.requests.RequestHeader(ApiKeys.PRODUCE, RawRequests.PRODUCE_VERSION, "t", 2));
            ByteBuffer both = ByteBuffer.allocate(8 + produceV99.length + produce.remaining());
            both.putInt(produceV99.length).put(produceV99).putInt(produce.remaining()).put(produce);
            client.writeRaw(both.array());
            assertThat(client.closedByServer()).isTrue();
        }
        assertThat(endOffset("behind")).isZero();
        assertStillServes();
    }

    @Test
    void aMetadataTopicWithNeitherNameNorIdIsAnInvalidRequest() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            var data = new org.apache.kafka.common.message.MetadataRequestData().setAllowAutoTopicCreation(false)
                    .setTopics(List.of(new org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic()
                            .setName(null).setTopicId(org.apache.kafka.common.Uuid.ZERO_UUID)));
            MetadataResponse response = client.send(new MetadataRequest.Builder(data).build((short) 12));
            assertThat(response.data().topics()).singleElement()
                    .satisfies(t -> assertThat(t.errorCode()).isEqualTo(Errors.INVALID_REQUEST.code()));
            assertProduceWorks(client, "after-a-nameless-topic");
        }
    }

    @Test
    void aClientThatSendsAndDoesNotReadIsHeldBackInsteadOfHavingItsAnswersBuffered() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "narrow", 1, Map.of());
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            ProduceResponse produced = client.send(RawRequests.produce("narrow", 0, (short) 1, RawRequests.records("v".repeat(30_000))));
            assertThat(RawRequests.only(produced).errorCode()).isZero();
        }
        // answered with a copy of the one 30 KB batch (slices this small are copied, not sent from the file)
        var fetch = org.apache.kafka.common.requests.FetchRequest.Builder.forConsumer((short) 12, 0, 1,
                        Map.of(new org.apache.kafka.common.TopicPartition("narrow", 0), new org.apache.kafka.common.requests.FetchRequest.PartitionData(
                                org.apache.kafka.common.Uuid.ZERO_UUID, 0, 0, 32 * 1024, java.util.Optional.empty())))
                .setMaxBytes(32 * 1024).build((short) 12);
        int requests = 2_000; // 60 MB of answers, from about 200 KB of requests
        try (RawKafkaClient hog = new RawKafkaClient(node.bootstrapServers(), 16 * 1024)) {
            // written from a thread of their own: once the node stops reading, the writes wait for room
            // in one write, so that the node reads many whole requests at a time
            java.io.ByteArrayOutputStream frames = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < requests; i++) {
                ByteBuffer frame = fetch.serializeWithHeader(new org.apache.kafka.common.requests.RequestHeader(ApiKeys.FETCH, (short) 12, "hog", i));
                frames.writeBytes(ByteBuffer.allocate(4).putInt(frame.remaining()).array());
                frames.writeBytes(java.util.Arrays.copyOfRange(frame.array(), frame.arrayOffset() + frame.position(), frame.arrayOffset() + frame.limit()));
            }
            var writer = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    hog.writeRaw(frames.toByteArray());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, r -> Thread.ofPlatform().daemon().start(r));
            await().atMost(Duration.ofSeconds(15)).until(() -> node.unsentResponseBytes() > 0);
            // the node stops taking the hog's requests once about a megabyte of answers waits
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                    .until(() -> node.unsentResponseBytes() <= 2L << 20);
            assertStillServes();

            for (int i = 0; i < requests; i++) {
                org.apache.kafka.common.requests.FetchResponse answer = hog.read(fetch);
                assertThat(answer.error()).isEqualTo(Errors.NONE);
                assertThat(answer.responseData(Map.of(), (short) 12).values()).singleElement()
                        .satisfies(data -> assertThat(data.records().sizeInBytes()).isGreaterThan(30_000));
            }
            writer.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> node.unsentResponseBytes() == 0);
    }

    @Test
    void produceToMissingTopicOrPartitionWithoutAutoCreate() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            ProduceResponse missingTopic = client.send(RawRequests.produce("nope", 0, (short) 1, RawRequests.records("x")));
            assertThat(RawRequests.only(missingTopic).errorCode()).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            ProduceResponse missingPartition = client.send(RawRequests.produce("target", 7, (short) 1, RawRequests.records("x")));
            assertThat(RawRequests.only(missingPartition).errorCode()).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            MetadataResponse metadata = client.send(new MetadataRequest.Builder(List.of("nope"), true, (short) 12).build((short) 12));
            assertThat(metadata.errors()).containsEntry("nope", Errors.UNKNOWN_TOPIC_OR_PARTITION);
        }
    }

    @Test
    void invalidAcksGetInvalidRequiredAcks() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            ProduceResponse response = client.send(RawRequests.produce("target", 0, (short) 2, RawRequests.records("x")));
            assertThat(RawRequests.only(response).errorCode()).isEqualTo(Errors.INVALID_REQUIRED_ACKS.code());
        }
    }

    @Test
    void idempotentProducerRetriesAreStoredOnceAndBadSequencesAndEpochsAreRefused() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "idempotent", 1, Map.of());
        long producerId = 4242;
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            var first = RawRequests.only(client.send(RawRequests.produce("idempotent", 0, (short) -1, RawRequests.idempotent(producerId, (short) 3, 0, "a", "b"))));
            assertThat(first.errorCode()).isZero();
            assertThat(first.baseOffset()).isZero();
            var retry = RawRequests.only(client.send(RawRequests.produce("idempotent", 0, (short) -1, RawRequests.idempotent(producerId, (short) 3, 0, "a", "b"))));
            assertThat(retry.errorCode()).isZero();
            assertThat(retry.baseOffset()).isZero();
            var gap = RawRequests.only(client.send(RawRequests.produce("idempotent", 0, (short) -1, RawRequests.idempotent(producerId, (short) 3, 5, "c"))));
            assertThat(gap.errorCode()).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code());
            var next = RawRequests.only(client.send(RawRequests.produce("idempotent", 0, (short) -1, RawRequests.idempotent(producerId, (short) 3, 2, "c"))));
            assertThat(next.errorCode()).isZero();
            assertThat(next.baseOffset()).isEqualTo(2);
            var fenced = RawRequests.only(client.send(RawRequests.produce("idempotent", 0, (short) -1, RawRequests.idempotent(producerId, (short) 2, 3, "d"))));
            assertThat(fenced.errorCode()).isEqualTo(Errors.INVALID_PRODUCER_EPOCH.code());
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions("idempotent", 1));
            assertThat(records).extracting(ConsumerRecord::value).containsExactly("a", "b", "c");
        }
    }

    private static void assertProduceWorks(RawKafkaClient client, String value) throws Exception {
        ProduceResponse response = client.send(RawRequests.produce("target", 0, (short) 1, RawRequests.records(value)));
        assertThat(RawRequests.only(response).errorCode()).isZero();
    }

    private static void assertStillServes() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            ApiVersionsResponse versions = client.send(new ApiVersionsRequest.Builder().build((short) 3));
            assertThat(versions.data().errorCode()).isZero();
            assertProduceWorks(client, "still-serving");
        }
    }

    private static long endOffset(String topic) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            var tp = new org.apache.kafka.common.TopicPartition(topic, 0);
            return consumer.endOffsets(List.of(tp)).get(tp);
        }
    }

    @Test
    void aStartOnATakenPortSaysWhichPort(@TempDir Path otherDir) throws Exception {
        List<String> command = List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx256m", "-jar",
                System.getProperty("spate.broker.jar"), "start", "--data-dir", otherDir.toString(), "--port", String.valueOf(node.port()),
                "--http-port", "-1");
        Process second = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(second.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(second.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).as(output).isEqualTo(1);
        assertThat(output).contains("spate: cannot start: cannot listen for Kafka on 127.0.0.1:" + node.port() + ": ")
                .contains("Address already in use");
    }
}
