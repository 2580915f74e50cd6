package io.spate.chaos.check;

import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.Write;

import java.util.List;

/** Every acknowledged write must be in the final log at the offset the broker acknowledged. */
final class LostWriteCheck {

    private LostWriteCheck() {
    }

    static void check(RunHistory h, FinalLog log, List<Violation> out, List<String> notes) {
        int belowLogStart = 0;
        for (Write w : h.writes()) {
            if (!w.acknowledged()) {
                continue;
            }
            if (w.offset() < 0) {
                // Acknowledged without an offset (DUPLICATE_SEQUENCE_NUMBER: a retry of a batch the
                // broker wrote earlier but no longer tracks): it must be somewhere in its partition.
                boolean present = log.locationsOf(w.value()).stream().anyMatch(l -> l.partition() == w.partition());
                if (!present) {
                    out.add(new Violation(Violation.LOST_WRITE, w.partition(), -1, "write " + w.value() + " (producer " + w.producer()
                            + ", seq " + w.seq() + ") acknowledged without an offset at " + Times.s(w.doneUs())
                            + " is nowhere in its partition's final log"));
                }
                continue;
            }
            if (w.offset() < log.start(w.partition())) {
                // Retention is off in campaigns, so this should not happen; we cannot check it
                // either way, but a count tells that the log start moved.
                belowLogStart++;
                continue;
            }
            String there = log.valueAt(w.partition(), w.offset());
            if (w.value().equals(there)) {
                continue;
            }
            StringBuilder d = new StringBuilder()
                    .append("write ").append(w.value()).append(" (producer ").append(w.producer())
                    .append(", seq ").append(w.seq()).append(") acknowledged at ").append(Times.s(w.doneUs()))
                    .append(" is not at its offset, which ");
            if (there != null) {
                d.append("holds ").append(there);
            } else if (w.offset() >= log.end(w.partition())) {
                d.append("is beyond the log end ").append(log.end(w.partition()));
            } else {
                d.append("has no record");
            }
            List<FinalLog.Location> elsewhere = log.locationsOf(w.value());
            d.append(elsewhere.isEmpty() ? "; the value is nowhere in the final log"
                    : "; the value is at " + elsewhere + " instead");
            out.add(new Violation(Violation.LOST_WRITE, w.partition(), w.offset(), d.toString()));
        }
        if (belowLogStart > 0) {
            notes.add(belowLogStart + " acknowledged writes below the final log start were not checked");
        }
    }
}
