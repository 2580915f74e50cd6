package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Kafka listener's socket layer ({@code network.transport}): epoll by default on Linux, the
 * JDK's selector on request, each serving the real Kafka clients the same records, small reads
 * copied into the response and large ones sent from the file (a consumer starting from the
 * beginning of 4 MB); a value the node does not know stops it with a message naming the setting.
 */
class NetworkTransportTest {
    private static final int RECORDS = 4_000;
    private static final String VALUE = "v".repeat(1_000);

    @TempDir
    Path dataDir;

    @Test
    void aLinuxNodeListensOverEpollByDefault() throws Exception {
        assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux") && "amd64".equals(System.getProperty("os.arch")),
                "the native epoll transport is shipped for Linux x86-64");
        try (SpateNode node = SpateNode.builder().dataDir(dataDir).start()) {
            assertThat(node.networkTransport()).isEqualTo("epoll");
            producesAndReadsBack(node.bootstrapServers());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "auto"})
    void aNodeServesTheSameRecordsOnTheTransportItIsGiven(String transport) throws Exception {
        try (SpateNode node = SpateNode.builder().dataDir(dataDir).config("network.transport", transport).start()) {
            if (transport.equals("nio")) {
                assertThat(node.networkTransport()).isEqualTo("nio");
            }
            producesAndReadsBack(node.bootstrapServers());
        }
    }

    @Test
    void anUnknownTransportStopsTheNodeNamingTheSetting() {
        assertThatThrownBy(() -> SpateNode.builder().dataDir(dataDir).config("network.transport", "kqueue").start())
                .hasMessageContaining("network.transport must be auto, epoll or nio, not 'kqueue'");
    }

    private static void producesAndReadsBack(String bootstrap) throws Exception {
        Clients.createTopic(bootstrap, "wire", 1, Map.of());
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, Map.of("acks", "all", "linger.ms", 5))) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>("wire", "k" + i, i + ":" + VALUE));
            }
            producer.flush();
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(bootstrap, Map.of())) {
            List<ConsumerRecord<String, String>> read = Clients.readAll(consumer, List.of(new TopicPartition("wire", 0)));
            assertThat(read).hasSize(RECORDS);
            for (int i = 0; i < RECORDS; i++) {
                assertThat(read.get(i).key()).isEqualTo("k" + i);
                assertThat(read.get(i).value()).isEqualTo(i + ":" + VALUE);
            }
        }
        // A live consumer on the tail: each append is answered to its waiting fetch.
        try (KafkaConsumer<String, String> tail = Clients.consumer(bootstrap, Map.of("fetch.max.wait.ms", 500));
             KafkaProducer<String, String> producer = Clients.producer(bootstrap, Map.of("acks", "all"))) {
            TopicPartition tp = new TopicPartition("wire", 0);
            tail.assign(List.of(tp));
            tail.seekToEnd(List.of(tp));
            long end = tail.position(tp);
            producer.send(new ProducerRecord<>("wire", "last", "tail")).get();
            List<ConsumerRecord<String, String>> more = new java.util.ArrayList<>();
            Clients.readOn(tail, Map.of(tp, end + 1), more);
            assertThat(more).extracting(ConsumerRecord::value).containsExactly("tail");
        }
    }
}
