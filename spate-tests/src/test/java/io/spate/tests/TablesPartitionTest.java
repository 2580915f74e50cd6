package io.spate.tests;

import io.spate.tables.Consistency;
import io.spate.tables.client.TablesClient;
import io.spate.tests.support.NetworkNamespaces;
import io.spate.tests.support.SpateCluster;
import io.spate.tests.support.SpateProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static io.spate.tests.TablesClusterTest.TABLE;
import static io.spate.tests.TablesClusterTest.hintsPending;
import static io.spate.tests.TablesClusterTest.readBack;
import static io.spate.tests.TablesClusterTest.writeUnderFault;
import static io.spate.tests.support.SpateCluster.log;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Masterless tables across a network partition: three node processes, each in a network namespace
 * of its own ({@link NetworkNamespaces}; the test is skipped where they cannot be made: not root,
 * no {@code ip netns}). Under QUORUM writes through nodes 1 and 2, node 3 is cut off from both
 * (blackhole routes both ways: its tables port, its controller-quorum and heartbeat traffic, its
 * Kafka listener; the test's clients on the host still reach it). The other two fence it and go on
 * (a write at ALL through node 1 is refused with 503 once it is fenced); node 3 alone cannot take a
 * QUORUM write. Every acknowledged write reads back at QUORUM on the majority side; after healing,
 * the hints held for node 3 are delivered, every acknowledged write reads back at QUORUM through
 * node 3 as well, and after a repair from each node the three replicas' digests are identical.
 */
class TablesPartitionTest {
    private static final int NODES = 3;

    @TempDir
    Path tmp;

    @Test
    void quorumWritesGoOnThroughAPartitionAndTheCutOffNodeCatchesUpAfterHealing() throws Exception {
        try (NetworkNamespaces network = NetworkNamespaces.createOrSkip(NODES)) {
            // Every node has an address of its own, so all may use the same HTTP port.
            int httpPort = SpateProcess.freePort();
            Map<Integer, String> base = new HashMap<>();
            for (int id = 1; id <= NODES; id++) {
                base.put(id, "http://" + network.address(id) + ":" + httpPort);
            }
            try (SpateCluster cluster = new SpateCluster(tmp, NODES, Map.of(), id -> Map.of("http.port", String.valueOf(httpPort)),
                    network::address, network::prefix)) {
                cluster.start();
                Map<Integer, TablesClient> clients = new HashMap<>();
                for (int id = 1; id <= NODES; id++) {
                    clients.put(id, TablesClient.of(List.of(base.get(id)), Duration.ofSeconds(10)));
                }
                clients.get(1).create(TABLE, 3, Map.of("durability", "batched:5"));
                for (int id = 1; id <= NODES; id++) {
                    int node = id;
                    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
                            clients.get(node).put(TABLE, "probe-" + node, new byte[]{1}, Consistency.ALL, 0) > 0);
                }

                // Node 3 cut off under QUORUM writes through nodes 1 and 2.
                Map<String, String> acknowledged = writeUnderFault("p", List.of(base.get(1), base.get(2)), () -> {
                    cluster.mark("partition: node 3 cut off from nodes 1 and 2");
                    network.isolate(3);
                });
                readBack(acknowledged, List.of(clients.get(1), clients.get(2)));
                // The majority fences node 3 (its heartbeats no longer reach the controller quorum): ALL
                // is then refused at once, nothing sent.
                AtomicInteger timeouts = new AtomicInteger();
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    try {
                        clients.get(1).put(TABLE, "at-all", new byte[]{1}, Consistency.ALL, 0);
                        throw new AssertionError("a write at ALL succeeded with a replica cut off");
                    } catch (TablesClient.TablesException e) {
                        if (e.status() == 504) {
                            timeouts.incrementAndGet();
                        }
                        return e.status() == 503 && e.getMessage().contains("UNAVAILABLE: fewer than 3 of the key's 3 replicas are live");
                    }
                });
                log("tables: a write at ALL through node 1 refused with 503 once node 3 was fenced (" + timeouts.get() + " timed out before)");
                // The minority side cannot make a quorum: node 3's write is refused or times out (it may
                // still be applied on node 3 alone, and then travels as node 3's hints once healed).
                try {
                    clients.get(3).put(TABLE, "minority", new byte[]{3}, Consistency.QUORUM, 0);
                    throw new AssertionError("node 3 acknowledged a QUORUM write while cut off");
                } catch (TablesClient.TablesException e) {
                    log("tables: a QUORUM write through node 3 while cut off: " + e.status() + " " + e.getMessage());
                    assertThat(e.status()).isIn(503, 504);
                }
                long hintsHeld = hintsPending(base.get(1)) + hintsPending(base.get(2));
                assertThat(hintsHeld).as("hints held for node 3").isPositive();

                cluster.mark("partition healed");
                network.healAll();
                await("hints delivered").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                        .until(() -> hintsPending(base.get(1)) + hintsPending(base.get(2)) + hintsPending(base.get(3)) == 0);
                log("tables: " + hintsHeld + " hints held for node 3 on nodes 1 and 2, delivered after healing");
                // Node 3 coordinates again, and its reads at QUORUM meet every acknowledged write.
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
                        clients.get(3).put(TABLE, "after-heal", new byte[]{1}, Consistency.ALL, 0) > 0);
                readBack(acknowledged, List.of(clients.get(3), clients.get(1), clients.get(2)));
                for (int id = 1; id <= NODES; id++) {
                    TablesClient.Repair repair = clients.get(id).repair(TABLE);
                    log("tables: repair from node " + id + ": " + repair);
                    assertThat(repair.abandoned()).isZero();
                }
                List<TablesClient.Replica> replicas = new ArrayList<>();
                for (int id = 1; id <= NODES; id++) {
                    replicas.add(clients.get(id).replica(TABLE));
                }
                log("tables: replicas after the partition " + replicas);
                assertThat(replicas.getFirst().keys()).isGreaterThanOrEqualTo(acknowledged.size());
                assertThat(replicas).allSatisfy(r -> assertThat(r).isEqualTo(replicas.getFirst()));
                clients.values().forEach(TablesClient::close);
            }
        }
    }
}
