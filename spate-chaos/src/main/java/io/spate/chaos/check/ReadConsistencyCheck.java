package io.spate.chaos.check;

import io.spate.chaos.history.Read;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everyone sees one log: all reads of (p, o) saw the same value, and it is the value the final
 * log has there. A read of an offset the final log lacks saw data that was later lost or
 * truncated away (a consumer read past the high watermark, or an acknowledged record vanished).
 */
final class ReadConsistencyCheck {

    private ReadConsistencyCheck() {
    }

    private record At(int partition, long offset) {
    }

    static void check(List<Read> reads, FinalLog log, List<Violation> out, List<String> notes) {
        // (p, o) -> each distinct value read there, with its first read
        Map<At, Map<String, Read>> seen = new LinkedHashMap<>();
        int belowLogStart = 0;
        for (Read r : reads) {
            if (r.offset() < log.start(r.partition())) {
                belowLogStart++;
                continue;
            }
            Map<String, Read> values = seen.computeIfAbsent(new At(r.partition(), r.offset()), k -> new HashMap<>(2));
            values.putIfAbsent(r.value(), r);
        }
        for (Map.Entry<At, Map<String, Read>> e : seen.entrySet()) {
            At at = e.getKey();
            Map<String, Read> values = e.getValue();
            String fin = log.valueAt(at.partition(), at.offset());
            if (fin == null) {
                // One violation per offset: if the reads also disagree, say so in the same line.
                out.add(new Violation(Violation.INCONSISTENT_READ, at.partition(), at.offset(),
                        "read but not in final log (end " + log.end(at.partition()) + "): " + describe(values)));
                continue;
            }
            // Reads that disagree with each other disagree with the final log too (at most one
            // of them can match it), so comparing each with the final log covers both.
            for (Read r : values.values()) {
                if (!fin.equals(r.value())) {
                    out.add(new Violation(Violation.INCONSISTENT_READ, at.partition(), at.offset(),
                            who(r) + " read " + r.value() + " but the final log has " + fin
                                    + (values.size() > 1 ? "; reads there saw " + describe(values) : "")));
                }
            }
        }
        if (belowLogStart > 0) {
            notes.add(belowLogStart + " reads below the final log start were not checked");
        }
    }

    private static String describe(Map<String, Read> values) {
        StringBuilder b = new StringBuilder();
        for (Read r : values.values()) {
            if (!b.isEmpty()) {
                b.append(", ");
            }
            b.append(r.value()).append(" by ").append(who(r));
        }
        return b.toString();
    }

    static String who(Read r) {
        return r.consumer() + "#" + r.incarnation() + " at " + Times.s(r.atUs());
    }
}
