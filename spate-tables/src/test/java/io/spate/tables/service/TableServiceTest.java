package io.spate.tables.service;

import io.spate.tables.Consistency;
import io.spate.tables.NodeSettings;
import io.spate.tables.ReadResult;
import io.spate.tables.RepairResult;
import io.spate.tables.TableConfig;
import io.spate.tables.WriteResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Three services on 127.0.0.1 with RocksDB under temp dirs: the network, the stores, a restart, a repair. */
class TableServiceTest {
    @TempDir
    Path dir;
    private final Map<String, TableService> services = new HashMap<>();
    /** Members stay members while down, as registered nodes stay in the cluster metadata when fenced. */
    private final Map<String, TableService.Endpoint> members = new HashMap<>();
    /** A 10 s request timeout: the first writes (connections, stores warming up) timed out at 1 s on a loaded machine. */
    private final NodeSettings settings = new NodeSettings(16, 10_000, 1_000, 100, 100, 60_000, 6, 1_000, 60_000, 60_000);
    private final TableConfig table = TableSettings.parse("t", Map.of(TableSettings.REPLICATION_FACTOR, "3"));
    private long epoch;

    @AfterEach
    void closeAll() {
        services.values().forEach(TableService::close);
    }

    private TableService start(String id) {
        TableService s = TableService.start(id, System.currentTimeMillis(), dir.resolve(id), "127.0.0.1", 0, settings,
                TableService.HintSettings.defaults());
        services.put(id, s);
        members.put(id, new TableService.Endpoint("127.0.0.1", s.port()));
        return s;
    }

    private void publish(Set<String> live) {
        TableService.View view = new TableService.View(++epoch, members, live, Map.of("t", table));
        services.forEach((id, s) -> {
            if (live.contains(id)) { // a node that is down hears nothing
                s.apply(view);
            }
        });
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void writesReadsRestartsAndRepairsOverTheNetwork() throws Exception {
        for (String id : List.of("n1", "n2", "n3")) {
            start(id);
        }
        publish(Set.of("n1", "n2", "n3"));
        services.get("n1").awaitTable("t").get(10, TimeUnit.SECONDS);
        for (TableService s : services.values()) {
            s.awaitTable("t").get(10, TimeUnit.SECONDS);
        }
        List<WriteResult> writes = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            writes.add(services.get("n" + (1 + i % 3)).put("t", b("k" + i), b("v" + i), Consistency.QUORUM, 0).get(10, TimeUnit.SECONDS));
        }
        assertThat(writes).allMatch(WriteResult::ok);
        ReadResult read = services.get("n2").get("t", b("k7"), Consistency.ALL).get(10, TimeUnit.SECONDS);
        assertThat(new String(read.value(), StandardCharsets.UTF_8)).isEqualTo("v7");
        assertThatThrownBy(() -> services.get("n1").get("nope", b("k"), null))
                .isInstanceOf(TableService.UnknownTableException.class);

        // n3 stops; writes at QUORUM go on, hinted for it; it restarts with its data and gets them.
        long firstIncarnation = services.get("n3").incarnation();
        services.remove("n3").close();
        publish(Set.of("n1", "n2"));
        for (int i = 100; i < 200; i++) {
            assertThat(services.get("n" + (1 + i % 2)).put("t", b("k" + i), b("v" + i), Consistency.QUORUM, 0).get(10, TimeUnit.SECONDS).ok())
                    .isTrue();
        }
        assertThat(services.get("n1").hintsPending().get() + services.get("n2").hintsPending().get()).isPositive();
        TableService n3 = start("n3");
        assertThat(n3.incarnation()).isGreaterThan(firstIncarnation);
        publish(Set.of("n1", "n2", "n3"));
        n3.awaitTable("t").get(10, TimeUnit.SECONDS);
        assertThat(n3.scan("t").get().size()).isGreaterThanOrEqualTo(100);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                .until(() -> services.get("n1").hintsPending().get() + services.get("n2").hintsPending().get() == 0);
        for (TableService s : services.values()) {
            RepairResult repaired = s.repair("t").get(30, TimeUnit.SECONDS);
            assertThat(repaired.abandoned()).isZero();
        }
        // RF 3 on 3 nodes: every replica holds every key, identical.
        List<String> digests = new ArrayList<>();
        for (String id : List.of("n1", "n2", "n3")) {
            StringBuilder sb = new StringBuilder();
            services.get(id).scan("t").get().forEach(kc -> sb.append(new String(kc.key(), StandardCharsets.UTF_8)).append('=')
                    .append(kc.cell()).append(kc.cell().digest()).append(';'));
            digests.add(sb.toString());
        }
        assertThat(services.get("n1").scan("t").get()).hasSize(200);
        // The figures computed slice by slice agree with the copy of the whole replica.
        for (TableService s : services.values()) {
            List<io.spate.tables.TableMessage.KeyCell> cells = s.scan("t").get();
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            java.nio.ByteBuffer fixed = java.nio.ByteBuffer.allocate(17);
            long tombstones = 0;
            for (var kc : cells) {
                tombstones += kc.cell().tombstone() ? 1 : 0;
                fixed.clear();
                fixed.putInt(kc.key().length).putLong(kc.cell().hlc()).put((byte) (kc.cell().tombstone() ? 1 : 0))
                        .putInt(kc.cell().value().length);
                sha.update(fixed.array(), 0, 17);
                sha.update(kc.key());
                sha.update(kc.cell().value());
            }
            TableService.ReplicaSummary summary = s.replica("t").get(30, TimeUnit.SECONDS);
            assertThat(summary.keys()).isEqualTo(cells.size());
            assertThat(summary.tombstones()).isEqualTo(tombstones);
            assertThat(summary.digest()).isEqualTo(java.util.HexFormat.of().formatHex(sha.digest()));
        }
        assertThat(digests.get(1)).isEqualTo(digests.get(0));
        assertThat(digests.get(2)).isEqualTo(digests.get(0));
    }

    @Test
    void pastTheQueueBoundClientRequestsAreRefusedAndAcceptedAgainOnceItDrains() throws Exception {
        TableConfig one = TableSettings.parse("t", Map.of(TableSettings.REPLICATION_FACTOR, "1"));
        TableService s = TableService.start("n1", System.currentTimeMillis(), dir.resolve("n1"), "127.0.0.1", 0, settings,
                TableService.HintSettings.defaults(), new TableService.QueueLimits(10, 1L << 20));
        services.put("n1", s);
        s.apply(new TableService.View(1, Map.of("n1", new TableService.Endpoint("127.0.0.1", s.port())), Set.of("n1"), Map.of("t", one)));
        s.awaitTable("t").get(30, TimeUnit.SECONDS);
        // Hold the tables' thread, as a slow disk would, so that requests queue behind it.
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
        var held = s.metrics(m -> {
            holding.countDown();
            try {
                return release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(holding.await(30, TimeUnit.SECONDS)).isTrue(); // taken off the queue: only the writes count now
        List<java.util.concurrent.CompletableFuture<WriteResult>> writes = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            writes.add(s.put("t", b("k" + i), b("v"), Consistency.ONE, 0));
        }
        assertThat(s.queued()[0]).isLessThanOrEqualTo(10);
        // Refused at once, without waiting for the thread.
        assertThat(writes.subList(10, 30)).allSatisfy(w -> assertThat(w.getNow(null)).isNotNull()
                .extracting(WriteResult::status).isEqualTo(WriteResult.Status.OVERLOADED));
        assertThatThrownBy(() -> s.hintsPending().get(1, TimeUnit.SECONDS))
                .hasCauseInstanceOf(TableService.OverloadedException.class);
        release.countDown();
        assertThat(held.get(30, TimeUnit.SECONDS)).isTrue();
        for (var w : writes.subList(0, 10)) {
            assertThat(w.get(30, TimeUnit.SECONDS).ok()).isTrue();
        }
        assertThat(s.put("t", b("after"), b("v"), Consistency.ONE, 0).get(30, TimeUnit.SECONDS).ok()).isTrue();
        assertThat(s.queued()[0]).isZero();
    }

    @Test
    void aStoreThatCannotOpenFailsItsWaitersAndIsRetriedUntilItOpens() throws Exception {
        TableConfig one = TableSettings.parse("t", Map.of(TableSettings.REPLICATION_FACTOR, "1"));
        // A file where the table's directory goes: RocksDB cannot open it (whatever the user's rights).
        Path blocker = dir.resolve("n1").resolve("data").resolve("t");
        java.nio.file.Files.createDirectories(blocker.getParent());
        java.nio.file.Files.writeString(blocker, "not a directory");
        TableService s = start("n1");
        var waiting = s.awaitTable("t"); // as a create waits for its table
        TableService.View view = new TableService.View(1, Map.of("n1", new TableService.Endpoint("127.0.0.1", s.port())),
                Set.of("n1"), Map.of("t", one));
        s.apply(view);
        assertThatThrownBy(() -> waiting.get(30, TimeUnit.SECONDS))
                .isInstanceOf(java.util.concurrent.ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class);
        assertThat(s.notServing("t")).contains("could not be opened");
        assertThatThrownBy(() -> s.awaitTable("t").get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
        // The cause goes away: a retry (not a new view) opens the store.
        java.nio.file.Files.delete(blocker);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> s.tables().containsKey("t"));
        assertThat(s.notServing("t")).isNull();
        assertThat(s.put("t", b("k"), b("v"), Consistency.ONE, 0).get(30, TimeUnit.SECONDS).ok()).isTrue();
    }
}
