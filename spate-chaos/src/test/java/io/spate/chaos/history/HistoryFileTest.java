package io.spate.chaos.history;

import io.spate.chaos.check.HistoryBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.spate.chaos.check.HistoryBuilder.SECOND;
import static org.assertj.core.api.Assertions.assertThat;

class HistoryFileTest {

    @TempDir
    Path dir;

    @Test
    void roundTripKeepsEverything() {
        HistoryBuilder b = HistoryBuilder.clean();
        b.nodes = List.of(1, 2, 3, 4, 5);
        b.voters = List.of(1, 2, 3);
        b.replicas.put(0, List.of(3, 1, 5));
        b.fault("partition", List.of(), List.of(new NodeFault.Cut(1, 2), new NodeFault.Cut(2, 1)), 2 * SECOND, 3 * SECOND);
        b.faults.add(new NodeFault("disk-full", "node 2\tdisk\nfull \\ 100%", List.of(2), List.of(), 5, 6));
        b.writes.add(new Write(3, 1, 0, "w-3-1-0", 10, 20, Write.Outcome.INDETERMINATE, -1,
                "org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s)\n\tat x\r\n \\N"));
        b.commits.add(new Commit("c2", 1, 0, 5, 100, 200, false, "CommitFailedException:\tfenced"));
        b.assignments.add(new Assignment("c2", 1, 0, false, -1, false, 300));
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(350, 0, 3, List.of(3, 1), List.of(5), List.of(3, 1, 5)));
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(360, 0, -1, List.of(), List.of()));
        b.metadataLogs.add(new MetadataLogEntry(2, 7, 41, 3, 0xfedcba98L));
        b.metadataLogs.add(new MetadataLogEntry(3, 8, 41, 3, 0xfedcba98L));
        b.voterProgress.add(new io.spate.chaos.history.VoterProgress(2, 3_000_123, 41));
        b.reads.add(new Read("c 3", 2, 1, 0, "\\N", 400)); // a value that looks like the null marker
        b.finalLog.get(1).set(3, null); // a hole
        b.finalLog.put(2, new ArrayList<>()); // a partition with an empty final log
        b.logStart.put(2, 7L);
        b.finalLog.put(3, new ArrayList<>(Arrays.asList("x", null, null))); // trailing holes
        b.logStart.put(3, 100L);
        b.finalCommitted.put(3, 101L);
        b.bounds = new RunHistory.Bounds(7_000_000, 12_000_000);
        b.seed = -8_123_456_789L;
        RunHistory h = b.build();

        Path file = dir.resolve("history.tsv");
        HistoryFile.write(h, file);
        RunHistory back = HistoryFile.read(file);

        assertThat(back).isEqualTo(h);
    }

    @Test
    void fileIsOneTabSeparatedItemPerLine() throws Exception {
        HistoryBuilder b = new HistoryBuilder().partitions(1);
        b.ack(1, 0, 2 * SECOND);
        b.faults.add(new NodeFault("kill", "kill -9 node 2", List.of(2), List.of(), 5, 6));
        Path file = dir.resolve("history.tsv");
        HistoryFile.write(b.build(), file);
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).contains("seed\t42", "node\t1", "voter\t3", "replicas\t0\t1,2,3",
                "fault\tkill\tkill -9 node 2\t2\t-\t5\t6",
                "write\t1\t0\t0\tw-1-0-0\t1998000\t2000000\tOK\t0\t",
                "logstart\t0\t0\t1", "final\t0\t0\tw-1-0-0");
    }

    @Test
    void pipelineRoundTrips() throws Exception {
        HistoryBuilder b = HistoryBuilder.clean();
        b.txn = new TxnHistory(2, List.of(
                new Txn("t1", 1, 1, Txn.Outcome.COMMITTED, 100, 200, List.of(new Txn.InputRange(0, 0, 9), new Txn.InputRange(1, 3, 3)), ""),
                new Txn("t2", 3, 7, Txn.Outcome.UNKNOWN, 300, 400, List.of(), "TimeoutException: x\ty\n")),
                java.util.Map.of(0, 10L, 1, 4L),
                java.util.Map.of(0, 0L, 1, 5L),
                java.util.Map.of(0, Arrays.asList("0@0 w-1-0-0 t1.1.1", null), 1, Arrays.asList((String) null)),
                java.util.Map.of(0, Arrays.asList("0@0 w-1-0-0 t1.1.1", null, "0@1 w-1-0-1 t2.3.7"), 1, Arrays.asList("1@3 w-2-1-1 t1.1.1")));
        RunHistory h = b.build();
        Path file = dir.resolve("history.tsv");
        HistoryFile.write(h, file);

        assertThat(HistoryFile.read(file)).isEqualTo(h);
        assertThat(Files.readAllLines(file)).contains("pipeline\t2", "txn\tt1\t1\t1\tCOMMITTED\t100\t200\t0:0-9,1:3-3\t",
                "txninput\t1\t4", "outlog\t0\t0\t2\t3", "outlog\t1\t5\t6\t6",
                "out\t0\t0\t0@0 w-1-0-0 t1.1.1\t0@0 w-1-0-0 t1.1.1", "out\t0\t2\t0@1 w-1-0-1 t2.3.7\t\\N");
    }

    @Test
    void historyWithoutThePipelineReadsBackWithout() {
        Path file = dir.resolve("history.tsv");
        HistoryFile.write(HistoryBuilder.clean().build(), file);
        assertThat(HistoryFile.read(file).txn()).isEqualTo(TxnHistory.NONE);
        assertThat(HistoryFile.read(file).mirror()).isEqualTo(MirrorHistory.NONE);
    }

    @Test
    void mirrorsRoundTrip() throws Exception {
        HistoryBuilder b = HistoryBuilder.clean();
        b.mirror = new MirrorHistory(List.of(
                new MirrorHistory.Mirror("m-eos", true, new java.util.TreeMap<>(java.util.Map.of(0, List.of("w-1-0-0", "w-2-0-0"), 1, List.of())),
                        List.of(new MirrorHistory.TaskSeen(0, 1, "RUNNING", 1), new MirrorHistory.TaskSeen(1, -1, "-", 2))),
                new MirrorHistory.Mirror("m-alos", false, new java.util.TreeMap<>(java.util.Map.of(1, List.of("a\tb"))), List.of())),
                List.of(new MirrorHistory.Count("c-eos", "rocksdb", new java.util.TreeMap<>(java.util.Map.of(2, List.of("w-1=1", "w-1=2"))))));
        RunHistory h = b.build();
        Path file = dir.resolve("history.tsv");
        HistoryFile.write(h, file);

        RunHistory back = HistoryFile.read(file);
        assertThat(back.mirror().mirrors()).hasSize(2);
        assertThat(back.mirror().mirrors().get(0).output()).containsEntry(0, List.of("w-1-0-0", "w-2-0-0"));
        assertThat(back.mirror().mirrors().get(0).tasks()).isEqualTo(h.mirror().mirrors().get(0).tasks());
        assertThat(back.mirror().mirrors().get(1).output()).containsEntry(1, List.of("a\tb"));
        assertThat(back.mirror().counts()).isEqualTo(h.mirror().counts());
        assertThat(Files.readAllLines(file)).contains("mirror\tm-eos\texactly_once", "mirrortask\tm-eos\t1\t-1\t-\t2",
                "mirrorout\tm-eos\t0\tw-2-0-0", "mirror\tm-alos\tat_least_once");
    }

    @Test
    void largeHistoryRoundTripsQuickly() {
        HistoryBuilder b = new HistoryBuilder().partitions(4);
        for (int i = 0; i < 50_000; i++) {
            b.ack(i % 7, i % 4, SECOND + i * 100L);
        }
        for (int p = 0; p < 4; p++) {
            b.consumeAll("c" + p, p, SECOND, 20 * SECOND);
        }
        RunHistory h = b.build();
        Path file = dir.resolve("big.tsv");
        long start = System.nanoTime();
        HistoryFile.write(h, file);
        RunHistory back = HistoryFile.read(file);
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(back).isEqualTo(h);
        assertThat(ms).as("write + read of ~150k lines, ms").isLessThan(10_000);
    }

    @Test
    void escapingRoundTrips() {
        for (String s : List.of("", "plain", "\\", "\\N", "a\tb", "a\nb\r", "\\t", "trailing\\")) {
            assertThat(HistoryFile.unesc(HistoryFile.esc(s))).isEqualTo(s);
            assertThat(HistoryFile.esc(s)).doesNotContain("\t", "\n", "\r");
        }
        assertThat(HistoryFile.unesc(HistoryFile.esc(null))).isNull();
    }
}
