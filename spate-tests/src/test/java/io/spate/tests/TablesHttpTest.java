package io.spate.tests;

import io.spate.broker.SpateNode;
import io.spate.tables.Consistency;
import io.spate.tables.client.TablesClient;
import io.spate.tests.support.HttpNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tables of one embedded node (a standalone node is a cluster of one, and a table's only
 * replica): the {@code /tables} endpoints with their errors, through raw HTTP and the Java client,
 * and the data and catalog surviving a restart of the node on the same directory.
 */
class TablesHttpTest {
    @TempDir
    Path dataDir;

    private static HttpResponse<String> call(HttpNode web, String method, String path, String body) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(web.base() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return web.http().send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void createWriteReadDeleteAndEveryErrorThenTheSameAfterARestart() throws Exception {
        long version;
        try (HttpNode web = HttpNode.start(SpateNode.builder().dataDir(dataDir).config("tables.max.value.bytes", "1000"));
             TablesClient client = TablesClient.of(web.base())) {
            HttpResponse<String> created = call(web, "POST", "/tables", "{\"name\": \"sessions\", \"replicationFactor\": 1, \"durability\": \"sync_each\"}");
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(created.body()).contains("\"durability\":\"sync_each\"");
            assertThat(call(web, "POST", "/tables", "{\"name\": \"sessions\", \"replicationFactor\": 1}").statusCode()).isEqualTo(409);
            assertThat(call(web, "POST", "/tables", "{\"name\": \"a/b\", \"replicationFactor\": 1}").statusCode()).isEqualTo(400);
            assertThat(call(web, "POST", "/tables", "{\"name\": \"x\"}").body()).contains("replication.factor is required");
            HttpResponse<String> shortGrace = call(web, "POST", "/tables", "{\"name\": \"x\", \"replicationFactor\": 1, \"tombstoneGraceMs\": 1000}");
            assertThat(shortGrace.statusCode()).isEqualTo(400);
            assertThat(shortGrace.body()).contains("tombstone.grace.ms must be at least");
            assertThat(call(web, "POST", "/tables", "{\"name\": \"x\", \"replicationFactor\": 1, \"colour\": \"red\"}").statusCode()).isEqualTo(400);

            HttpResponse<String> put = call(web, "PUT", "/tables/sessions/keys/user-1?consistency=quorum", "hello");
            assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
            version = Long.parseUnsignedLong(put.headers().firstValue("Spate-Version").orElseThrow());
            HttpResponse<String> got = call(web, "GET", "/tables/sessions/keys/user-1?consistency=all", null);
            assertThat(got.statusCode()).isEqualTo(200);
            assertThat(got.body()).isEqualTo("hello");
            assertThat(got.headers().firstValue("Spate-Version")).contains(Long.toUnsignedString(version));

            // A write passing a version from the future is ordered after it.
            long future = version + (1L << 30);
            HttpResponse<String> later = call(web, "PUT", "/tables/sessions/keys/user-2?after=" + Long.toUnsignedString(future), "x");
            assertThat(Long.parseUnsignedLong(later.headers().firstValue("Spate-Version").orElseThrow())).isGreaterThan(future);
            // One from an hour ahead cannot be followed without a version that is not this node's time: refused, nothing written.
            long farAhead = io.spate.tables.HybridLogicalClock.of(System.currentTimeMillis() + 3_600_000, 0);
            HttpResponse<String> refused = call(web, "PUT", "/tables/sessions/keys/user-3?after=" + Long.toUnsignedString(farAhead), "x");
            assertThat(refused.statusCode()).isEqualTo(400);
            assertThat(refused.body()).contains("ahead");
            assertThat(call(web, "GET", "/tables/sessions/keys/user-3", null).statusCode()).isEqualTo(404);

            assertThat(call(web, "GET", "/tables/sessions/keys/nobody", null).statusCode()).isEqualTo(404);
            assertThat(call(web, "GET", "/tables/nothing/keys/user-1", null).body()).contains("table 'nothing' not found");
            assertThat(call(web, "GET", "/tables/sessions/keys/user-1?consistency=most", null).statusCode()).isEqualTo(400);
            assertThat(call(web, "PUT", "/tables/sessions/keys/user-1?after=soon", "v").statusCode()).isEqualTo(400);
            assertThat(call(web, "PUT", "/tables/sessions/keys/big", "x".repeat(1001)).statusCode()).isEqualTo(413);
            assertThat(call(web, "PATCH", "/tables/sessions/keys/user-1", "x").statusCode()).isEqualTo(405);

            // The Java client: the same operations, failures as exceptions with status and code.
            long v2 = client.put("sessions", "user 3/ü", "bytes".getBytes(StandardCharsets.UTF_8), Consistency.ONE, 0);
            assertThat(client.get("sessions", "user 3/ü", null).orElseThrow().version()).isEqualTo(v2);
            long deleted = client.delete("sessions", "user 3/ü", null, v2);
            assertThat(deleted).isGreaterThan(v2);
            assertThat(client.get("sessions", "user 3/ü", Consistency.QUORUM)).isEmpty();
            assertThatThrownBy(() -> client.get("nothing", "k", null)).isInstanceOfSatisfying(TablesClient.TablesException.class,
                    e -> assertThat(e.status()).isEqualTo(404));
            assertThatThrownBy(() -> client.create("sessions", 1, Map.of())).isInstanceOfSatisfying(TablesClient.TablesException.class,
                    e -> assertThat(e.status()).isEqualTo(409));
            assertThat(client.list()).extracting(TablesClient.TableInfo::name).containsExactly("sessions");
            // A batch: each write on its own, results in order.
            List<TablesClient.BatchResult> batch = client.write("sessions", List.of(new TablesClient.BatchWrite("b1", "one", 0),
                    new TablesClient.BatchWrite("b2", "two", 0), new TablesClient.BatchWrite("b1", null, 0)), Consistency.QUORUM);
            assertThat(batch).extracting(TablesClient.BatchResult::key).containsExactly("b1", "b2", "b1");
            assertThat(batch).allMatch(TablesClient.BatchResult::ok);
            assertThat(new String(client.get("sessions", "b2", null).orElseThrow().value(), StandardCharsets.UTF_8)).isEqualTo("two");
            assertThat(call(web, "POST", "/tables/sessions/keys", "{\"writes\": [{\"key\": 1}]}").statusCode()).isEqualTo(400);
            assertThat(call(web, "POST", "/tables/sessions/keys", "{\"writes\": [{\"key\": \"b3\", \"value\": \"v\"}, "
                    + "{\"key\": \"b4\", \"value\": \"" + "x".repeat(1001) + "\"}]}").statusCode()).isEqualTo(413);
            assertThat(client.get("sessions", "b3", null)).isEmpty(); // a refused batch writes nothing
            HttpResponse<String> longKey = call(web, "POST", "/tables/sessions/keys", "{\"writes\": [{\"key\": \"b3\", \"value\": \"v\"}, "
                    + "{\"key\": \"" + "k".repeat(65_536) + "\", \"value\": \"v\"}]}");
            assertThat(longKey.statusCode()).isEqualTo(400);
            assertThat(longKey.body()).contains("writes[1]: a key of 65536 bytes is over the 65535");
            assertThat(client.get("sessions", "b3", null)).isEmpty();
            client.delete("sessions", "b2", null, 0);
            assertThat(client.repair("sessions").abandoned()).isZero();
            TablesClient.Replica replica = client.replica("sessions");
            assertThat(replica.keys()).isEqualTo(5); // user-1, user-2, and the tombstones of user 3/ü, b1 and b2
            assertThat(replica.tombstones()).isEqualTo(3);

            // The node's Prometheus scrape has the tables' figures.
            String metrics = call(web, "GET", "/metrics", null).body();
            assertThat(metrics).contains("spate_table_requests_total{consistency=\"quorum\",op=\"write\"} 7.0")
                    .contains("spate_table_requests_total{consistency=\"one\",op=\"write\"} 1.0")
                    .contains("spate_table_requests_total{consistency=\"all\",op=\"read\"} 1.0")
                    .contains("spate_table_request_duration_seconds_total{consistency=\"quorum\",op=\"write\"}")
                    .contains("spate_table_hints_pending 0.0")
                    .contains("spate_table_anti_entropy_sessions_total")
                    .contains("spate_table_messages_dropped_total 0.0");
        }

        // A clean stop and a start on the same directory: the catalog and the data are back.
        try (HttpNode web = HttpNode.start(SpateNode.builder().dataDir(dataDir));
             TablesClient client = TablesClient.of(web.base())) {
            assertThat(client.list()).extracting(TablesClient.TableInfo::name).containsExactly("sessions");
            // While its store opens the table is in the catalog but not served here: 503, never 404.
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
                HttpResponse<String> r = call(web, "GET", "/tables/sessions/keys/user-1?consistency=one", null);
                assertThat(r.statusCode()).as(r.body()).isIn(200, 503);
                return r.statusCode() == 200;
            });
            TablesClient.Versioned v = client.get("sessions", "user-1", Consistency.ONE).orElseThrow();
            assertThat(new String(v.value(), StandardCharsets.UTF_8)).isEqualTo("hello");
            assertThat(v.version()).isEqualTo(version);
        }
    }

    /**
     * A value's hint is judged for age on the stand-in's clock, a tombstone for collection on the
     * replica's: a grace just above the hint's age (three hours) let a stand-in with a slow clock
     * deliver a value after the replica had collected its deletion. The grace must also cover the
     * clocks' 60 s disagreement and a request timeout.
     */
    @Test
    void aGraceMustCoverTheHintAgeTheClocksDisagreementAndARequestTimeout() throws Exception {
        long minimum = 3 * 3600_000L + 60_000 + 1_500;
        try (HttpNode web = HttpNode.start(SpateNode.builder().dataDir(dataDir).config("tables.request.timeout.ms", "1500"))) {
            HttpResponse<String> justAboveHintAge = call(web, "POST", "/tables",
                    "{\"name\": \"t\", \"replicationFactor\": 1, \"tombstoneGraceMs\": " + (3 * 3600_000L + 1) + "}");
            assertThat(justAboveHintAge.statusCode()).isEqualTo(400);
            assertThat(justAboveHintAge.body()).contains("tombstone.grace.ms must be at least " + minimum + " ms")
                    .contains("10800000 ms a value's hint is kept").contains("60000 ms the nodes' clocks may disagree")
                    .contains("1500 ms request timeout").contains("not 10800001");
            HttpResponse<String> oneShort = call(web, "POST", "/tables",
                    "{\"name\": \"t\", \"replicationFactor\": 1, \"tombstoneGraceMs\": " + (minimum - 1) + "}");
            assertThat(oneShort.statusCode()).isEqualTo(400);
            HttpResponse<String> atMinimum = call(web, "POST", "/tables",
                    "{\"name\": \"t\", \"replicationFactor\": 1, \"tombstoneGraceMs\": " + minimum + "}");
            assertThat(atMinimum.statusCode()).as(atMinimum.body()).isEqualTo(201);
            assertThat(atMinimum.body()).contains("\"tombstoneGraceMs\":" + minimum);
            HttpResponse<String> byDefault = call(web, "POST", "/tables", "{\"name\": \"d\", \"replicationFactor\": 1}");
            assertThat(byDefault.statusCode()).as(byDefault.body()).isEqualTo(201);
        }
    }

    /**
     * The tables' native protocol on the node's tables port, found through {@code /admin/cluster}:
     * what one interface writes the other reads, with the same versions and the node's own limits.
     */
    @Test
    void theNativeProtocolOnTheTablesPortServesWhatHttpServes() throws Exception {
        try (HttpNode web = HttpNode.start(SpateNode.builder().dataDir(dataDir).config("tables.max.value.bytes", "1000"));
             TablesClient http = TablesClient.of(web.base())) {
            http.create("devices", 1, Map.of());
            com.fasterxml.jackson.databind.JsonNode cluster = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(call(web, "GET", "/admin/cluster", null).body());
            int tablesPort = cluster.path("nodes").get(0).path("tables_port").asInt();
            assertThat(tablesPort).isPositive();
            try (io.spate.tables.client.NativeTablesClient client = io.spate.tables.client.NativeTablesClient.connect(
                    List.of(new java.net.InetSocketAddress("127.0.0.1", tablesPort)))) {
                io.spate.tables.WriteResult written = client.put("devices", "d-1".getBytes(StandardCharsets.UTF_8),
                        "on".getBytes(StandardCharsets.UTF_8), Consistency.QUORUM, 0).get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(written.ok()).isTrue();
                TablesClient.Versioned overHttp = http.get("devices", "d-1", null).orElseThrow();
                assertThat(new String(overHttp.value(), StandardCharsets.UTF_8)).isEqualTo("on");
                assertThat(overHttp.version()).isEqualTo(written.version());

                long httpVersion = http.put("devices", "d-2", "off".getBytes(StandardCharsets.UTF_8), Consistency.ONE, 0);
                io.spate.tables.ReadResult nativeRead = client.get("devices", "d-2".getBytes(StandardCharsets.UTF_8), Consistency.ALL)
                        .get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(new String(nativeRead.value(), StandardCharsets.UTF_8)).isEqualTo("off");
                assertThat(nativeRead.version()).isEqualTo(httpVersion);

                assertThatThrownBy(() -> client.put("devices", "big".getBytes(StandardCharsets.UTF_8), new byte[1001], null, 0)
                        .get(30, java.util.concurrent.TimeUnit.SECONDS))
                        .hasMessageContaining("INVALID").hasMessageContaining("1000 bytes");
                assertThatThrownBy(() -> client.get("nothing", "k".getBytes(StandardCharsets.UTF_8), null)
                        .get(30, java.util.concurrent.TimeUnit.SECONDS))
                        .hasMessageContaining("UNKNOWN_TABLE");
                assertThat(http.get("devices", "big", null)).isEmpty();
                // The tables count a request the same whichever way it came.
                assertThat(call(web, "GET", "/metrics", null).body())
                        .contains("spate_table_requests_total{consistency=\"quorum\",op=\"write\"} 1.0")
                        .contains("spate_table_requests_total{consistency=\"all\",op=\"read\"} 1.0");
            }
        }
    }

    /**
     * Single-key requests are answered on the connection's event loop when the tables answer; the
     * others on a thread of their own. Pipelined on one keep-alive connection, mixed with those
     * others and with refusals, they are answered in order, each with its own status, headers and
     * body, and the connection closes after the request that asks for it.
     */
    @Test
    void pipelinedKeyRequestsAreAnsweredInOrderOnOneConnection() throws Exception {
        try (HttpNode web = HttpNode.start(SpateNode.builder().dataDir(dataDir).config("tables.max.value.bytes", "1000"))) {
            assertThat(call(web, "POST", "/tables", "{\"name\": \"t\", \"replicationFactor\": 1}").statusCode()).isEqualTo(201);
            URI base = URI.create(web.base());
            String requests = String.join("",
                    "PUT /tables/t/keys/p1?consistency=one HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
                    "GET /tables/t/keys/p1 HTTP/1.1\r\nHost: h\r\n\r\n",
                    "GET /tables/t/keys/missing HTTP/1.1\r\nHost: h\r\n\r\n",
                    "GET /tables HTTP/1.1\r\nHost: h\r\n\r\n", // not a key: handled on its own thread, between the others
                    "PUT /tables/t/keys/p1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n" + "x".repeat(1001),
                    "PUT /tables/t/keys/p2 HTTP/1.1\r\nHost: h\r\nOrigin: http://elsewhere.example\r\nContent-Length: 1\r\n\r\ny",
                    "GET /tables/t/keys/p1?consistency=most HTTP/1.1\r\nHost: h\r\n\r\n",
                    "GET /tables/nothing/keys/p1 HTTP/1.1\r\nHost: h\r\n\r\n",
                    "PATCH /tables/t/keys/p1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
                    "DELETE /tables/t/keys/p1 HTTP/1.1\r\nHost: h\r\n\r\n",
                    "GET /tables/t/keys/p1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
                    "GET /tables/t/keys/p2 HTTP/1.1\r\nHost: h\r\n\r\n"); // after the close: never answered
            List<Answer> answers = new java.util.ArrayList<>();
            try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
                socket.setSoTimeout(30_000);
                socket.getOutputStream().write(requests.getBytes(StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
                java.io.InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
                Answer a;
                while ((a = Answer.read(in)) != null) {
                    answers.add(a);
                }
            }
            assertThat(answers).extracting(Answer::status).containsExactly(200, 200, 404, 200, 413, 403, 400, 404, 405, 200, 404);
            String written = answers.get(0).headers().get("spate-version");
            assertThat(answers.get(0).body()).isEqualTo("{\"version\":\"" + written + "\"}");
            assertThat(answers.get(0).headers()).containsEntry("content-type", "application/json");
            assertThat(answers.get(1).body()).isEqualTo("abc");
            assertThat(answers.get(1).headers()).containsEntry("content-type", "application/octet-stream").containsEntry("spate-version", written);
            assertThat(answers.get(2).body()).contains("\"error_code\":40411", "key not found in table 't'").doesNotContain("(deleted)");
            assertThat(answers.get(3).body()).contains("\"name\":\"t\"");
            assertThat(answers.get(4).body()).contains("\"error_code\":41310");
            assertThat(answers.get(5).body()).contains("\"error_code\":40302");
            assertThat(answers.get(6).body()).contains("\"error_code\":40002");
            assertThat(answers.get(7).body()).contains("\"error_code\":40410", "table 'nothing' not found");
            assertThat(answers.get(8).body()).contains("\"error_code\":40500");
            long deleted = Long.parseUnsignedLong(answers.get(9).headers().get("spate-version"));
            assertThat(deleted).isGreaterThan(Long.parseUnsignedLong(written));
            assertThat(answers.get(10).body()).contains("(deleted)");
            assertThat(answers.get(10).headers()).containsEntry("connection", "close").containsEntry("spate-version", Long.toUnsignedString(deleted));
            // Refused requests wrote nothing.
            assertThat(call(web, "GET", "/tables/t/keys/p2", null).statusCode()).isEqualTo(404);
        }
    }

    /** One HTTP/1.1 answer with a Content-Length body, header names in lower case. */
    private record Answer(int status, Map<String, String> headers, String body) {
        static Answer read(java.io.InputStream in) throws java.io.IOException {
            String statusLine = line(in);
            if (statusLine == null) {
                return null; // the server closed the connection
            }
            Map<String, String> headers = new java.util.HashMap<>();
            for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                int colon = h.indexOf(':');
                headers.put(h.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), h.substring(colon + 1).trim());
            }
            byte[] body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
            return new Answer(Integer.parseInt(statusLine.split(" ")[1]), headers, new String(body, StandardCharsets.UTF_8));
        }

        private static String line(java.io.InputStream in) throws java.io.IOException {
            StringBuilder b = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    return b.isEmpty() ? null : b.toString();
                }
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return b.toString();
        }
    }
}
