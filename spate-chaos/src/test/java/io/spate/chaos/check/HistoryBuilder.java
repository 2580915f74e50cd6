package io.spate.chaos.check;

import io.spate.chaos.history.Assignment;
import io.spate.chaos.history.Commit;
import io.spate.chaos.history.NodeFault;
import io.spate.chaos.history.Read;
import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.Write;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Small synthetic histories for checker tests. Everything is mutable so that a test starts from
 * a clean run and breaks exactly one thing. Times are microseconds.
 */
public final class HistoryBuilder {

    public static final long SECOND = 1_000_000;

    public long seed = 42;
    public List<Integer> nodes = List.of(1, 2, 3);
    public List<Integer> voters = List.of(1, 2, 3);
    public final Map<Integer, List<Integer>> replicas = new TreeMap<>();
    public final List<NodeFault> faults = new ArrayList<>();
    public final List<Write> writes = new ArrayList<>();
    public final List<Read> reads = new ArrayList<>();
    public final List<Commit> commits = new ArrayList<>();
    public final List<Assignment> assignments = new ArrayList<>();
    public final List<io.spate.chaos.history.ReplicaStatus> statuses = new ArrayList<>();
    public final Map<Integer, List<String>> finalLog = new TreeMap<>();
    public final Map<Integer, Long> logStart = new TreeMap<>();
    public final Map<Integer, Long> finalCommitted = new TreeMap<>();
    public final List<io.spate.chaos.history.MetadataLogEntry> metadataLogs = new ArrayList<>();
    public final List<io.spate.chaos.history.VoterProgress> voterProgress = new ArrayList<>();
    public io.spate.chaos.history.TxnHistory txn = io.spate.chaos.history.TxnHistory.NONE;
    public io.spate.chaos.history.MirrorHistory mirror = io.spate.chaos.history.MirrorHistory.NONE;
    public RunHistory.Bounds bounds = new RunHistory.Bounds(5 * SECOND, 10 * SECOND);
    public long workloadStartUs = SECOND;
    public long healedUs = SECOND;
    public long endUs = 11 * SECOND;
    private final Map<Long, Long> nextSeq = new HashMap<>();

    public HistoryBuilder partitions(int n) {
        for (int p = 0; p < n; p++) {
            replicas.put(p, List.of(1, 2, 3));
            finalLog.put(p, new ArrayList<>());
            logStart.put(p, 0L);
        }
        return this;
    }

    /** A write acknowledged at {@code doneUs} (sent 2 ms earlier), appended to the final log. */
    public Write ack(int producer, int partition, long doneUs) {
        long seq = nextSeq(producer, partition);
        String value = value(producer, partition, seq);
        List<String> log = finalLog.get(partition);
        Write w = new Write(producer, partition, seq, value, doneUs - 2000, doneUs, Write.Outcome.OK,
                logStart.get(partition) + log.size(), "");
        log.add(value);
        writes.add(w);
        return w;
    }

    /** A write that was not acknowledged and is not in the final log. */
    public Write attempt(int producer, int partition, Write.Outcome outcome, long doneUs) {
        long seq = nextSeq(producer, partition);
        Write w = new Write(producer, partition, seq, value(producer, partition, seq), doneUs - 2000, doneUs, outcome,
                -1, "TimeoutException: expired");
        writes.add(w);
        return w;
    }

    public static String value(int producer, int partition, long seq) {
        return "w-" + producer + "-" + partition + "-" + seq;
    }

    private long nextSeq(int producer, int partition) {
        return nextSeq.merge(((long) producer << 32) | partition, 1L, Long::sum) - 1;
    }

    /** {@code consumer} is assigned {@code partition} at its log start and reads it all, in order. */
    public void consumeAll(String consumer, int partition, long assignedUs, long readUs) {
        assignments.add(new Assignment(consumer, 0, partition, true, logStart.get(partition), false, assignedUs));
        List<String> log = finalLog.get(partition);
        for (int i = 0; i < log.size(); i++) {
            reads.add(new Read(consumer, 0, partition, logStart.get(partition) + i, log.get(i), readUs + i));
        }
    }

    public Commit commit(String consumer, int partition, long offset, long sentUs, long doneUs) {
        Commit c = new Commit(consumer, 0, partition, offset, sentUs, doneUs, true, "");
        commits.add(c);
        return c;
    }

    public NodeFault fault(String kind, List<Integer> down, List<NodeFault.Cut> cuts, long startUs, long endUs) {
        NodeFault f = new NodeFault(kind, kind + " " + down + " " + cuts, down, cuts, startUs, endUs);
        faults.add(f);
        healedUs = Math.max(healedUs, endUs);
        return f;
    }

    /**
     * A clean run: 2 partitions, producers 1 and 2 each ack a write to each partition every
     * 100 ms from 1 s to 11 s, node 3 killed from 4 s to 6 s (a majority stays up), consumer c1
     * reads everything and commits the end.
     */
    public static HistoryBuilder clean() {
        HistoryBuilder b = new HistoryBuilder().partitions(2);
        for (long t = SECOND + 100_000; t <= 11 * SECOND; t += 100_000) {
            for (int p = 0; p < 2; p++) {
                b.ack(1, p, t);
                b.ack(2, p, t + 10_000);
            }
        }
        b.fault("kill", List.of(3), List.of(), 4 * SECOND, 6 * SECOND);
        for (int p = 0; p < 2; p++) {
            b.consumeAll("c1", p, SECOND, 12 * SECOND);
            long end = b.finalLog.get(p).size();
            b.commit("c1", p, end / 2, 12 * SECOND, 12 * SECOND + 500);
            b.commit("c1", p, end, 13 * SECOND, 13 * SECOND + 500);
            b.finalCommitted.put(p, end);
        }
        return b;
    }

    public RunHistory build() {
        return new RunHistory(seed, nodes, voters, replicas, faults, writes, reads, commits, assignments, statuses, finalLog,
                logStart, finalCommitted, bounds, workloadStartUs, healedUs, endUs, metadataLogs, voterProgress, txn, mirror);
    }
}
