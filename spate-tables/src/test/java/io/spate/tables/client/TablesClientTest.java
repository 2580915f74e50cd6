package io.spate.tables.client;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** When the client moves to the next node: two JDK HTTP servers on free ports standing in for nodes. */
class TablesClientTest {
    private final List<HttpServer> servers = new ArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() {
        release.countDown();
        servers.forEach(s -> s.stop(0));
    }

    /** A node answering the catalog with an empty list, counting requests; {@code slow}: it never answers in time. */
    private String node(AtomicInteger requests, boolean slow) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            if (slow) {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] body = "{\"tables\": []}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
        servers.add(server);
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Test
    void aNodeThatCannotBeReachedIsSkipped() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        AtomicInteger second = new AtomicInteger();
        try (TablesClient client = TablesClient.of(List.of("http://127.0.0.1:" + deadPort, node(second, false)), Duration.ofSeconds(30))) {
            for (int i = 0; i < 4; i++) {
                assertThat(client.list()).isEmpty();
            }
        }
        assertThat(second.get()).isEqualTo(4);
    }

    @Test
    void aRequestThatTimesOutIsNotSentToAnotherNode() throws Exception {
        AtomicInteger slow = new AtomicInteger();
        AtomicInteger other = new AtomicInteger();
        try (TablesClient client = TablesClient.of(List.of(node(slow, true), node(other, false)), Duration.ofMillis(500))) {
            // The first request goes to the first node (the spread starts there): it may be doing the work.
            assertThatThrownBy(client::list).isInstanceOf(UncheckedIOException.class)
                    .hasCauseInstanceOf(HttpTimeoutException.class);
        }
        assertThat(slow.get()).isEqualTo(1);
        assertThat(other.get()).isZero();
    }
}
