package io.spate.chaos.check;

import java.util.List;
import java.util.Map;

/**
 * Every value is written by one send, so it must be in the final log at most once (across all
 * partitions): a second copy means an idempotent retry was appended again.
 */
final class DuplicateCheck {

    private DuplicateCheck() {
    }

    static void check(FinalLog log, List<Violation> out) {
        for (Map.Entry<String, List<FinalLog.Location>> e : log.allLocations().entrySet()) {
            List<FinalLog.Location> at = e.getValue();
            if (at.size() > 1) {
                // Reported at the second copy: the first is presumably the original.
                FinalLog.Location second = at.get(1);
                out.add(new Violation(Violation.DUPLICATE, second.partition(), second.offset(),
                        e.getKey() + " is in the final log " + at.size() + " times, at " + at));
            }
        }
    }
}
