package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.processing.ProducerIdentity;
import io.spate.tests.support.Clients;
import io.spate.tests.support.RawKafkaClient;
import io.spate.tests.support.RawRequests;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Transactions (KIP-98, KIP-447) on one node with the real Java client: commits and aborts across
 * partitions of several topics as read_committed and read_uncommitted consumers see them, zombie
 * fencing, the coordinator aborting a transaction past its timeout, offsets committed inside a
 * transaction, and what the admin client's transaction calls (kafka-transactions.sh) show.
 */
class TransactionsTest {
    @TempDir
    static Path dataDir;
    static SpateNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SpateNode.builder().dataDir(dataDir)
                .config("transaction.abort.timed.out.transaction.cleanup.interval.ms", "200")
                .start();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static KafkaProducer<String, String> transactional(String id, Map<String, Object> more) {
        Map<String, Object> settings = new HashMap<>(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id, ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000));
        settings.putAll(more);
        return Clients.producer(node.bootstrapServers(), settings);
    }

    private static List<ConsumerRecord<String, String>> readAll(String isolation, Collection<TopicPartition> partitions) {
        if (isolation.equals("read_committed")) {
            Clients.awaitTransactionsCompleted(node.bootstrapServers(), partitions);
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(),
                Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation))) {
            return Clients.readAll(consumer, partitions);
        }
    }

    private static List<String> values(List<ConsumerRecord<String, String>> records) {
        return records.stream().map(ConsumerRecord::value).sorted().toList();
    }

    /**
     * {@link ProducerIdentity} reads the producer id and epoch out of the real kafka-clients
     * producer (it exposes neither), for exactly-once tasks' batches in place: checked against what
     * the transaction coordinator says, so that a kafka-clients upgrade that moves those fields
     * fails here rather than the fence.
     */
    @Test
    void aProducersIdAndEpochAreReadAsTheCoordinatorGaveThemAndANewerInstanceHasANewerEpoch() throws Exception {
        try (KafkaProducer<String, String> first = transactional("identity-task", Map.of())) {
            assertThat(ProducerIdentity.of(first)).as("no transactions initialized yet").isNull();
            first.initTransactions();
            ProducerIdentity older = ProducerIdentity.of(first);
            try (Admin admin = Clients.admin(node.bootstrapServers())) {
                TransactionDescription now = admin.describeTransactions(List.of("identity-task")).all().get().get("identity-task");
                assertThat(older).isEqualTo(new ProducerIdentity(now.producerId(), (short) now.producerEpoch()));
            }
            try (KafkaProducer<String, String> second = transactional("identity-task", Map.of())) {
                second.initTransactions(); // fences the first
                ProducerIdentity newer = ProducerIdentity.of(second);
                assertThat(newer.producerId()).isEqualTo(older.producerId());
                assertThat(newer.epoch()).isGreaterThan(older.epoch());
                assertThat(ProducerIdentity.of(first)).as("the fenced producer still holds its own").isEqualTo(older);
            }
        }
        try (KafkaProducer<String, String> plain = Clients.producer(node.bootstrapServers(), Map.of())) {
            assertThat(ProducerIdentity.of(plain)).as("no id before its first send").isNull();
        }
    }

    /**
     * A producer fenced by a newer instance of its transactional id that then asks for an epoch
     * bump with its own id and epoch (KIP-360, as a client recovering from an abortable error
     * does) is refused, not answered as a retry of the newer instance's InitProducerId: that
     * answer would hand it the newer instance's epoch, and both would write as one producer.
     */
    @Test
    void aFencedProducerAskingForAnEpochBumpIsRefusedAndNotHandedTheNewerInstancesEpoch() throws Exception {
        String id = "fenced-bump";
        try (KafkaProducer<String, String> first = transactional(id, Map.of())) {
            first.initTransactions();
            ProducerIdentity older = ProducerIdentity.of(first);
            assertThat(older.epoch()).isZero();
            try (KafkaProducer<String, String> second = transactional(id, Map.of())) {
                second.initTransactions();
                ProducerIdentity newer = ProducerIdentity.of(second);
                assertThat(newer).isEqualTo(new ProducerIdentity(older.producerId(), (short) 1));
                try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
                    InitProducerIdResponse asked = client.send(new InitProducerIdRequest.Builder(new InitProducerIdRequestData()
                            .setTransactionalId(id).setTransactionTimeoutMs(60_000)
                            .setProducerId(older.producerId()).setProducerEpoch(older.epoch())).build((short) 4));
                    assertThat(asked.error()).as("answered producer %d at epoch %d", asked.data().producerId(), asked.data().producerEpoch())
                            .isEqualTo(Errors.PRODUCER_FENCED);
                }
                try (Admin admin = Clients.admin(node.bootstrapServers())) {
                    TransactionDescription now = admin.describeTransactions(List.of(id)).all().get().get(id);
                    assertThat(now.producerEpoch()).as("the newer instance keeps its epoch").isEqualTo(newer.epoch());
                }
            }
        }
    }

    @Test
    void readCommittedSeesEachCommittedRecordOnceAndNoAbortedOne() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-a", 3, Map.of());
        Clients.createTopic(node.bootstrapServers(), "tx-b", 2, Map.of());
        List<TopicPartition> partitions = new ArrayList<>(Clients.partitions("tx-a", 3));
        partitions.addAll(Clients.partitions("tx-b", 2));
        List<String> committed = new ArrayList<>();
        List<String> aborted = new ArrayList<>();
        try (KafkaProducer<String, String> producer = transactional("tx-many", Map.of())) {
            producer.initTransactions();
            for (int txn = 0; txn < 10; txn++) {
                producer.beginTransaction();
                List<String> sent = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    String value = "t" + txn + "-" + i;
                    String topic = i % 2 == 0 ? "tx-a" : "tx-b";
                    producer.send(new ProducerRecord<>(topic, "k" + i, value));
                    sent.add(value);
                }
                if (txn % 3 == 2) {
                    // Sent first, so that the aborted records are in the log (an abort drops what is still unsent).
                    producer.flush();
                    producer.abortTransaction();
                    aborted.addAll(sent);
                } else {
                    producer.commitTransaction();
                    committed.addAll(sent);
                }
            }
        }
        assertThat(values(readAll("read_committed", partitions))).containsExactlyElementsOf(committed.stream().sorted().toList());
        List<String> everything = new ArrayList<>(committed);
        everything.addAll(aborted);
        assertThat(values(readAll("read_uncommitted", partitions))).containsExactlyElementsOf(everything.stream().sorted().toList());
    }

    /**
     * A transaction's writes to a partition pipelined (five requests in flight, small batches):
     * the first waits for its verification with the coordinator and the others behind it, in
     * order, so none is refused as out of sequence (ProducerPerformance --transactional-id found
     * that they were).
     */
    @Test
    void pipelinedWritesOfATransactionLandInOrderBehindTheirVerification() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-pipelined", 3, Map.of());
        int perTransaction = 6_000;
        try (KafkaProducer<String, String> producer = transactional("tx-pipelined-1", Map.of(ProducerConfig.BATCH_SIZE_CONFIG, 1_024,
                ProducerConfig.LINGER_MS_CONFIG, 0))) {
            producer.initTransactions();
            for (int txn = 0; txn < 5; txn++) {
                producer.beginTransaction();
                for (int i = 0; i < perTransaction; i++) {
                    producer.send(new ProducerRecord<>("tx-pipelined", i % 3, null, "t" + txn + "-" + i));
                }
                producer.commitTransaction();
            }
        }
        assertThat(readAll("read_committed", Clients.partitions("tx-pipelined", 3))).hasSize(5 * perTransaction);
    }

    @Test
    void anOpenTransactionHoldsReadCommittedConsumersBackUntilItEnds() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-open", 1, Map.of());
        TopicPartition tp = new TopicPartition("tx-open", 0);
        try (KafkaProducer<String, String> producer = transactional("tx-open-1", Map.of());
             KafkaProducer<String, String> plain = Clients.producer(node.bootstrapServers(), Map.of());
             KafkaConsumer<String, String> committed = Clients.consumer(node.bootstrapServers(), Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx-open", "k", "in-txn")).get();
            plain.send(new ProducerRecord<>("tx-open", "k", "after")).get();
            committed.assign(List.of(tp));
            committed.seekToBeginning(List.of(tp));
            // The last stable offset stays at the transaction's first record: nothing past it is readable yet.
            assertThat(committed.endOffsets(List.of(tp)).get(tp)).isZero();
            assertThat(committed.poll(Duration.ofMillis(500))).isEmpty();
            producer.commitTransaction();
            List<ConsumerRecord<String, String>> records = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                committed.poll(Duration.ofMillis(100)).forEach(records::add);
                return records.size() == 2;
            });
            assertThat(records).extracting(ConsumerRecord::value).containsExactly("in-txn", "after");
        }
    }

    @Test
    void aSecondProducerWithTheSameIdFencesTheFirstAndAbortsItsTransaction() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-zombie", 1, Map.of());
        TopicPartition tp = new TopicPartition("tx-zombie", 0);
        try (KafkaProducer<String, String> zombie = transactional("tx-fence", Map.of())) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>("tx-zombie", "k", "zombie")).get();
            try (KafkaProducer<String, String> successor = transactional("tx-fence", Map.of())) {
                successor.initTransactions();
                successor.beginTransaction();
                successor.send(new ProducerRecord<>("tx-zombie", "k", "successor")).get();
                successor.commitTransaction();
            }
            Throwable fenced = catchThrowable(() -> {
                zombie.send(new ProducerRecord<>("tx-zombie", "k", "late")).get();
                zombie.commitTransaction();
            });
            assertThat(fenced).isNotNull();
            assertThat(causes(fenced)).anyMatch(t -> t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException);
        }
        assertThat(values(readAll("read_committed", List.of(tp)))).containsExactly("successor");
    }

    @Test
    void theCoordinatorAbortsATransactionPastItsTimeout() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-timeout", 1, Map.of());
        TopicPartition tp = new TopicPartition("tx-timeout", 0);
        try (KafkaProducer<String, String> slow = transactional("tx-slow", Map.of(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 1_000))) {
            slow.initTransactions();
            slow.beginTransaction();
            slow.send(new ProducerRecord<>("tx-timeout", "k", "abandoned")).get();
            try (Admin admin = Clients.admin(node.bootstrapServers())) {
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        admin.describeTransactions(List.of("tx-slow")).all().get().get("tx-slow").state() == TransactionState.COMPLETE_ABORT);
            }
            Throwable fenced = catchThrowable(slow::commitTransaction);
            assertThat(fenced).isNotNull();
        }
        try (KafkaProducer<String, String> next = transactional("tx-after-timeout", Map.of())) {
            next.initTransactions();
            next.beginTransaction();
            next.send(new ProducerRecord<>("tx-timeout", "k", "kept"));
            next.commitTransaction();
        }
        assertThat(values(readAll("read_committed", List.of(tp)))).containsExactly("kept");
    }

    @Test
    void offsetsSentToATransactionAreCommittedWithItAndOnlyThen() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-in", 2, Map.of());
        Clients.createTopic(node.bootstrapServers(), "tx-out", 2, Map.of());
        try (KafkaProducer<String, String> plain = Clients.producer(node.bootstrapServers(), Map.of())) {
            for (int i = 0; i < 40; i++) {
                plain.send(new ProducerRecord<>("tx-in", "k" + i, "v" + i));
            }
        }
        String group = "tx-ctp";
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of(ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
             KafkaProducer<String, String> producer = transactional("tx-ctp-1", Map.of())) {
            producer.initTransactions();
            consumer.subscribe(List.of("tx-in"));
            int processed = 0;
            boolean abortedOnce = false;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (processed < 40 && System.nanoTime() < deadline) {
                var records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) {
                    continue;
                }
                producer.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (ConsumerRecord<String, String> record : records) {
                    producer.send(new ProducerRecord<>("tx-out", record.key(), record.value().toUpperCase()));
                    offsets.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
                }
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                if (!abortedOnce) {
                    // The first batch is aborted: its output vanishes and its offsets are not committed, so it is read again.
                    abortedOnce = true;
                    producer.abortTransaction();
                    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(offsets.keySet());
                    assertThat(committed.values()).allMatch(o -> o == null || o.offset() == 0);
                    offsets.keySet().forEach(tp -> consumer.seek(tp, 0));
                    continue;
                }
                producer.commitTransaction();
                processed += records.count();
                assertThat(consumer.committed(offsets.keySet())).isEqualTo(offsets);
            }
            assertThat(processed).isEqualTo(40);
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            expected.add("V" + i);
        }
        assertThat(values(readAll("read_committed", Clients.partitions("tx-out", 2)))).containsExactlyElementsOf(expected.stream().sorted().toList());
    }

    @Test
    void theAdminClientListsAndDescribesTransactionsAndProducers() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-admin", 1, Map.of());
        try (KafkaProducer<String, String> producer = transactional("tx-admin-1", Map.of());
             Admin admin = Clients.admin(node.bootstrapServers())) {
            // The transaction version served (KIP-890's levels 1 and 2 are not): clients use the protocol before it.
            var supported = admin.describeFeatures().featureMetadata().get().supportedFeatures().get("transaction.version");
            assertThat(supported.maxVersion()).isZero();
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx-admin", "k", "v")).get();
            Collection<TransactionListing> listed = admin.listTransactions().all().get();
            assertThat(listed).anyMatch(t -> t.transactionalId().equals("tx-admin-1") && t.state() == TransactionState.ONGOING);
            TransactionDescription described = admin.describeTransactions(List.of("tx-admin-1")).all().get().get("tx-admin-1");
            assertThat(described.topicPartitions()).containsExactly(new TopicPartition("tx-admin", 0));
            assertThat(described.transactionStartTimeMs()).isPresent();
            TopicPartition tp = new TopicPartition("tx-admin", 0);
            List<ProducerState> producers = admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers();
            assertThat(producers).singleElement().satisfies(p -> {
                assertThat(p.producerId()).isEqualTo(described.producerId());
                assertThat(p.currentTransactionStartOffset()).hasValue(0L);
            });
            producer.commitTransaction();
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    admin.describeTransactions(List.of("tx-admin-1")).all().get().get("tx-admin-1").state() == TransactionState.COMPLETE_COMMIT);
            assertThat(admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers())
                    .singleElement().satisfies(p -> assertThat(p.currentTransactionStartOffset()).isEmpty());
        }
    }

    /**
     * kafka-transactions.sh (Kafka's TransactionsCommand, run as its own process) against a
     * hanging transaction: transactional data the coordinator never heard of (what a produce that
     * arrives after its transaction's abort leaves) pins the last stable offset; the tool lists,
     * describes, finds it hanging and aborts it, and read_committed consumers move on.
     */
    /**
     * KIP-890 part 1: a transactional write for a partition that no open transaction of its
     * producer includes (here: a late write after the commit) is refused, so it cannot leave a
     * transaction nobody will end.
     */
    @Test
    void aTransactionalWriteOutsideAnOpenTransactionIsRefused() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-late", 1, Map.of());
        TopicPartition tp = new TopicPartition("tx-late", 0);
        TransactionDescription ended;
        try (KafkaProducer<String, String> producer = transactional("tx-late-1", Map.of());
             Admin admin = Clients.admin(node.bootstrapServers())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx-late", "k", "committed")).get();
            producer.commitTransaction();
            ended = awaitMarkersWritten(admin, "tx-late-1");
        }
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            ProduceRequest late = RawRequests.produce("tx-late", 0, (short) -1,
                    RawRequests.transactional(ended.producerId(), (short) ended.producerEpoch(), 1, "late"));
            late.data().setTransactionalId("tx-late-1");
            assertThat(Errors.forCode(RawRequests.only(client.send(late)).errorCode())).isEqualTo(Errors.INVALID_TXN_STATE);
            // Transactional data is taken only under the transactional id it belongs to, as Kafka answers.
            ProduceRequest anonymous = RawRequests.produce("tx-late", 0, (short) -1,
                    RawRequests.transactional(ended.producerId(), (short) ended.producerEpoch(), 1, "anonymous"));
            assertThat(Errors.forCode(RawRequests.only(client.send(anonymous)).errorCode())).isEqualTo(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            assertThat(consumer.endOffsets(List.of(tp)).get(tp)).as("no transaction left open: the last stable offset is the log end").isEqualTo(2);
        }
        assertThat(values(readAll("read_uncommitted", List.of(tp)))).containsExactly("committed");
    }

    /**
     * The committed transaction of {@code id} once its markers are written (a commit returns once the
     * decision is): a late write before them would still join the transaction, as on Kafka.
     */
    private static TransactionDescription awaitMarkersWritten(Admin admin, String id) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeTransactions(List.of(id)).all().get().get(id),
                d -> d.state() == TransactionState.COMPLETE_COMMIT);
    }

    /**
     * The same for offsets: a TxnOffsetCommit that arrives after its transaction ended (a retry
     * the first attempt overtook) is refused with INVALID_TXN_STATE, as Kafka since 3.6 verifies
     * it. Taken, it opened a transaction on the group's offsets partition that no marker ends:
     * every consumer that asks for stable offsets (read_committed, Streams) was told they are
     * unstable for good.
     */
    @Test
    void aTransactionalOffsetCommitAfterItsTransactionEndedIsRefused() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-late-offsets", 1, Map.of());
        TopicPartition tp = new TopicPartition("tx-late-offsets", 0);
        String group = "tx-late-offsets-group";
        TransactionDescription ended;
        try (KafkaProducer<String, String> producer = transactional("tx-late-offsets-1", Map.of());
             Admin admin = Clients.admin(node.bootstrapServers())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx-late-offsets", "k", "v")).get();
            producer.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(5)), new org.apache.kafka.clients.consumer.ConsumerGroupMetadata(group));
            producer.commitTransaction();
            ended = awaitMarkersWritten(admin, "tx-late-offsets-1");
        }
        org.apache.kafka.common.message.TxnOffsetCommitRequestData late = new org.apache.kafka.common.message.TxnOffsetCommitRequestData()
                .setTransactionalId("tx-late-offsets-1").setGroupId(group).setProducerId(ended.producerId())
                .setProducerEpoch((short) ended.producerEpoch()).setGenerationIdOrMemberEpoch(-1).setMemberId("");
        late.topics().add(new org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(tp.topic())
                .setPartitions(List.of(new org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                        .setPartitionIndex(0).setCommittedOffset(3).setCommittedLeaderEpoch(-1))));
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            org.apache.kafka.common.requests.TxnOffsetCommitResponse answer = client.send(
                    new org.apache.kafka.common.requests.TxnOffsetCommitRequest(late, (short) 3));
            assertThat(answer.data().topics()).singleElement().satisfies(t -> assertThat(t.partitions()).singleElement()
                    .satisfies(p -> assertThat(Errors.forCode(p.errorCode())).isEqualTo(Errors.INVALID_TXN_STATE)));
        }
        try (Admin admin = Clients.admin(node.bootstrapServers())) {
            Map<TopicPartition, OffsetAndMetadata> stable = admin.listConsumerGroupOffsets(Map.of(group,
                            new org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec()),
                    new org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions().requireStable(true).timeoutMs(10_000))
                    .partitionsToOffsetAndMetadata(group).get();
            assertThat(stable).as("the committed offset, stable").isEqualTo(Map.of(tp, new OffsetAndMetadata(5)));
        }
    }

    /** With verification off (as on Kafka before 3.6), a late write leaves a hanging transaction for the tool to find and abort. */
    @Test
    void kafkaTransactionsToolFindsAndAbortsAHangingTransaction(@TempDir Path unverifiedDir) throws Exception {
        try (SpateNode unverified = SpateNode.builder().dataDir(unverifiedDir).config("transaction.partition.verification.enable", "false").start()) {
            findAndAbortAHangingTransaction(unverified);
        }
    }

    private static void findAndAbortAHangingTransaction(SpateNode node) throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-hanging", 1, Map.of());
        TopicPartition tp = new TopicPartition("tx-hanging", 0);
        long producerId;
        try (RawKafkaClient client = new RawKafkaClient(node.bootstrapServers())) {
            InitProducerIdResponse init = client.send(new InitProducerIdRequest.Builder(new InitProducerIdRequestData().setTransactionalId(null)
                    .setTransactionTimeoutMs(60_000)).build((short) 4));
            producerId = init.data().producerId();
            ProduceRequest hung = RawRequests.produce("tx-hanging", 0, (short) -1, RawRequests.transactional(producerId, (short) 0, 0, "hung"));
            hung.data().setTransactionalId("tx-hanging-writer");
            var written = RawRequests.only(client.send(hung));
            assertThat(written.errorCode()).isEqualTo(Errors.NONE.code());
        }
        try (KafkaProducer<String, String> plain = Clients.producer(node.bootstrapServers(), Map.of())) {
            plain.send(new ProducerRecord<>("tx-hanging", "k", "after")).get();
        }
        try (KafkaProducer<String, String> listed = Clients.producer(node.bootstrapServers(), Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-tool-listed"))) {
            listed.initTransactions();
            listed.beginTransaction();
            listed.send(new ProducerRecord<>("tx-hanging", "k", "listed")).get();
            assertThat(transactionsTool(node, "list")).contains("tx-tool-listed").contains("Ongoing");
            assertThat(transactionsTool(node, "describe", "--transactional-id", "tx-tool-listed")).contains("Ongoing").contains("tx-hanging-0");
            listed.abortTransaction();
        }
        assertThat(transactionsTool(node, "describe-producers", "--topic", "tx-hanging", "--partition", "0")).contains(String.valueOf(producerId));
        assertThat(transactionsTool(node, "find-hanging", "--topic", "tx-hanging", "--partition", "0", "--max-transaction-timeout", "0"))
                .contains(String.valueOf(producerId));
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            assertThat(consumer.endOffsets(List.of(tp)).get(tp)).as("the hanging transaction pins the last stable offset").isZero();
        }
        transactionsTool(node, "abort", "--topic", "tx-hanging", "--partition", "0", "--start-offset", "0");
        Clients.awaitTransactionsCompleted(node.bootstrapServers(), List.of(tp));
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            assertThat(values(Clients.readAll(consumer, List.of(tp)))).containsExactly("after");
        }
    }

    /** Runs Kafka's kafka-transactions.sh (TransactionsCommand) in a process of its own; its output. */
    private static String transactionsTool(SpateNode node, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.apache.kafka.tools.TransactionsCommand",
                "--bootstrap-server", node.bootstrapServers()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as("kafka-transactions.sh %s: %s", String.join(" ", args), output).isZero();
        return output;
    }

    /** {@code spate transactions list --open} and {@code describe} show an open transaction, its partitions and state. */
    @Test
    void theSpateCliShowsOpenTransactions() throws Exception {
        Clients.createTopic(node.bootstrapServers(), "tx-cli", 2, Map.of());
        try (KafkaProducer<String, String> producer = transactional("tx-cli-1", Map.of())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("tx-cli", 1, "k", "v")).get();
            GroupsCommandTest.Run open = GroupsCommandTest.spate("transactions", "list", "--open", "--bootstrap-server", node.bootstrapServers());
            assertThat(open.exit()).as(open.err()).isZero();
            assertThat(open.row("tx-cli-1")).contains("Ongoing");
            GroupsCommandTest.Run described = GroupsCommandTest.spate("transactions", "describe", "tx-cli-1", "--bootstrap-server", node.bootstrapServers());
            assertThat(described.exit()).as(described.err()).isZero();
            assertThat(described.row("tx-cli-1")).contains("Ongoing", "tx-cli-1");
            producer.commitTransaction();
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    !GroupsCommandTest.spate("transactions", "list", "--open", "--bootstrap-server", node.bootstrapServers()).out().contains("tx-cli-1"));
        }
        GroupsCommandTest.Run missing = GroupsCommandTest.spate("transactions", "describe", "no-such-id", "--bootstrap-server", node.bootstrapServers());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("transactional id 'no-such-id' does not exist");
    }

    /** transaction.timeout.ms above the node's transaction.max.timeout.ms is refused, as Kafka refuses it. */
    @Test
    void aTimeoutAboveTheMaximumIsRefused() {
        try (KafkaProducer<String, String> producer = transactional("tx-too-long", Map.of(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 900_001))) {
            // The Java client reports INVALID_TRANSACTION_TIMEOUT as an unexpected error carrying its description.
            assertThat(catchThrowable(producer::initTransactions)).hasMessageContaining("transaction.max.timeout.ms");
        }
    }

    private static List<Throwable> causes(Throwable t) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable c = t; c != null && !chain.contains(c); c = c.getCause()) {
            chain.add(c);
        }
        return chain;
    }
}
