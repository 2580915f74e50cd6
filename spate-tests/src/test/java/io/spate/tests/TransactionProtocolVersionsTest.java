package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import io.spate.tests.support.RawKafkaClient;
import io.spate.tests.support.RawRequests;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddOffsetsToTxnRequest;
import org.apache.kafka.common.requests.AddOffsetsToTxnResponse;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnResponse;
import org.apache.kafka.common.requests.EndTxnRequest;
import org.apache.kafka.common.requests.EndTxnResponse;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One whole transaction (InitProducerId, AddPartitionsToTxn, a transactional produce,
 * AddOffsetsToTxn, TxnOffsetCommit, EndTxn) at each version a client may send, from the oldest
 * (Kafka 0.11's) to the newest Spate serves, so that older clients (Kafka 2.x and 3.x, librdkafka,
 * kafkajs) and 4.x alike can run transactions: the committed record and offset are what a
 * read_committed consumer and the group then see.
 */
class TransactionProtocolVersionsTest {
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

    /** Versions of InitProducerId, AddPartitionsToTxn, EndTxn, AddOffsetsToTxn, TxnOffsetCommit: v0 of all, up to each one's newest served. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5})
    void aTransactionAtEveryVersionCommitsItsRecordAndOffset(int level) throws Exception {
        String topic = "versions-" + level;
        String txnId = "versions-txn-" + level;
        String group = "versions-group-" + level;
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        short initVersion = (short) Math.min(level, 5);
        short addVersion = (short) Math.min(level, 3);
        short endVersion = (short) Math.min(level, 4);
        short offsetsVersion = (short) Math.min(level, 4);
        short commitVersion = (short) Math.min(level, 4);
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            client.send(new org.apache.kafka.common.requests.FindCoordinatorRequest.Builder(new org.apache.kafka.common.message.FindCoordinatorRequestData()
                    .setKeyType((byte) 1).setKey(txnId)).build((short) 1));
            // The first lookup creates __transaction_state; its shard loads a moment later: until then the answer says to retry.
            InitProducerIdResponse init = org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .pollInterval(java.time.Duration.ofMillis(100))
                    .until(() -> client.send(new InitProducerIdRequest.Builder(new InitProducerIdRequestData().setTransactionalId(txnId)
                                    .setTransactionTimeoutMs(60_000)).build(initVersion)),
                            answer -> answer.error() != Errors.COORDINATOR_LOAD_IN_PROGRESS && answer.error() != Errors.COORDINATOR_NOT_AVAILABLE
                                    && answer.error() != Errors.NOT_COORDINATOR);
            assertThat(init.error()).isEqualTo(Errors.NONE);
            long producerId = init.data().producerId();
            short epoch = init.data().producerEpoch();

            AddPartitionsToTxnResponse added = client.send(AddPartitionsToTxnRequest.Builder.forClient(txnId, producerId, epoch,
                    List.of(new TopicPartition(topic, 0))).build(addVersion));
            assertThat(added.errors().values()).allSatisfy(errors -> assertThat(errors.values()).containsOnly(Errors.NONE));

            ProduceRequest produce = RawRequests.produce(topic, 0, (short) -1, RawRequests.transactional(producerId, epoch, 0, "committed"));
            produce.data().setTransactionalId(txnId);
            assertThat(RawRequests.only(client.send(produce)).errorCode()).isEqualTo(Errors.NONE.code());

            AddOffsetsToTxnResponse offsets = client.send(new AddOffsetsToTxnRequest.Builder(new AddOffsetsToTxnRequestData()
                    .setTransactionalId(txnId).setProducerId(producerId).setProducerEpoch(epoch).setGroupId(group)).build(offsetsVersion));
            assertThat(Errors.forCode(offsets.data().errorCode())).isEqualTo(Errors.NONE);

            TxnOffsetCommitRequestData commitData = new TxnOffsetCommitRequestData().setTransactionalId(txnId).setGroupId(group)
                    .setProducerId(producerId).setProducerEpoch(epoch).setGenerationIdOrMemberEpoch(-1).setMemberId("").setGroupInstanceId(null)
                    .setTopics(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(topic).setPartitions(List.of(
                            new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(1)
                                    .setCommittedLeaderEpoch(-1)))));
            TxnOffsetCommitResponse committed = client.send(TxnOffsetCommitRequest.Builder.forTopicNames(commitData, false).build(commitVersion));
            assertThat(committed.errorCounts().keySet()).containsOnly(Errors.NONE);

            EndTxnResponse ended = client.send(new EndTxnRequest.Builder(new EndTxnRequestData().setTransactionalId(txnId)
                    .setProducerId(producerId).setProducerEpoch(epoch).setCommitted(true), false).build(endVersion));
            assertThat(ended.error()).isEqualTo(Errors.NONE);
        }
        Clients.awaitTransactionsCompleted(node.bootstrapServers(), List.of(new TopicPartition(topic, 0)));
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            assertThat(Clients.readAll(consumer, List.of(new TopicPartition(topic, 0)))).extracting(ConsumerRecord::value).containsExactly("committed");
        }
        try (var admin = Clients.admin(node.bootstrapServers())) {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(new TopicPartition(topic, 0)).offset())
                            .isEqualTo(1));
        }
    }

    /**
     * The next transaction's first AddPartitionsToTxn, written right behind the EndTxn that
     * commits the last one (pipelined, so it is decided while that commit's state write and
     * markers are under way): answered once the commit completed, not refused with
     * CONCURRENT_TRANSACTIONS, which costs a Kafka producer a 20 ms back-off per transaction.
     */
    @Test
    void theNextTransactionsFirstPartitionWaitsForTheLastOnesCompletionInsteadOfBeingRefused() throws Exception {
        String topic = "pipelined-next-txn";
        String txnId = "pipelined-next-txn";
        Clients.createTopic(node.bootstrapServers(), topic, 1, Map.of());
        TopicPartition tp = new TopicPartition(topic, 0);
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            client.send(new org.apache.kafka.common.requests.FindCoordinatorRequest.Builder(new org.apache.kafka.common.message.FindCoordinatorRequestData()
                    .setKeyType((byte) 1).setKey(txnId)).build((short) 1));
            InitProducerIdResponse init = org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .pollInterval(java.time.Duration.ofMillis(100))
                    .until(() -> client.send(new InitProducerIdRequest.Builder(new InitProducerIdRequestData().setTransactionalId(txnId)
                                    .setTransactionTimeoutMs(60_000)).build((short) 4)),
                            answer -> answer.error() != Errors.COORDINATOR_LOAD_IN_PROGRESS && answer.error() != Errors.COORDINATOR_NOT_AVAILABLE
                                    && answer.error() != Errors.NOT_COORDINATOR);
            assertThat(init.error()).isEqualTo(Errors.NONE);
            long producerId = init.data().producerId();
            short epoch = init.data().producerEpoch();
            for (int round = 0; round < 50; round++) {
                AddPartitionsToTxnResponse added = client.send(AddPartitionsToTxnRequest.Builder.forClient(txnId, producerId, epoch, List.of(tp)).build((short) 3));
                assertThat(added.errors().values()).allSatisfy(errors -> assertThat(errors.values()).containsOnly(Errors.NONE));
                ProduceRequest produce = RawRequests.produce(topic, 0, (short) -1, RawRequests.transactional(producerId, epoch, round, "r" + round));
                produce.data().setTransactionalId(txnId);
                assertThat(RawRequests.only(client.send(produce)).errorCode()).isEqualTo(Errors.NONE.code());

                EndTxnRequest end = new EndTxnRequest.Builder(new EndTxnRequestData().setTransactionalId(txnId)
                        .setProducerId(producerId).setProducerEpoch(epoch).setCommitted(true), false).build((short) 4);
                AddPartitionsToTxnRequest next = AddPartitionsToTxnRequest.Builder.forClient(txnId, producerId, epoch, List.of(tp)).build((short) 3);
                client.write(end);
                client.write(next);
                EndTxnResponse ended = client.read(end);
                AddPartitionsToTxnResponse nextAdded = client.read(next);
                assertThat(ended.error()).isEqualTo(Errors.NONE);
                assertThat(nextAdded.errors().values()).as("round %d", round)
                        .allSatisfy(errors -> assertThat(errors.values()).containsOnly(Errors.NONE));
                // The transaction the pipelined request opened ends empty, before the next round opens another.
                EndTxnResponse abortedEmpty = client.send(new EndTxnRequest.Builder(new EndTxnRequestData().setTransactionalId(txnId)
                        .setProducerId(producerId).setProducerEpoch(epoch).setCommitted(false), false).build((short) 4));
                assertThat(abortedEmpty.error()).isEqualTo(Errors.NONE);
            }
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            assertThat(Clients.readAll(consumer, List.of(tp))).hasSize(50);
        }
    }
}
