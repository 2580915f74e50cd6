package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Memory stays bounded when clients misbehave: idle connections, abandoned producers, abandoned groups. */
class ResourceBoundsTest {
    @TempDir
    Path dataDir;

    /**
     * 3000 idle connections from one address (127.0.0.2) against max.connections.per.ip=50: all but 50 are closed at
     * once, and a real client from another address (127.0.0.1) is served throughout.
     */
    @Test
    void idleConnectionsPastThePerAddressCapAreClosedAndRealClientsAreServed() throws Exception {
        try (SpateNode node = SpateNode.builder().dataDir(dataDir).config("max.connections.per.ip", "50").start()) {
            Clients.createTopic(node.bootstrapServers(), "served", 1, Map.of());
            List<Socket> flood = new ArrayList<>();
            try {
                for (int i = 0; i < 3000; i++) {
                    Socket socket = new Socket();
                    socket.bind(new InetSocketAddress("127.0.0.2", 0));
                    socket.connect(new InetSocketAddress("127.0.0.1", node.port()), 5_000);
                    flood.add(socket);
                }
                await("the node holds at most 50 of them").atMost(Duration.ofSeconds(60)).until(() -> node.connectionCount() <= 50);
                int closedByNode = 0;
                for (Socket socket : flood) {
                    if (closedByNode(socket)) {
                        closedByNode++;
                    }
                }
                assertThat(closedByNode).isEqualTo(3000 - 50);

                try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                    for (int i = 0; i < 20; i++) {
                        producer.send(new ProducerRecord<>("served", "k", "v" + i)).get();
                    }
                }
                try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of())) {
                    assertThat(Clients.readAll(consumer, Clients.partitions("served", 1))).hasSize(20);
                }
            } finally {
                for (Socket socket : flood) {
                    socket.close();
                }
            }
            await("closed connections are no longer counted").atMost(Duration.ofSeconds(30)).until(() -> node.connectionCount() == 0);
        }
    }

    /**
     * queued.max.request.bytes: clients that announce large requests and send them slowly hold at most the cap between
     * them (the others wait, unread), small requests still fit, and memory comes back when a connection goes.
     */
    @Test
    void halfSentRequestsHoldNoMoreThanTheQueuedRequestBytes() throws Exception {
        try (SpateNode node = SpateNode.builder().dataDir(dataDir).config("queued.max.request.bytes", "1048576").start()) {
            Clients.createTopic(node.bootstrapServers(), "small", 1, Map.of());
            List<Socket> slow = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    Socket socket = new Socket("127.0.0.1", node.port());
                    byte[] start = new byte[4 + 1000];
                    java.nio.ByteBuffer.wrap(start).putInt(900_000);
                    socket.getOutputStream().write(start);
                    socket.getOutputStream().flush();
                    slow.add(socket);
                }
                await("one 900 kB request is being read").atMost(Duration.ofSeconds(30)).until(() -> node.queuedRequestBytes() == 900_000);
                try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                    for (int i = 0; i < 10; i++) {
                        producer.send(new ProducerRecord<>("small", "k", "v" + i)).get();
                    }
                }
                assertThat(node.queuedRequestBytes()).isLessThanOrEqualTo(1_048_576);
                slow.remove(0).close();
                // The memory comes back and the waiting requests are read one after the other to their end (their zero
                // bytes are no valid request: the node closes each connection, which shows it was read).
                for (Socket socket : slow) {
                    Thread.ofVirtual().start(() -> {
                        try {
                            socket.getOutputStream().write(new byte[900_000 - 1000]);
                            socket.getOutputStream().flush();
                        } catch (IOException closedMeanwhile) {
                            // the node may close it as soon as the frame is complete
                        }
                    });
                }
                for (Socket socket : slow) {
                    socket.setSoTimeout(60_000);
                    assertThat(socket.getInputStream().read()).as("the node read the request and closed the connection").isEqualTo(-1);
                }
            } finally {
                for (Socket socket : slow) {
                    socket.close();
                }
            }
            await("everything released").atMost(Duration.ofSeconds(30)).until(() -> node.queuedRequestBytes() == 0);
        }
    }

    /**
     * connections.max.idle.ms: a connection that sent half a request and went quiet is closed and
     * gives its request memory back; a consumer long-polling meanwhile is served throughout.
     */
    @Test
    void aQuietConnectionIsClosedAfterTheIdleTimeAndGivesItsRequestMemoryBack() throws Exception {
        try (SpateNode node = SpateNode.builder().dataDir(dataDir).config("connections.max.idle.ms", "1000")
                .config("queued.max.request.bytes", "100000").start()) {
            Clients.createTopic(node.bootstrapServers(), "quiet", 1, Map.of());
            try (Socket stalled = new Socket();
                 KafkaConsumer<String, String> polling = Clients.consumer(node.bootstrapServers(),
                         Map.of(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "3000"))) {
                stalled.connect(new InetSocketAddress("127.0.0.1", node.port()), 5_000);
                stalled.getOutputStream().write(new byte[]{0, 1, (byte) 0x86, (byte) 0xa0}); // a 100,000-byte request, then nothing
                await().atMost(Duration.ofSeconds(10)).until(() -> node.queuedRequestBytes() == 100_000);

                polling.assign(List.of(new TopicPartition("quiet", 0)));
                polling.seekToBeginning(List.of(new TopicPartition("quiet", 0)));
                long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
                while (System.nanoTime() < until) {
                    assertThat(polling.poll(Duration.ofMillis(500))).isEmpty(); // fetches parked 3 s, longer than the idle time
                }
                await("the quiet connection is closed and its reservation released").atMost(Duration.ofSeconds(10))
                        .until(() -> node.queuedRequestBytes() == 0);
                stalled.setSoTimeout(5_000);
                assertThat(stalled.getInputStream().read()).isEqualTo(-1);

                try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                    producer.send(new ProducerRecord<>("quiet", "k", "after")).get();
                }
                assertThat(polling.poll(Duration.ofSeconds(10))).extracting(r -> r.value()).containsExactly("after");
            }
        }
    }

    private static boolean closedByNode(Socket socket) throws IOException {
        socket.setSoTimeout(50);
        try {
            InputStream in = socket.getInputStream();
            return in.read() == -1;
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    /** producer.id.expiration.ms: many short-lived idempotent producers leave no state behind once idle that long. */
    @Test
    void idleProducerIdsAreForgotten() throws Exception {
        try (SpateNode node = SpateNode.builder().dataDir(dataDir)
                .config("producer.id.expiration.ms", "1000")
                .config("producer.id.expiration.check.interval.ms", "100").start()) {
            Clients.createTopic(node.bootstrapServers(), "short-lived", 1, Map.of());
            for (int i = 0; i < 30; i++) {
                try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                    producer.send(new ProducerRecord<>("short-lived", "k", "v" + i)).get();
                }
            }
            assertThat(node.producerStateCount()).isPositive();
            await("every producer id expires").atMost(Duration.ofSeconds(30)).until(() -> node.producerStateCount() == 0);
            // A producer that comes back after its state expired carries on (KIP-360).
            try (KafkaProducer<String, String> producer = Clients.producer(node.bootstrapServers(), Map.of())) {
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>("short-lived", "k", "again" + i)).get();
                }
            }
        }
    }

    /**
     * offsets.retention.minutes: offsets of a group without members whose last commit is older than the retention are
     * removed and tombstoned, so they stay gone after a restart; a group that commits again keeps its own.
     */
    @Test
    void committedOffsetsOfAnAbandonedGroupExpire() throws Exception {
        AtomicLong skewMs = new AtomicLong();
        Clock clock = new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneId.of("UTC");
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return Instant.now().plusMillis(skewMs.get());
            }
        };
        Map<String, String> settings = Map.of("offsets.retention.minutes", "1", "offsets.retention.check.interval.ms", "100",
                "offsets.topic.num.partitions", "1");
        try (SpateNode node = start(settings, clock)) {
            Clients.createTopic(node.bootstrapServers(), "tracked", 2, Map.of());
            commit(node, "abandoned", 10);
            assertThat(node.committedOffsetCount()).isEqualTo(2);
            skewMs.addAndGet(Duration.ofMinutes(2).toMillis());
            commit(node, "active", 20);
            await("the abandoned group's offsets expire").atMost(Duration.ofSeconds(30)).until(() -> node.committedOffsetCount() == 2);
            try (Admin admin = Clients.admin(node.bootstrapServers())) {
                assertThat(admin.listConsumerGroupOffsets("abandoned").partitionsToOffsetAndMetadata().get()).isEmpty();
                assertThat(admin.listConsumerGroupOffsets("active").partitionsToOffsetAndMetadata().get()).hasSize(2);
            }
        }
        try (SpateNode restarted = start(settings, clock)) {
            await("offsets replayed").atMost(Duration.ofSeconds(30)).until(() -> restarted.committedOffsetCount() == 2);
            try (Admin admin = Clients.admin(restarted.bootstrapServers())) {
                assertThat(admin.listConsumerGroupOffsets("abandoned").partitionsToOffsetAndMetadata().get()).isEmpty();
            }
        }
    }

    private SpateNode start(Map<String, String> settings, Clock clock) throws IOException {
        SpateNode.Builder builder = SpateNode.builder().dataDir(dataDir).clock(clock);
        settings.forEach(builder::config);
        return builder.start();
    }

    private static void commit(SpateNode node, String group, long offset) {
        try (KafkaConsumer<String, String> consumer = Clients.consumer(node.bootstrapServers(), Map.of(ConsumerConfig.GROUP_ID_CONFIG, group))) {
            List<TopicPartition> partitions = Clients.partitions("tracked", 2);
            consumer.assign(partitions);
            Map<TopicPartition, OffsetAndMetadata> offsets = new java.util.HashMap<>();
            partitions.forEach(tp -> offsets.put(tp, new OffsetAndMetadata(offset)));
            consumer.commitSync(offsets);
        }
    }
}
