package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import io.spate.tests.support.RawKafkaClient;
import io.spate.tests.support.RawRequests;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Serving rules from the hardening pass, against an embedded node with the real clients and raw requests. */
class ServingHardeningTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir).start();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    /** KIP-360: a producer id the partition has no state for starts at whatever sequence it sends. */
    @Test
    void anUnknownProducerIdIsAcceptedAtANonZeroSequence() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "kip360", 1, Map.of());
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            var first = RawRequests.only(client.send(RawRequests.produce("kip360", 0, (short) -1, RawRequests.idempotent(777, (short) 0, 42, "a", "b"))));
            assertThat(first.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(first.baseOffset()).isZero();
            var retry = RawRequests.only(client.send(RawRequests.produce("kip360", 0, (short) -1, RawRequests.idempotent(777, (short) 0, 42, "a", "b"))));
            assertThat(retry.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(retry.baseOffset()).isZero();
            var gap = RawRequests.only(client.send(RawRequests.produce("kip360", 0, (short) -1, RawRequests.idempotent(777, (short) 0, 50, "c"))));
            assertThat(gap.errorCode()).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code());
            var next = RawRequests.only(client.send(RawRequests.produce("kip360", 0, (short) -1, RawRequests.idempotent(777, (short) 0, 44, "c"))));
            assertThat(next.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(next.baseOffset()).isEqualTo(2);
        }
    }

    /**
     * Found by the fault campaigns (seed 1011): a retry older than the five batches a partition
     * keeps per producer was answered OUT_OF_ORDER_SEQUENCE_NUMBER, so the Java client bumped its
     * epoch and wrote its in-flight records again (duplicates). It was written: Kafka's
     * DUPLICATE_SEQUENCE_NUMBER says so, the client completes it, and nothing is appended.
     */
    @Test
    void aRetryOlderThanTheKeptBatchesIsAnsweredAsADuplicateAndNotWrittenAgain() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "old-retry", 1, Map.of());
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            for (int seq = 0; seq < 7; seq++) {
                var answer = RawRequests.only(client.send(RawRequests.produce("old-retry", 0, (short) -1, RawRequests.idempotent(888, (short) 0, seq, "v" + seq))));
                assertThat(answer.errorCode()).isEqualTo(Errors.NONE.code());
            }
            var old = RawRequests.only(client.send(RawRequests.produce("old-retry", 0, (short) -1, RawRequests.idempotent(888, (short) 0, 0, "v0"))));
            assertThat(old.errorCode()).isEqualTo(Errors.DUPLICATE_SEQUENCE_NUMBER.code());
            var next = RawRequests.only(client.send(RawRequests.produce("old-retry", 0, (short) -1, RawRequests.idempotent(888, (short) 0, 7, "v7"))));
            assertThat(next.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(next.baseOffset()).as("the old retry added nothing").isEqualTo(7);
        }
    }

    @Test
    void userTopicsWhoseNamesStartWithTwoUnderscoresAreWritable() throws Exception {
        String topic = "__mirror.checkpoints.internal";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
            }
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
            List<ConsumerRecord<String, String>> records = Clients.readAll(consumer, Clients.partitions(topic, 1));
            assertThat(records).extracting(ConsumerRecord::value).containsExactly("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9");
        }
    }

    @Test
    void theOffsetsTopicStaysClosedToProducers() throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            FindCoordinatorResponse found = client.send(new FindCoordinatorRequest.Builder(new FindCoordinatorRequestData()
                    .setKeyType((byte) 0).setCoordinatorKeys(List.of("g"))).build((short) 4));
            assertThat(found.data().coordinators().get(0).errorCode()).isEqualTo(Errors.NONE.code());
            var refused = RawRequests.only(client.send(RawRequests.produce("__consumer_offsets", 0, (short) 1, RawRequests.records("x"))));
            assertThat(refused.errorCode()).isEqualTo(Errors.INVALID_TOPIC_EXCEPTION.code());
        }
    }

    /** A standalone node has no peers: a fetch that claims to come from a replica is refused and reads nothing. */
    @Test
    void aReplicaFetchFromAClientIsRefused() throws Exception {
        Clients.createTopicQuietly(node.bootstrapServers(), "no-replicas");
        RawRequests.only(new RawKafkaClient(node.bootstrapServers()).send(RawRequests.produce("no-replicas", 0, (short) 1, RawRequests.records("x"))));
        org.apache.kafka.common.message.FetchRequestData data = new org.apache.kafka.common.message.FetchRequestData()
                .setReplicaId(2).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20).setSessionId(0).setSessionEpoch(-1)
                .setTopics(List.of(new org.apache.kafka.common.message.FetchRequestData.FetchTopic().setTopic("no-replicas").setPartitions(List.of(
                        new org.apache.kafka.common.message.FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                                .setPartitionMaxBytes(1 << 20).setCurrentLeaderEpoch(-1).setLogStartOffset(-1).setLastFetchedEpoch(-1)))));
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            org.apache.kafka.common.requests.FetchResponse response = client.send(new org.apache.kafka.common.requests.FetchRequest(data, (short) 12));
            assertThat(Errors.forCode(response.data().errorCode())).isEqualTo(Errors.CLUSTER_AUTHORIZATION_FAILED);
            response.data().responses().forEach(t -> t.partitions().forEach(p ->
                    assertThat(p.records() == null ? 0 : p.records().sizeInBytes()).isZero()));
        }
    }
}
