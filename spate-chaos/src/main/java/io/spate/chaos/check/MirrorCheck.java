package io.spate.chaos.check;

import io.spate.chaos.history.MirrorHistory;
import io.spate.chaos.history.RunHistory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The promise of a pipeline running at the data, judged on the mirrors of the {@code pipeline}
 * workload: each copies input partition p record for record into partition p of its output, so
 * after the run its output must be the input's final log, in the same order.
 * <ul>
 *   <li>every result is a record of its input partition ({@code mirror-unexpected}), and results
 *       come in input order (an at-least-once mirror's first result of each input:
 *       {@code mirror-out-of-order});</li>
 *   <li>every input record up to the last one mirrored has a result ({@code mirror-missing}), an
 *       exactly-once mirror's exactly one ({@code mirror-duplicate}); records after the last one
 *       mirrored are work not done by the end ({@code mirror-undrained}, an availability check);</li>
 *   <li>at the end each input partition's task runs on the node leading it
 *       ({@code mirror-misplaced}, an availability check).</li>
 * </ul>
 * The input side (acknowledged writes in the input log, once, in order) is the plain checks'.
 */
final class MirrorCheck {
    /** Per mirror and kind: a broken mirror can break thousands of records; the first ones say what happened. */
    private static final int MAX_REPORTED = 20;

    private MirrorCheck() {
    }

    static void check(RunHistory h, List<Violation> out, List<String> notes) {
        for (MirrorHistory.Mirror m : h.mirror().mirrors()) {
            Map<String, Integer> reported = new HashMap<>();
            TreeSet<Integer> partitions = new TreeSet<>(h.finalLog().keySet());
            partitions.addAll(m.output().keySet());
            long inputs = 0;
            long results = 0;
            for (int p : partitions) {
                List<String> in = h.finalLog().getOrDefault(p, List.of());
                long start = h.logStart().getOrDefault(p, 0L);
                List<String> mirrored = m.output().getOrDefault(p, List.of());
                results += mirrored.size();
                inputs += in.stream().filter(java.util.Objects::nonNull).count();
                checkPartition(m, p, in, start, mirrored, reported, out);
            }
            for (MirrorHistory.TaskSeen t : m.tasks()) {
                if (!t.runningOnLeader()) {
                    add(out, reported, new Violation(Violation.MIRROR_MISPLACED, t.partition(), -1, m.name() + ": its task is "
                            + t.state() + (t.node() >= 0 ? " on node " + t.node() : " (no report)") + ", the partition's leader is "
                            + (t.leader() >= 0 ? "node " + t.leader() : "none")));
                }
            }
            reported.forEach((kind, n) -> {
                if (n > MAX_REPORTED) {
                    notes.add(m.name() + ": " + n + " " + kind + " in all, the first " + MAX_REPORTED + " listed");
                }
            });
            notes.add(m.name() + " (" + (m.exactlyOnce() ? "exactly-once" : "at-least-once") + "): " + results
                    + " results for " + inputs + " input records");
        }
    }

    private static void checkPartition(MirrorHistory.Mirror m, int p, List<String> in, long start, List<String> results,
                                       Map<String, Integer> reported, List<Violation> out) {
        Map<String, Integer> position = new HashMap<>(in.size() * 2);
        for (int i = 0; i < in.size(); i++) {
            if (in.get(i) != null) {
                position.put(in.get(i), i);
            }
        }
        int[] count = new int[in.size()];
        int last = -1; // the furthest input mirrored
        int previous = -1;
        for (int j = 0; j < results.size(); j++) {
            String v = results.get(j);
            Integer at = v == null ? null : position.get(v);
            if (at == null) {
                add(out, reported, new Violation(Violation.MIRROR_UNEXPECTED, p, -1, m.name() + ": result " + j + " '" + v
                        + "' is no record of input partition " + p));
                continue;
            }
            count[at]++;
            last = Math.max(last, at);
            if (count[at] > 1) {
                // At-least-once, a replay after a restart repeats results from the last commit on.
                if (m.exactlyOnce()) {
                    add(out, reported, new Violation(Violation.MIRROR_DUPLICATE, p, start + at, m.name() + ": '" + v + "' has "
                            + count[at] + " results (result " + j + ")"));
                }
                continue;
            }
            if (at < previous) {
                add(out, reported, new Violation(Violation.MIRROR_OUT_OF_ORDER, p, start + at, m.name() + ": result " + j
                        + " is the first of offset " + (start + at) + ", after one of offset " + (start + previous)));
            }
            previous = Math.max(previous, at);
        }
        int undone = 0;
        for (int i = 0; i < in.size(); i++) {
            if (in.get(i) == null || count[i] > 0) {
                continue;
            }
            if (i < last) {
                add(out, reported, new Violation(Violation.MIRROR_MISSING, p, start + i, m.name() + ": '" + in.get(i)
                        + "' has no result, though offset " + (start + last) + " after it has"));
            } else {
                undone++;
            }
        }
        if (undone > 0) {
            add(out, reported, new Violation(Violation.MIRROR_UNDRAINED, p, -1, m.name() + ": the last " + undone
                    + " input records have no result by the end"));
        }
    }

    private static void add(List<Violation> out, Map<String, Integer> reported, Violation v) {
        if (reported.merge(v.check(), 1, Integer::sum) <= MAX_REPORTED) {
            out.add(v);
        }
    }
}
