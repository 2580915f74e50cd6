package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.processing.ProducerIdentity;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ProducerIdentity} reads the producer id and epoch out of the real kafka-clients producer
 * (it exposes neither), for the exactly-once tasks' batches in place: checked against what the
 * transaction coordinator says, so that a kafka-clients upgrade that moves those fields fails here.
 */
class ProducerIdentityTest {
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

    private static KafkaProducer<String, String> transactional(String id) {
        return Clients.producer(node.bootstrapServers(), Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000));
    }

    private static TransactionDescription described(String id) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrapServers()))) {
            return admin.describeTransactions(List.of(id)).description(id).get();
        }
    }

    @Test
    void theIdAndEpochAreTheOnesTheCoordinatorGaveAndANewerInstanceHasANewerEpoch() throws Exception {
        try (KafkaProducer<String, String> first = transactional("identity-task")) {
            assertThat(ProducerIdentity.of(first)).as("no transactions initialized yet").isNull();
            first.initTransactions();
            ProducerIdentity older = ProducerIdentity.of(first);
            TransactionDescription now = described("identity-task");
            assertThat(older).isEqualTo(new ProducerIdentity(now.producerId(), (short) now.producerEpoch()));

            try (KafkaProducer<String, String> second = transactional("identity-task")) {
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
}
