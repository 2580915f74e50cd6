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
            assertThat(shortGrace.body()).contains("tombstone.grace.ms must be above");
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
}
