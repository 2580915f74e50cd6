package io.spate.tables.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spate.tables.Consistency;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The masterless tables from Java, over any nodes' HTTP API (the JDK's HTTP client, nothing else).
 * Any node coordinates any request, so the client spreads requests over the nodes it was given and
 * moves to the next when one cannot be reached or its connection breaks before an answer (an answer
 * the node gave, a refusal included, and a request that timed out waiting for its answer, are not
 * retried, as the node may still carry it out: the caller decides, with the version the
 * failure carries as its next {@code after}). A write retried on the next node after a broken
 * connection may have been applied by the first one too: the retry writes the same value again
 * with a later version, which last-writer-wins makes harmless for a key with one writer.
 *
 * <pre>{@code
 * try (TablesClient tables = TablesClient.of("http://127.0.0.1:8082")) {
 *     tables.create("sessions", 3, Map.of());
 *     long v = tables.put("sessions", "user-1", bytes, Consistency.QUORUM, 0);
 *     Optional<TablesClient.Versioned> got = tables.get("sessions", "user-1", Consistency.QUORUM);
 * }
 * }</pre>
 */
public final class TablesClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String VERSION = "Spate-Version";

    /** A value and its version (pass the version as the next write's {@code after}). */
    public record Versioned(byte[] value, long version) {
    }

    /** A table as the catalog lists it. */
    public record TableInfo(String name, int replicationFactor, String writeConsistency, String readConsistency, String durability,
                            long tombstoneGraceMs, boolean sloppyQuorum) {
    }

    /** What a repair did on the node that ran it. */
    public record Repair(int sessions, int inSync, int abandoned, long keysPushed, long keysPulled) {
    }

    /** One node's own replica of a table: key count, tombstones among them, a digest of every cell. */
    public record Replica(long keys, long tombstones, String digest) {
    }

    /**
     * A request the node refused or could not complete: the HTTP status, the API's error code and
     * message, and the version involved (a write that timed out has one: it may still be applied).
     */
    public static final class TablesException extends RuntimeException {
        private final int status;
        private final int errorCode;
        private final long version;

        TablesException(int status, int errorCode, String message, long version) {
            super(message + " (HTTP " + status + ", error " + errorCode + ")");
            this.status = status;
            this.errorCode = errorCode;
            this.version = version;
        }

        public int status() {
            return status;
        }

        public int errorCode() {
            return errorCode;
        }

        public long version() {
            return version;
        }
    }

    private final List<URI> nodes;
    private final HttpClient http;
    private final Duration timeout;
    private final AtomicInteger next = new AtomicInteger();

    private TablesClient(List<URI> nodes, Duration timeout) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("no node to talk to");
        }
        this.nodes = List.copyOf(nodes);
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** A client of these nodes' HTTP APIs ({@code http://host:port}). */
    public static TablesClient of(String... baseUrls) {
        return of(List.of(baseUrls), Duration.ofSeconds(30));
    }

    public static TablesClient of(List<String> baseUrls, Duration requestTimeout) {
        List<URI> uris = new ArrayList<>();
        for (String url : baseUrls) {
            uris.add(URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url));
        }
        return new TablesClient(uris, requestTimeout);
    }

    public TableInfo create(String table, int replicationFactor, Map<String, String> options) {
        ObjectNode body = JSON.createObjectNode();
        body.put("name", table);
        body.put("replicationFactor", replicationFactor);
        options.forEach(body::put);
        HttpResponse<byte[]> r = send("/tables", "POST", HttpRequest.BodyPublishers.ofString(body.toString()), "application/json");
        return tableInfo(json(check(r, 201)));
    }

    public List<TableInfo> list() {
        JsonNode body = json(check(send("/tables", "GET", HttpRequest.BodyPublishers.noBody(), null), 200));
        List<TableInfo> out = new ArrayList<>();
        body.path("tables").forEach(t -> out.add(tableInfo(t)));
        return out;
    }

    /** The value at {@code r} (null: the table's default), empty when the key is absent or deleted. */
    public Optional<Versioned> get(String table, String key, Consistency r) {
        HttpResponse<byte[]> response = send(keyPath(table, key, r, 0), "GET", HttpRequest.BodyPublishers.noBody(), null);
        if (response.statusCode() == 404 && response.headers().firstValue(VERSION).isPresent()) {
            return Optional.empty(); // the table exists; the key does not (or is deleted)
        }
        check(response, 200);
        return Optional.of(new Versioned(response.body(), version(response)));
    }

    /** Writes at {@code w} (null: the table's default) ordered after {@code after} (0: no version seen); returns the write's version. */
    public long put(String table, String key, byte[] value, Consistency w, long after) {
        HttpResponse<byte[]> r = send(keyPath(table, key, w, after), "PUT", HttpRequest.BodyPublishers.ofByteArray(value),
                "application/octet-stream");
        return version(check(r, 200));
    }

    public long delete(String table, String key, Consistency w, long after) {
        return version(check(send(keyPath(table, key, w, after), "DELETE", HttpRequest.BodyPublishers.noBody(), null), 200));
    }

    /** One write of a batch: a value (UTF-8 text), or a deletion when {@code value} is null. */
    public record BatchWrite(String key, String value, long after) {
    }

    /** How one write of a batch ended: OK, TIMEOUT, UNAVAILABLE or OVERLOADED, with its version. */
    public record BatchResult(String key, String status, long version) {
        public boolean ok() {
            return status.equals("OK");
        }
    }

    /** Several writes in one request, each coordinated on its own (not atomic); results in order. */
    public List<BatchResult> write(String table, List<BatchWrite> writes, Consistency w) {
        ObjectNode body = JSON.createObjectNode();
        var array = body.putArray("writes");
        for (BatchWrite bw : writes) {
            ObjectNode one = array.addObject();
            one.put("key", bw.key());
            if (bw.value() == null) {
                one.put("delete", true);
            } else {
                one.put("value", bw.value());
            }
            if (bw.after() != 0) {
                one.put("after", Long.toUnsignedString(bw.after()));
            }
        }
        String path = "/tables/" + enc(table) + "/keys" + (w == null ? "" : "?consistency=" + w.name().toLowerCase(Locale.ROOT));
        JsonNode answer = json(check(send(path, "POST", HttpRequest.BodyPublishers.ofString(body.toString()), "application/json"), 200));
        List<BatchResult> out = new ArrayList<>();
        answer.path("results").forEach(r -> out.add(new BatchResult(r.path("key").asText(), r.path("status").asText(),
                Long.parseUnsignedLong(r.path("version").asText("0")))));
        return out;
    }

    /** Anti-entropy of the table now, run by the node asked, with every other live replica. */
    /** The node's repair may run up to 10 minutes: give this client a request timeout to match. */
    public Repair repair(String table) {
        JsonNode b = json(check(send("/tables/" + enc(table) + "/repair", "POST", HttpRequest.BodyPublishers.noBody(), null), 200));
        return new Repair(b.path("sessions").asInt(), b.path("inSync").asInt(), b.path("abandoned").asInt(), b.path("keysPushed").asLong(),
                b.path("keysPulled").asLong());
    }

    /** The replica of the first node given (not spread: it is that node's own copy that is asked for). */
    public Replica replica(String table) {
        JsonNode b = json(check(send(nodes.getFirst(), "/tables/" + enc(table) + "/replica", "GET", HttpRequest.BodyPublishers.noBody(), null), 200));
        return new Replica(b.path("keys").asLong(), b.path("tombstones").asLong(), b.path("digest").asText());
    }

    private static String keyPath(String table, String key, Consistency c, long after) {
        StringBuilder path = new StringBuilder("/tables/").append(enc(table)).append("/keys/").append(enc(key));
        String sep = "?";
        if (c != null) {
            path.append(sep).append("consistency=").append(c.name().toLowerCase(Locale.ROOT));
            sep = "&";
        }
        if (after != 0) {
            path.append(sep).append("after=").append(Long.toUnsignedString(after));
        }
        return path.toString();
    }

    private static String enc(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpResponse<byte[]> send(String path, String method, HttpRequest.BodyPublisher body, String contentType) {
        IOException last = null;
        int start = Math.floorMod(next.getAndIncrement(), nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            try {
                return send(nodes.get((start + i) % nodes.size()), path, method, body, contentType);
            } catch (UncheckedIOException e) {
                if (e.getCause() instanceof java.net.http.HttpTimeoutException
                        && !(e.getCause() instanceof java.net.http.HttpConnectTimeoutException)) {
                    // The node took the request and did not answer in time: it may still carry it out
                    // (a create, a write), so sending it to another would do it twice. The caller decides.
                    throw new java.io.UncheckedIOException("no answer within " + timeout.toMillis() + " ms", e.getCause());
                }
                last = e.getCause(); // that node cannot be reached, or dropped the connection before answering
            }
        }
        throw new java.io.UncheckedIOException("no node could be reached: " + nodes, last);
    }

    private HttpResponse<byte[]> send(URI node, String path, String method, HttpRequest.BodyPublisher body, String contentType) {
        HttpRequest.Builder request = HttpRequest.newBuilder(node.resolve(path)).timeout(timeout).method(method, body);
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** A connection failure, the one case that moves a request on to the next node. */
    private static final class UncheckedIOException extends RuntimeException {
        UncheckedIOException(IOException cause) {
            super(cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    private static HttpResponse<byte[]> check(HttpResponse<byte[]> r, int expected) {
        if (r.statusCode() == expected) {
            return r;
        }
        int code = r.statusCode() * 100;
        String message = new String(r.body(), StandardCharsets.UTF_8);
        try {
            JsonNode error = JSON.readTree(r.body());
            code = error.path("error_code").asInt(code);
            message = error.path("message").asText(message);
        } catch (IOException notJson) {
            // the body as it is
        }
        throw new TablesException(r.statusCode(), code, message, r.headers().firstValue(VERSION).map(Long::parseUnsignedLong).orElse(0L));
    }

    private static long version(HttpResponse<byte[]> r) {
        return r.headers().firstValue(VERSION).map(Long::parseUnsignedLong).orElse(0L);
    }

    private static JsonNode json(HttpResponse<byte[]> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("not JSON: " + new String(r.body(), StandardCharsets.UTF_8), e);
        }
    }

    private static TableInfo tableInfo(JsonNode t) {
        return new TableInfo(t.path("name").asText(), t.path("replicationFactor").asInt(), t.path("writeConsistency").asText(),
                t.path("readConsistency").asText(), t.path("durability").asText(), t.path("tombstoneGraceMs").asLong(),
                t.path("sloppyQuorum").asBoolean());
    }

    @Override
    public void close() {
        http.close();
    }
}
