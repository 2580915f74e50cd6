package io.spate.chaos.history;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's history as a text file a person can grep: one item per line, tab separated, the first
 * column saying what the line is. Strings escape backslash, tab, CR and newline as {@code \\},
 * {@code \t}, {@code \r}, {@code \n}; a missing string (a hole in a final log) is {@code \N}.
 *
 * <pre>
 * seed      SEED
 * node      ID                                  (one line per node)
 * voter     ID
 * replicas  PARTITION  ID,ID,ID
 * bounds    MAX_STALL_US  MAX_RECOVERY_US
 * times     WORKLOAD_START_US  HEALED_US  END_US
 * fault     KIND  DESCRIPTION  DOWN_IDS  CUTS(from>to,...)  START_US  END_US
 * write     PRODUCER  PARTITION  SEQ  VALUE  SENT_US  DONE_US  OUTCOME  OFFSET  ERROR
 * read      CONSUMER  INCARNATION  PARTITION  OFFSET  VALUE  AT_US
 * commit    CONSUMER  INCARNATION  PARTITION  OFFSET  SENT_US  DONE_US  OK  ERROR
 * assign    CONSUMER  INCARNATION  PARTITION  ASSIGNED  POSITION  FROM_COMMIT  AT_US
 * status    PARTITION  LEADER  ISR_IDS  ELR_IDS  AT_US   (the cluster's account, when it changed)
 * logstart  PARTITION  LOG_START  LENGTH          (LENGTH: records in the final log, or - if none was read)
 * final     PARTITION  OFFSET  VALUE               (one line per offset of the final log)
 * committed PARTITION  OFFSET
 * raft      NODE  VIEW  INDEX  TERM  CRC32C_HEX    (one entry of one read of a voter's Raft log)
 * raftpos   NODE  AT_US  LAST_INDEX               (how far a voter's Raft log reached at one read)
 * pipeline  MEMBERS                              (the exactly-once pipeline ran; the lines below are its)
 * txn       MEMBER  INCARNATION  NUMBER  OUTCOME  BEGIN_US  END_US  INPUTS  ERROR   (INPUTS: P:FIRST-LAST,...)
 * txninput  PARTITION  OFFSET                     (the pipeline group's committed input offset at the end)
 * outlog    PARTITION  LOG_START  LSO  HW         (the output partition at the end)
 * out       PARTITION  OFFSET  READ_UNCOMMITTED  READ_COMMITTED   (an output offset either read has a record at)
 * mirror    NAME  GUARANTEE                      (a mirror pipeline at the data ran: exactly_once | at_least_once)
 * mirrortask NAME  PARTITION  NODE  STATE  LEADER  (its task of an input partition as last described)
 * mirrorout NAME  PARTITION  VALUE                (its output's records, in offset order)
 * count     NAME  STATE_STORE                    (the count per writer ran: in_memory | rocksdb)
 * countout  NAME  PARTITION  VALUE                (its output's records, in offset order)
 * </pre>
 *
 * Lines starting with {@code #} and empty lines are ignored.
 */
public final class HistoryFile {

    private static final String FORMAT = "# spate chaos history v1";
    private static final String NULL = "\\N";

    private HistoryFile() {
    }

    public static void write(RunHistory h, Path file) {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            write(h, out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static RunHistory read(Path file) {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(in, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    static void write(RunHistory h, Writer out) throws IOException {
        out.write(FORMAT + "\n");
        line(out, "seed", h.seed());
        for (int n : h.nodes()) {
            line(out, "node", n);
        }
        for (int v : h.voters()) {
            line(out, "voter", v);
        }
        for (Map.Entry<Integer, List<Integer>> e : new TreeMap<>(h.replicas()).entrySet()) {
            line(out, "replicas", e.getKey(), ids(e.getValue()));
        }
        line(out, "bounds", h.bounds().maxStallUs(), h.bounds().maxRecoveryUs());
        line(out, "times", h.workloadStartUs(), h.healedUs(), h.endUs());
        for (NodeFault f : h.faults()) {
            line(out, "fault", esc(f.kind()), esc(f.description()), ids(f.down()), cuts(f.cuts()), f.startUs(), f.endUs());
        }
        for (Write w : h.writes()) {
            line(out, "write", w.producer(), w.partition(), w.seq(), esc(w.value()), w.sentUs(), w.doneUs(),
                    w.outcome(), w.offset(), esc(w.error()));
        }
        for (Read r : h.reads()) {
            line(out, "read", esc(r.consumer()), r.incarnation(), r.partition(), r.offset(), esc(r.value()), r.atUs());
        }
        for (Commit c : h.commits()) {
            line(out, "commit", esc(c.consumer()), c.incarnation(), c.partition(), c.offset(), c.sentUs(), c.doneUs(),
                    c.ok(), esc(c.error()));
        }
        for (Assignment a : h.assignments()) {
            line(out, "assign", esc(a.consumer()), a.incarnation(), a.partition(), a.assigned(), a.position(),
                    a.fromCommit(), a.atUs());
        }
        for (ReplicaStatus st : h.statuses()) {
            line(out, "status", st.partition(), st.leader(), ids(st.isr()), ids(st.elr()), st.atUs(), ids(st.replicas()));
        }
        for (MetadataLogEntry e : h.metadataLogs()) {
            line(out, "raft", e.node(), e.view(), e.index(), e.term(), Long.toHexString(e.crc()));
        }
        for (VoterProgress v : h.voterProgress()) {
            line(out, "raftpos", v.node(), v.atUs(), v.lastIndex());
        }
        TreeMap<Integer, Long> starts = new TreeMap<>(h.logStart());
        for (Integer p : h.finalLog().keySet()) {
            starts.putIfAbsent(p, null);
        }
        for (Map.Entry<Integer, Long> e : starts.entrySet()) {
            List<String> log = h.finalLog().get(e.getKey());
            line(out, "logstart", e.getKey(), e.getValue() == null ? "-" : e.getValue(), log == null ? "-" : log.size());
        }
        for (Map.Entry<Integer, List<String>> e : new TreeMap<>(h.finalLog()).entrySet()) {
            long start = h.logStart().getOrDefault(e.getKey(), 0L);
            List<String> log = e.getValue();
            for (int i = 0; i < log.size(); i++) {
                line(out, "final", e.getKey(), start + i, esc(log.get(i)));
            }
        }
        for (Map.Entry<Integer, Long> e : new TreeMap<>(h.finalCommitted()).entrySet()) {
            line(out, "committed", e.getKey(), e.getValue());
        }
        writeTxn(h.txn(), out);
        writeMirrors(h.mirror(), out);
    }

    private static void writeMirrors(MirrorHistory m, Writer out) throws IOException {
        for (MirrorHistory.Mirror x : m.mirrors()) {
            line(out, "mirror", esc(x.name()), x.exactlyOnce() ? "exactly_once" : "at_least_once");
            for (MirrorHistory.TaskSeen t : x.tasks()) {
                line(out, "mirrortask", esc(x.name()), t.partition(), t.node(), esc(t.state()), t.leader());
            }
            for (Map.Entry<Integer, List<String>> e : new TreeMap<>(x.output()).entrySet()) {
                for (String v : e.getValue()) {
                    line(out, "mirrorout", esc(x.name()), e.getKey(), esc(v));
                }
            }
        }
        for (MirrorHistory.Count c : m.counts()) {
            line(out, "count", esc(c.name()), esc(c.stateStore()));
            for (Map.Entry<Integer, List<String>> e : new TreeMap<>(c.output()).entrySet()) {
                for (String v : e.getValue()) {
                    line(out, "countout", esc(c.name()), e.getKey(), esc(v));
                }
            }
        }
    }

    private static void writeTxn(TxnHistory t, Writer out) throws IOException {
        if (!t.ran()) {
            return;
        }
        line(out, "pipeline", t.members());
        for (Txn x : t.transactions()) {
            line(out, "txn", esc(x.member()), x.incarnation(), x.number(), x.outcome(), x.beginUs(), x.endUs(),
                    ranges(x.inputs()), esc(x.error()));
        }
        for (Map.Entry<Integer, Long> e : new TreeMap<>(t.committedInput()).entrySet()) {
            line(out, "txninput", e.getKey(), e.getValue());
        }
        java.util.TreeSet<Integer> partitions = new java.util.TreeSet<>(t.outputStart().keySet());
        partitions.addAll(t.readCommitted().keySet());
        partitions.addAll(t.readUncommitted().keySet());
        for (int p : partitions) {
            line(out, "outlog", p, t.outputStart().getOrDefault(p, 0L), t.lastStable(p), t.highWatermark(p));
        }
        for (int p : partitions) {
            long start = t.outputStart().getOrDefault(p, 0L);
            List<String> committed = t.readCommitted().getOrDefault(p, List.of());
            List<String> uncommitted = t.readUncommitted().getOrDefault(p, List.of());
            for (int i = 0; i < Math.max(committed.size(), uncommitted.size()); i++) {
                String u = i < uncommitted.size() ? uncommitted.get(i) : null;
                String c = i < committed.size() ? committed.get(i) : null;
                if (u != null || c != null) {
                    line(out, "out", p, start + i, esc(u), esc(c));
                }
            }
        }
    }

    static RunHistory read(BufferedReader in, String name) throws IOException {
        long seed = 0;
        List<Integer> nodes = new ArrayList<>();
        List<Integer> voters = new ArrayList<>();
        Map<Integer, List<Integer>> replicas = new LinkedHashMap<>();
        RunHistory.Bounds bounds = new RunHistory.Bounds(0, 0);
        long workloadStart = 0;
        long healed = 0;
        long end = 0;
        List<NodeFault> faults = new ArrayList<>();
        List<Write> writes = new ArrayList<>();
        List<Read> reads = new ArrayList<>();
        List<Commit> commits = new ArrayList<>();
        List<Assignment> assignments = new ArrayList<>();
        List<ReplicaStatus> statuses = new ArrayList<>();
        List<MetadataLogEntry> metadataLogs = new ArrayList<>();
        List<VoterProgress> voterProgress = new ArrayList<>();
        Map<Integer, Long> logStart = new LinkedHashMap<>();
        Map<Integer, Integer> logLength = new LinkedHashMap<>();
        Map<Integer, Map<Long, String>> finalValues = new LinkedHashMap<>();
        Map<Integer, Long> committed = new LinkedHashMap<>();
        int pipelineMembers = 0;
        List<Txn> transactions = new ArrayList<>();
        Map<Integer, Long> committedInput = new LinkedHashMap<>();
        Map<Integer, long[]> outputBounds = new LinkedHashMap<>(); // partition -> {log start, LSO, HW}
        Map<Integer, Map<Long, String[]>> outputValues = new LinkedHashMap<>(); // offset -> {uncommitted, committed}
        Map<String, Boolean> mirrors = new LinkedHashMap<>(); // name -> exactly-once
        Map<String, List<MirrorHistory.TaskSeen>> mirrorTasks = new LinkedHashMap<>();
        Map<String, Map<Integer, List<String>>> mirrorOutputs = new LinkedHashMap<>();
        Map<String, String> counts = new LinkedHashMap<>(); // name -> state store
        Map<String, Map<Integer, List<String>>> countOutputs = new LinkedHashMap<>();

        String text;
        int lineNo = 0;
        while ((text = in.readLine()) != null) {
            lineNo++;
            if (text.isEmpty() || text.startsWith("#")) {
                continue;
            }
            String[] f = text.split("\t", -1);
            try {
                switch (f[0]) {
                    case "seed" -> seed = Long.parseLong(f[1]);
                    case "node" -> nodes.add(Integer.parseInt(f[1]));
                    case "voter" -> voters.add(Integer.parseInt(f[1]));
                    case "replicas" -> replicas.put(Integer.parseInt(f[1]), parseIds(f[2]));
                    case "bounds" -> bounds = new RunHistory.Bounds(Long.parseLong(f[1]), Long.parseLong(f[2]));
                    case "times" -> {
                        workloadStart = Long.parseLong(f[1]);
                        healed = Long.parseLong(f[2]);
                        end = Long.parseLong(f[3]);
                    }
                    case "fault" -> faults.add(new NodeFault(unesc(f[1]), unesc(f[2]), parseIds(f[3]), parseCuts(f[4]),
                            Long.parseLong(f[5]), Long.parseLong(f[6])));
                    case "write" -> writes.add(new Write(Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                            Long.parseLong(f[3]), unesc(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]),
                            Write.Outcome.valueOf(f[7]), Long.parseLong(f[8]), unesc(f[9])));
                    case "read" -> reads.add(new Read(unesc(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]),
                            Long.parseLong(f[4]), unesc(f[5]), Long.parseLong(f[6])));
                    case "commit" -> commits.add(new Commit(unesc(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]),
                            Long.parseLong(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]),
                            Boolean.parseBoolean(f[7]), unesc(f[8])));
                    case "assign" -> assignments.add(new Assignment(unesc(f[1]), Integer.parseInt(f[2]),
                            Integer.parseInt(f[3]), Boolean.parseBoolean(f[4]), Long.parseLong(f[5]),
                            Boolean.parseBoolean(f[6]), Long.parseLong(f[7])));
                    case "status" -> statuses.add(new ReplicaStatus(Long.parseLong(f[5]), Integer.parseInt(f[1]),
                            Integer.parseInt(f[2]), parseIds(f[3]), parseIds(f[4]), f.length > 6 ? parseIds(f[6]) : List.of()));
                    case "logstart" -> {
                        int p = Integer.parseInt(f[1]);
                        if (!f[2].equals("-")) {
                            logStart.put(p, Long.parseLong(f[2]));
                        }
                        if (f.length > 3 && !f[3].equals("-")) {
                            logLength.put(p, Integer.parseInt(f[3]));
                        }
                    }
                    case "final" -> finalValues.computeIfAbsent(Integer.parseInt(f[1]), k -> new LinkedHashMap<>())
                            .put(Long.parseLong(f[2]), unesc(f[3]));
                    case "committed" -> committed.put(Integer.parseInt(f[1]), Long.parseLong(f[2]));
                    case "raft" -> metadataLogs.add(new MetadataLogEntry(Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                            Long.parseLong(f[3]), Long.parseLong(f[4]), Long.parseLong(f[5], 16)));
                    case "raftpos" -> voterProgress.add(new VoterProgress(Integer.parseInt(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])));
                    case "pipeline" -> pipelineMembers = Integer.parseInt(f[1]);
                    case "txn" -> transactions.add(new Txn(unesc(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]),
                            Txn.Outcome.valueOf(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]), parseRanges(f[7]), unesc(f[8])));
                    case "txninput" -> committedInput.put(Integer.parseInt(f[1]), Long.parseLong(f[2]));
                    case "outlog" -> outputBounds.put(Integer.parseInt(f[1]),
                            new long[]{Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4])});
                    case "out" -> outputValues.computeIfAbsent(Integer.parseInt(f[1]), k -> new LinkedHashMap<>())
                            .put(Long.parseLong(f[2]), new String[]{unesc(f[3]), unesc(f[4])});
                    case "mirror" -> mirrors.put(unesc(f[1]), f[2].equals("exactly_once"));
                    case "mirrortask" -> mirrorTasks.computeIfAbsent(unesc(f[1]), k -> new ArrayList<>()).add(new MirrorHistory.TaskSeen(
                            Integer.parseInt(f[2]), Integer.parseInt(f[3]), unesc(f[4]), Integer.parseInt(f[5])));
                    case "mirrorout" -> mirrorOutputs.computeIfAbsent(unesc(f[1]), k -> new TreeMap<>())
                            .computeIfAbsent(Integer.parseInt(f[2]), k -> new ArrayList<>()).add(unesc(f[3]));
                    case "count" -> counts.put(unesc(f[1]), unesc(f[2]));
                    case "countout" -> countOutputs.computeIfAbsent(unesc(f[1]), k -> new TreeMap<>())
                            .computeIfAbsent(Integer.parseInt(f[2]), k -> new ArrayList<>()).add(unesc(f[3]));
                    default -> throw new IllegalArgumentException("unknown kind '" + f[0] + "'");
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(name + ":" + lineNo + ": cannot parse: " + e.getMessage(), e);
            }
        }
        return new RunHistory(seed, nodes, voters, replicas, faults, writes, reads, commits, assignments, statuses,
                finalLogs(logStart, logLength, finalValues), logStart, committed, bounds, workloadStart, healed, end, metadataLogs,
                voterProgress, txnHistory(pipelineMembers, transactions, committedInput, outputBounds, outputValues),
                new MirrorHistory(mirrors.entrySet().stream().map(e -> new MirrorHistory.Mirror(e.getKey(), e.getValue(),
                        mirrorOutputs.getOrDefault(e.getKey(), Map.of()), mirrorTasks.getOrDefault(e.getKey(), List.of()))).toList(),
                        counts.entrySet().stream().map(e -> new MirrorHistory.Count(e.getKey(), e.getValue(),
                                countOutputs.getOrDefault(e.getKey(), Map.of()))).toList()));
    }

    private static TxnHistory txnHistory(int members, List<Txn> transactions, Map<Integer, Long> committedInput,
                                         Map<Integer, long[]> bounds, Map<Integer, Map<Long, String[]>> values) {
        if (members == 0) {
            return TxnHistory.NONE;
        }
        Map<Integer, Long> start = new LinkedHashMap<>();
        Map<Integer, List<String>> committed = new LinkedHashMap<>();
        Map<Integer, List<String>> uncommitted = new LinkedHashMap<>();
        for (Map.Entry<Integer, long[]> e : bounds.entrySet()) {
            int p = e.getKey();
            long from = e.getValue()[0];
            Map<Long, String[]> at = values.getOrDefault(p, Map.of());
            start.put(p, from);
            committed.put(p, outputList(at, from, e.getValue()[1], 1));
            uncommitted.put(p, outputList(at, from, e.getValue()[2], 0));
        }
        return new TxnHistory(members, transactions, committedInput, start, committed, uncommitted);
    }

    private static List<String> outputList(Map<Long, String[]> values, long from, long to, int column) {
        List<String> list = new ArrayList<>((int) Math.max(0, to - from));
        for (long o = from; o < to; o++) {
            String[] v = values.get(o);
            list.add(v == null ? null : v[column]);
        }
        return list;
    }

    /** Places each final line at its index; a length longer than the lines leaves trailing holes. */
    private static Map<Integer, List<String>> finalLogs(Map<Integer, Long> logStart, Map<Integer, Integer> logLength,
                                                        Map<Integer, Map<Long, String>> finalValues) {
        Map<Integer, List<String>> logs = new LinkedHashMap<>();
        List<Integer> partitions = new ArrayList<>(logLength.keySet());
        finalValues.keySet().stream().filter(p -> !logLength.containsKey(p)).forEach(partitions::add);
        for (int p : partitions) {
            long start = logStart.getOrDefault(p, 0L);
            Map<Long, String> values = finalValues.getOrDefault(p, Map.of());
            long length = logLength.containsKey(p) ? logLength.get(p)
                    : values.keySet().stream().mapToLong(o -> o - start + 1).max().orElse(0);
            List<String> log = new ArrayList<>((int) length);
            for (long o = start; o < start + length; o++) {
                log.add(values.get(o));
            }
            logs.put(p, log);
        }
        return logs;
    }

    private static void line(Writer out, String kind, Object... fields) throws IOException {
        out.write(kind);
        for (Object f : fields) {
            out.write('\t');
            out.write(String.valueOf(f));
        }
        out.write('\n');
    }

    static String esc(String s) {
        if (s == null) {
            return NULL;
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String r = switch (c) {
                case '\\' -> "\\\\";
                case '\t' -> "\\t";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                default -> null;
            };
            if (r != null && b == null) {
                b = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (b != null) {
                if (r != null) {
                    b.append(r);
                } else {
                    b.append(c);
                }
            }
        }
        return b == null ? s : b.toString();
    }

    static String unesc(String s) {
        if (s.equals(NULL)) {
            return null;
        }
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                b.append(c);
                continue;
            }
            char n = s.charAt(++i);
            b.append(switch (n) {
                case 't' -> '\t';
                case 'n' -> '\n';
                case 'r' -> '\r';
                default -> n; // '\\'
            });
        }
        return b.toString();
    }

    private static String ids(List<Integer> ids) {
        StringBuilder b = new StringBuilder();
        for (int id : ids) {
            if (!b.isEmpty()) {
                b.append(',');
            }
            b.append(id);
        }
        return b.isEmpty() ? "-" : b.toString();
    }

    private static List<Integer> parseIds(String s) {
        List<Integer> ids = new ArrayList<>();
        if (!s.equals("-") && !s.isEmpty()) {
            for (String id : s.split(",")) {
                ids.add(Integer.parseInt(id));
            }
        }
        return ids;
    }

    private static String ranges(List<Txn.InputRange> ranges) {
        StringBuilder b = new StringBuilder();
        for (Txn.InputRange r : ranges) {
            if (!b.isEmpty()) {
                b.append(',');
            }
            b.append(r.partition()).append(':').append(r.first()).append('-').append(r.last());
        }
        return b.isEmpty() ? "-" : b.toString();
    }

    private static List<Txn.InputRange> parseRanges(String s) {
        List<Txn.InputRange> ranges = new ArrayList<>();
        if (!s.equals("-") && !s.isEmpty()) {
            for (String r : s.split(",")) {
                int colon = r.indexOf(':');
                int dash = r.indexOf('-', colon);
                ranges.add(new Txn.InputRange(Integer.parseInt(r.substring(0, colon)), Long.parseLong(r.substring(colon + 1, dash)),
                        Long.parseLong(r.substring(dash + 1))));
            }
        }
        return ranges;
    }

    private static String cuts(List<NodeFault.Cut> cuts) {
        StringBuilder b = new StringBuilder();
        for (NodeFault.Cut c : cuts) {
            if (!b.isEmpty()) {
                b.append(',');
            }
            b.append(c.from()).append('>').append(c.to());
        }
        return b.isEmpty() ? "-" : b.toString();
    }

    private static List<NodeFault.Cut> parseCuts(String s) {
        List<NodeFault.Cut> cuts = new ArrayList<>();
        if (!s.equals("-") && !s.isEmpty()) {
            for (String c : s.split(",")) {
                int gt = c.indexOf('>');
                cuts.add(new NodeFault.Cut(Integer.parseInt(c.substring(0, gt)), Integer.parseInt(c.substring(gt + 1))));
            }
        }
        return cuts;
    }
}
