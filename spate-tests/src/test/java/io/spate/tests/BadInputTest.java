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
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

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
}
