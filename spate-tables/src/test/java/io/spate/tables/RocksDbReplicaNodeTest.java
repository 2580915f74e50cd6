package io.spate.tables;

import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The protocol over RocksDB stores, cells and hints, with restarts that reopen them: what the
 * simulation does with the in-memory store, here with the real one (no power loss: RocksDB's own
 * recovery is RocksDB's business; a restart here is a clean stop or a kill, which keeps the WAL).
 */
class RocksDbReplicaNodeTest {
    @TempDir
    Path dir;
    private final ManualScheduler scheduler = new ManualScheduler();
    private final TableConfig table = new TableConfig("t", 3, Consistency.QUORUM, Consistency.QUORUM,
            Durability.batched(5), 2_000, false);
    private final NodeSettings settings = new NodeSettings(16, 100, 1000, 50, 100, 20, 6, 10_000, 200, 60_000);
    private final Map<String, ReplicaNode> nodes = new HashMap<>();
    private final Map<String, List<TableStore>> stores = new HashMap<>();
    private final Set<String> down = new HashSet<>();
    private final List<String> ids = List.of("n1", "n2", "n3", "n4");
    private long epoch;
    private long incarnation;

    private void start(String id) {
        TableStore cells = new RocksDbTableStore(dir.resolve(id).resolve("t"), table.durability(), scheduler);
        TableStore hintCells = new RocksDbTableStore(dir.resolve(id).resolve("hints"), table.durability(), scheduler);
        HintStore hints = new HintStore(hintCells, scheduler, 10_000, 1_500, 20_000);
        ReplicaNode node = new ReplicaNode(id, ++incarnation, scheduler, scheduler, (to, env) -> {
            if (!down.contains(to) && !down.contains(env.from())) {
                scheduler.schedule(1, () -> nodes.get(to).receive(env));
            }
        }, hints, settings);
        node.addTable(table, cells);
        nodes.put(id, node);
        stores.put(id, List.of(cells, hintCells));
        down.remove(id);
        node.onMembership(membership());
        node.start();
    }

    private void stop(String id) {
        nodes.get(id).stop();
        stores.get(id).forEach(TableStore::close);
        down.add(id);
    }

    private Membership membership() {
        Set<String> live = new TreeSet<>(ids);
        live.removeAll(down);
        return new Membership(++epoch, new TreeSet<>(ids), live);
    }

    private void publish() {
        Membership m = membership();
        ids.stream().filter(id -> !down.contains(id)).forEach(id -> nodes.get(id).onMembership(m));
    }

    @AfterEach
    void closeAll() {
        ids.stream().filter(id -> !down.contains(id)).forEach(this::stop);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aNodeReopeningItsStoresOnAClockThatSteppedBackStillWritesOverWhatTheyHold() {
        down.addAll(ids); // a node of its own, none of the cluster's
        TableConfig one = new TableConfig("one", 1, Consistency.ONE, Consistency.ONE, Durability.SYNC_EACH, 60_000, false);
        io.spate.time.Time tenSecondsBack = new io.spate.time.Time() {
            @Override
            public long millis() {
                return scheduler.millis() - 10_000;
            }

            @Override
            public long nanos() {
                return scheduler.nanos();
            }
        };
        List<ReadResult> reads = new ArrayList<>();
        List<WriteResult> writes = new ArrayList<>();
        for (io.spate.time.Time clock : List.<io.spate.time.Time>of(scheduler, tenSecondsBack)) {
            TableStore cells = new RocksDbTableStore(dir.resolve("solo").resolve("one"), one.durability(), scheduler);
            TableStore hintCells = new RocksDbTableStore(dir.resolve("solo").resolve("hints"), one.durability(), scheduler);
            ReplicaNode node = new ReplicaNode("solo", ++incarnation, scheduler, clock, (to, env) -> { },
                    new HintStore(hintCells, clock, 10_000, 1_500, 20_000), settings);
            node.addTable(one, cells);
            node.onMembership(new Membership(1, new TreeSet<>(Set.of("solo")), Set.of("solo")));
            node.start();
            node.put("one", b("k"), b(clock == scheduler ? "v1" : "v2"), Consistency.ONE, 0, writes::add);
            scheduler.advance(10);
            node.get("one", b("k"), Consistency.ONE, reads::add);
            scheduler.advance(10);
            node.stop();
            cells.close();
            hintCells.close();
        }
        assertThat(writes).extracting(WriteResult::ok).containsExactly(true, true);
        assertThat(reads).extracting(ReadResult::value).containsExactly(b("v1"), b("v2"));
    }

    @Test
    void hintsSurviveTheStandInsRestartAndDeletesAreCollectedEverywhere() {
        ids.forEach(this::start);
        stop("n4");
        publish();
        List<WriteResult> results = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            nodes.get(ids.get(i % 3)).put("t", b("k" + i), b("v" + i), Consistency.QUORUM, 0, results::add);
        }
        scheduler.advance(300);
        assertThat(results).hasSize(200).allMatch(WriteResult::ok);
        long hinted = ids.subList(0, 3).stream().mapToLong(id -> nodes.get(id).hints().pending("n4")).sum();
        assertThat(hinted).isPositive();

        for (String id : ids.subList(0, 3)) { // every stand-in restarts: its hints come back from disk
            stop(id);
            start(id);
        }
        assertThat(ids.subList(0, 3).stream().mapToLong(id -> nodes.get(id).hints().pending("n4")).sum()).isEqualTo(hinted);

        start("n4");
        publish();
        scheduler.advance(500);
        ReplicaNode any = nodes.get("n1");
        long n4Owns = 0;
        for (int i = 0; i < 200; i++) {
            if (any.ring().preferenceList(TokenRing.token(b("k" + i)), 3).contains("n4")) {
                n4Owns++;
                assertThat(stores.get("n4").get(0).get(b("k" + i))).isEqualTo(
                        stores.get(any.ring().preferenceList(TokenRing.token(b("k" + i)), 3).stream()
                                .filter(n -> !n.equals("n4")).findFirst().orElseThrow()).get(0).get(b("k" + i)));
            }
        }
        assertThat(stores.get("n4").get(0).size()).isEqualTo(n4Owns);

        List<WriteResult> deletes = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            nodes.get(ids.get(i % 4)).delete("t", b("k" + i), Consistency.ALL, 0, deletes::add);
        }
        scheduler.advance(100);
        assertThat(deletes).hasSize(200).allMatch(WriteResult::ok);
        scheduler.advance(table.tombstoneGraceMs() + 2 * settings.gcIntervalMs());
        for (String id : ids) {
            assertThat(stores.get(id).get(0).size()).as(id).isZero();
        }
        assertThat(ids.stream().mapToLong(id -> nodes.get(id).metrics().tombstonesPurged()).sum()).isEqualTo(600);
    }
}
