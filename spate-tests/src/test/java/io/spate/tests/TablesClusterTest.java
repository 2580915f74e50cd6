package io.spate.tests;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.spate.tables.Consistency;
import io.spate.tables.client.TablesClient;
import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.SpateProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.spate.tests.support.SpateCluster.log;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Masterless tables on three node processes: a table with three replicas written at QUORUM
 * through every node's HTTP API while one node is killed with {@code kill -9}; every acknowledged
 * write reads back at QUORUM from the survivors; the killed node restarts, the hints held for it
 * are delivered, and after a repair the three replicas hold identical cells (their stores'
 * contents compared as digests, key count and tombstones). Then the same with another node
 * paused by SIGSTOP instead of killed.
 */
class TablesClusterTest {
    static final String TABLE = "sessions";
    private static final int NODES = 3;

    @TempDir
    Path tmp;

    @Test
    void quorumWritesSurviveAKill9AndASigstopAndTheReplicasConvergeAfterHintsAndRepair() throws Exception {
        Map<Integer, Integer> httpPorts = new HashMap<>();
        for (int id = 1; id <= NODES; id++) {
            httpPorts.put(id, SpateProcess.freePort());
        }
        Map<Integer, String> base = new HashMap<>();
        httpPorts.forEach((id, port) -> base.put(id, "http://127.0.0.1:" + port));
        try (SpateCluster cluster = new SpateCluster(tmp, NODES, Map.of(), id -> Map.of("http.port", String.valueOf(httpPorts.get(id))))) {
            cluster.start();
            Map<Integer, TablesClient> clients = new HashMap<>();
            for (int id = 1; id <= NODES; id++) {
                clients.put(id, TablesClient.of(List.of(base.get(id)), Duration.ofSeconds(10)));
            }
            // Created from the command line knowing only one node's Kafka listener.
            var created = TopicProduceConsumeCommandTest.run("", "table", "create", TABLE, "--replication-factor", "3",
                    "--durability", "batched:5", "--bootstrap-server", cluster.bootstrap(2));
            assertThat(created.exit()).as(created.err()).isZero();
            for (int id = 1; id <= NODES; id++) {
                int node = id;
                // Each node serves the table once its metadata image has it.
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
                        clients.get(node).put(TABLE, "probe-" + node, new byte[]{1}, Consistency.ALL, 0) > 0);
            }

            // Phase 1: kill -9 of node 3 under QUORUM writes through all three nodes.
            Map<String, String> acknowledged = writeUnderFault("a", List.of(base.get(1), base.get(2), base.get(3)), () -> cluster.kill9(3));
            readBack(acknowledged, List.of(clients.get(1), clients.get(2)));
            // Once node 3 is fenced, ALL cannot be met: refused at once with 503 and the reason, nothing
            // sent (before that, the coordinator waits for node 3 and answers 504).
            AtomicInteger timeouts = new AtomicInteger();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                try {
                    clients.get(1).put(TABLE, "at-all", new byte[]{1}, Consistency.ALL, 0);
                    throw new AssertionError("a write at ALL succeeded with a replica dead");
                } catch (TablesClient.TablesException e) {
                    if (e.status() == 504) {
                        timeouts.incrementAndGet();
                    }
                    return e.status() == 503 && e.getMessage().contains("UNAVAILABLE: fewer than 3 of the key's 3 replicas are live");
                }
            });
            log("tables: a write at ALL refused with 503 once node 3 was fenced (" + timeouts.get() + " timed out with 504 before)");
            long hintsHeld = hintsPending(base.get(1)) + hintsPending(base.get(2));
            assertThat(hintsHeld).as("hints for the killed node").isPositive();

            cluster.start(3);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> hintsPending(base.get(1)) + hintsPending(base.get(2)) == 0);
            log("tables: " + hintsHeld + " hints delivered to node 3");
            // `spate table repair --bootstrap-server` repairs from every node it learns of.
            var repaired = TopicProduceConsumeCommandTest.run("", "table", "repair", TABLE, "--json", "--bootstrap-server", cluster.bootstrap(1));
            log("tables: repair from every node: " + repaired.out().strip() + repaired.err().strip());
            assertThat(repaired.exit()).as(repaired.err()).isZero();
            assertThat(new ObjectMapper().readTree(repaired.out()).findValuesAsText("node"))
                    .containsExactlyInAnyOrderElementsOf(base.values());
            List<TablesClient.Replica> replicas = new ArrayList<>();
            for (int id = 1; id <= NODES; id++) {
                replicas.add(clients.get(id).replica(TABLE));
            }
            log("tables: replicas " + replicas);
            assertThat(replicas.getFirst().keys()).isGreaterThanOrEqualTo(acknowledged.size());
            assertThat(replicas).allSatisfy(r -> assertThat(r).isEqualTo(replicas.getFirst()));

            // Phase 2: node 2 paused with SIGSTOP (its process holds its connections, answers nothing)
            // under QUORUM writes through nodes 1 and 3; it resumes, gets its hints, and after a
            // repair the replicas are identical again.
            Map<String, String> whilePaused = writeUnderFault("b", List.of(base.get(1), base.get(3)), () -> cluster.pause(2));
            readBack(whilePaused, List.of(clients.get(1), clients.get(3)));
            // Hinted at once once node 2 is fenced, or after the request timeout before that.
            await().atMost(Duration.ofSeconds(10)).until(() -> hintsPending(base.get(1)) + hintsPending(base.get(3)) > 0);
            log("tables: " + (hintsPending(base.get(1)) + hintsPending(base.get(3))) + " hints held for node 2");
            cluster.resume(2);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> hintsPending(base.get(1)) + hintsPending(base.get(3)) == 0);
            for (int id = 1; id <= NODES; id++) {
                assertThat(clients.get(id).repair(TABLE).abandoned()).isZero();
            }
            List<TablesClient.Replica> after = new ArrayList<>();
            for (int id = 1; id <= NODES; id++) {
                after.add(clients.get(id).replica(TABLE));
            }
            log("tables: replicas after the pause " + after);
            assertThat(after.getFirst().keys()).isGreaterThanOrEqualTo(acknowledged.size() + whilePaused.size());
            assertThat(after).allSatisfy(r -> assertThat(r).isEqualTo(after.getFirst()));
            clients.values().forEach(TablesClient::close);
        }
    }

    interface Fault {
        void inject() throws Exception;
    }

    /**
     * Three writers, each writing keys of its own (one writer per key) at QUORUM and spreading its
     * requests over {@code nodes} (the client takes them in turn, and moves on when one cannot be
     * reached); the fault comes after 150 acknowledged writes, and writing goes on until 600 more
     * are acknowledged. Returns the acknowledged writes; others had an unknown outcome.
     */
    static Map<String, String> writeUnderFault(String phase, List<String> nodes, Fault fault) throws Exception {
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        AtomicInteger failed = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch warmedUp = new CountDownLatch(150);
        List<Thread> writers = new ArrayList<>();
        for (int w = 1; w <= 3; w++) {
            int writer = w;
            List<String> order = new ArrayList<>(nodes);
            java.util.Collections.rotate(order, writer);
            writers.add(Thread.ofPlatform().name("table-writer-" + phase + writer).start(() -> {
                try (TablesClient client = TablesClient.of(order, Duration.ofSeconds(5))) {
                    for (int i = 0; !stop.get(); i++) {
                        String key = phase + writer + "-" + i;
                        String value = "value-" + phase + writer + "-" + i;
                        try {
                            client.put(TABLE, key, value.getBytes(StandardCharsets.UTF_8), Consistency.QUORUM, 0);
                            acknowledged.put(key, value);
                            warmedUp.countDown();
                        } catch (RuntimeException e) {
                            failed.incrementAndGet();
                        }
                    }
                }
            }));
        }
        try {
            assertThat(warmedUp.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            fault.inject();
            int ackedAtFault = acknowledged.size();
            await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() >= ackedAtFault + 600);
            log("tables: phase " + phase + ": " + acknowledged.size() + " writes acknowledged (" + ackedAtFault + " before the fault), "
                    + failed.get() + " with an unknown outcome");
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join(30_000);
            }
        }
        return Map.copyOf(acknowledged);
    }

    /** Every acknowledged write reads back at QUORUM, through the given nodes in turn. */
    static void readBack(Map<String, String> acknowledged, List<TablesClient> through) {
        int i = 0;
        for (Map.Entry<String, String> e : acknowledged.entrySet()) {
            TablesClient node = through.get(i++ % through.size());
            assertThat(node.get(TABLE, e.getKey(), Consistency.QUORUM).map(v -> new String(v.value(), StandardCharsets.UTF_8)))
                    .as(e.getKey()).contains(e.getValue());
        }
    }

    static long hintsPending(String base) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/tables/" + TABLE)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("hintsPendingHere").asLong();
        }
    }
}
