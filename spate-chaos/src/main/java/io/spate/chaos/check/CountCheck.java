package io.spate.chaos.check;

import io.spate.chaos.history.MirrorHistory;
import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.Write;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The promise of stateful processing at the data, judged on the {@code pipeline} workload's
 * exactly-once count per writer: every input record adds one to its writer's count, once, and
 * the count's store survives every failover (restored from its changelog or taken from a
 * standby). So a writer's results, read committed in offset order, must be exactly 1, 2, 3 ...:
 * <ul>
 *   <li>a result that is not the one after the previous ({@code count-wrong}): a repeat is a
 *       record counted twice or a store that went back; a jump, an increment lost; a result
 *       above the writer's number of input records, a record counted that is not in the input;</li>
 *   <li>a result that names no writer of the input, or is not {@code w-N=COUNT} ({@code count-wrong});</li>
 *   <li>a writer whose last result is below its number of input records by the end
 *       ({@code count-undrained}, an availability check).</li>
 * </ul>
 * Reported with partition -1 (a writer's results may come from any input partition) and the
 * output partition in the detail.
 */
final class CountCheck {
    private static final int MAX_REPORTED = 20;

    private CountCheck() {
    }

    static void check(RunHistory h, List<Violation> out, List<String> notes) {
        if (h.mirror().counts().isEmpty()) {
            return;
        }
        Map<String, Long> inputs = writerCounts(h);
        for (MirrorHistory.Count c : h.mirror().counts()) {
            int[] reported = {0};
            Map<String, Long> last = new TreeMap<>();
            Map<String, Integer> outputPartition = new HashMap<>();
            long results = 0;
            for (Map.Entry<Integer, List<String>> e : new TreeMap<>(c.output()).entrySet()) {
                for (String v : e.getValue()) {
                    results++;
                    int eq = v.lastIndexOf('=');
                    String writer = eq < 0 ? v : v.substring(0, eq);
                    Long count = eq < 0 ? null : parse(v.substring(eq + 1));
                    if (count == null || !inputs.containsKey(writer)) {
                        add(out, reported, c.name() + ": result '" + v + "' in output partition " + e.getKey()
                                + (count == null ? " is not WRITER=COUNT" : " names no writer of the input"));
                        continue;
                    }
                    Integer seenIn = outputPartition.putIfAbsent(writer, e.getKey());
                    if (seenIn != null && seenIn != e.getKey().intValue()) {
                        add(out, reported, c.name() + ": " + writer + " has results in output partitions " + seenIn + " and " + e.getKey());
                    }
                    long expected = last.getOrDefault(writer, 0L) + 1;
                    if (count != expected) {
                        add(out, reported, c.name() + ": " + writer + "'s result " + count + " follows " + (expected - 1)
                                + (count < expected ? " (counted again, or its store went back)" : " (increments lost)")
                                + ", output partition " + e.getKey());
                    }
                    if (count > inputs.get(writer)) {
                        add(out, reported, c.name() + ": " + writer + " counted to " + count + ", with " + inputs.get(writer)
                                + " records in the input");
                    }
                    last.put(writer, Math.max(count, last.getOrDefault(writer, 0L)));
                }
            }
            List<String> behind = new ArrayList<>();
            inputs.forEach((writer, n) -> {
                long counted = last.getOrDefault(writer, 0L);
                if (counted < n) {
                    behind.add(writer + " at " + counted + " of " + n);
                }
            });
            if (!behind.isEmpty()) {
                out.add(new Violation(Violation.COUNT_UNDRAINED, -1, -1, c.name() + ": by the end " + String.join(", ", behind)));
            }
            if (reported[0] > MAX_REPORTED) {
                notes.add(c.name() + ": " + reported[0] + " " + Violation.COUNT_WRONG + " in all, the first " + MAX_REPORTED + " listed");
            }
            notes.add(c.name() + " (exactly-once, stores " + c.stateStore() + ", one standby): " + results + " results for "
                    + inputs.values().stream().mapToLong(Long::longValue).sum() + " input records of " + inputs.size() + " writers");
        }
    }

    /**
     * Records per writer ({@code w-N}, producer N) in the final input, each value's producer
     * known from the writes it was sent in; a value no write sent is the plain checks' concern.
     */
    private static Map<String, Long> writerCounts(RunHistory h) {
        Map<String, Integer> producerOf = new HashMap<>(h.writes().size() * 2);
        for (Write w : h.writes()) {
            producerOf.put(w.value(), w.producer());
        }
        Map<String, Long> counts = new TreeMap<>();
        for (List<String> values : h.finalLog().values()) {
            for (String v : values) {
                Integer producer = v == null ? null : producerOf.get(v);
                if (producer != null) {
                    counts.merge("w-" + producer, 1L, Long::sum);
                }
            }
        }
        return counts;
    }

    private static Long parse(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static void add(List<Violation> out, int[] reported, String detail) {
        if (++reported[0] <= MAX_REPORTED) {
            out.add(new Violation(Violation.COUNT_WRONG, -1, -1, detail));
        }
    }
}
