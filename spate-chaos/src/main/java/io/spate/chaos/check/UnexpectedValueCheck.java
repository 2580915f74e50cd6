package io.spate.chaos.check;

import io.spate.chaos.history.Write;

import java.util.List;
import java.util.Map;

/** The final log holds only values some write attempted, each in the partition it was sent to. */
final class UnexpectedValueCheck {

    private UnexpectedValueCheck() {
    }

    static void check(Map<String, Write> writesByValue, FinalLog log, List<Violation> out) {
        for (Map.Entry<String, List<FinalLog.Location>> e : log.allLocations().entrySet()) {
            Write w = writesByValue.get(e.getKey());
            for (FinalLog.Location at : e.getValue()) {
                if (w == null) {
                    out.add(new Violation(Violation.UNEXPECTED_VALUE, at.partition(), at.offset(),
                            "value " + e.getKey() + " was never written"));
                } else if (w.partition() != at.partition()) {
                    out.add(new Violation(Violation.UNEXPECTED_VALUE, at.partition(), at.offset(),
                            "value " + e.getKey() + " was sent to partition " + w.partition()));
                }
            }
        }
    }
}
