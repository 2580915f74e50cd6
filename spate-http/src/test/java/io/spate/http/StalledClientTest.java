package io.spate.http;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that pipelines a request with a large answer and a produce behind it, then reads
 * nothing: the produce's body waits behind an answer that never leaves, holding its share of the
 * node's in-flight bytes. A listener with no topics (a {@code /metrics} answer made large stands
 * in for a large read) and a short stalled-write timeout.
 */
class StalledClientTest {
    private static final int BODY = 1 << 20;

    @Test
    void aClientThatReadsNoneOfItsAnswersIsClosedAndGivesBackWhatItsRequestsHold() throws Exception {
        PrometheusRegistry metrics = new PrometheusRegistry();
        Gauge padding = Gauge.builder().name("padding").labelNames("l").withoutExemplars().register(metrics); // no sampler thread (HttpMetricsTest)
        for (int i = 0; i < 40_000; i++) {
            padding.labelValues("x".repeat(200) + i).set(i); // ~9 MB of answer, past what both sockets buffer
        }
        HttpSettings settings = new HttpSettings("127.0.0.1", 0, BODY, 2L * BODY, "127.0.0.1:9", 300_000, 10, 1_000);
        List<Socket> stalled = new ArrayList<>();
        try (HttpServer server = HttpServer.start(settings, new NoTopics(), metrics)) {
            String requests = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /topics/t/records HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " + BODY + "\r\n\r\n";
            for (int i = 0; i < 2; i++) {
                Socket socket = new Socket();
                stalled.add(socket);
                socket.setReceiveBufferSize(4096);
                socket.connect(new InetSocketAddress("127.0.0.1", server.port()));
                OutputStream out = socket.getOutputStream();
                out.write(requests.getBytes(StandardCharsets.ISO_8859_1));
                out.write(new byte[BODY]);
                out.flush();
            }
            // Both bodies read and held: the whole budget (another client's produce would get 429) ...
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> server.inFlightBytes() == 2L * BODY);
            // ... until their connections, whose answers do not move, are closed.
            await().atMost(Duration.ofSeconds(10)).until(() -> server.inFlightBytes() == 0);
            try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                HttpResponse<String> produce = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                        + "/topics/t/records")).POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(produce.statusCode()).as(produce.body()).isEqualTo(404); // served: no such topic here
            }
        } finally {
            for (Socket socket : stalled) {
                socket.close();
            }
        }
    }

    /** A node without topics. */
    private static final class NoTopics implements NodePartitions {
        @Override
        public Partition localReplica(TopicPartition partition) {
            return null;
        }

        @Override
        public int partitionCount(String topic) {
            return -1;
        }

        @Override
        public boolean isInternal(String topic) {
            return false;
        }

        @Override
        public List<String> topics() {
            return List.of();
        }

        @Override
        public Placement placement(String topic, int partition) {
            return null;
        }

        @Override
        public InetSocketAddress kafkaAddress(int id) {
            return null;
        }
    }
}
