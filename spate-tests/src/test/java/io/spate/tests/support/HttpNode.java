package io.spate.tests.support;

import io.spate.broker.SpateNode;

import java.net.http.HttpClient;
import java.time.Duration;

/**
 * An embedded node serving HTTP on a free port, with the JDK's HTTP client the HTTP tests talk
 * to it with (HTTP/1.1, as the node serves). Closing closes both.
 */
public record HttpNode(SpateNode node, HttpClient http, String base) implements AutoCloseable {
    /** Starts {@code builder}'s node with HTTP on a free port. */
    public static HttpNode start(SpateNode.Builder builder) throws Exception {
        SpateNode node = builder.httpPort(0).start();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        return new HttpNode(node, http, "http://127.0.0.1:" + node.httpPort());
    }

    @Override
    public void close() {
        http.close();
        node.close();
    }
}
