package io.spate.chaos.check;

import io.spate.chaos.history.Read;
import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.Write;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks a run's history, Jepsen style: safety from the final logs, reads and commits, then
 * availability against the run's bounds. Every check is a pass over hash maps, so histories with
 * tens of thousands of writes and reads check in well under a second.
 */
public final class Checker {

    private Checker() {
    }

    public static Verdict check(RunHistory h) {
        FinalLog log = new FinalLog(h);
        Map<String, Write> writesByValue = new HashMap<>(h.writes().size() * 2);
        for (Write w : h.writes()) {
            writesByValue.put(w.value(), w);
        }
        List<Violation> violations = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        LostWriteCheck.check(h, log, violations, notes);
        DuplicateCheck.check(log, violations);
        UnexpectedValueCheck.check(writesByValue, log, violations);
        OrderCheck.check(writesByValue, h.writes(), log, violations);
        ReadConsistencyCheck.check(h.reads(), log, violations, notes);
        SkipCheck.check(h, log, violations);
        CommitCheck.check(h, violations);
        MetadataAgreementCheck.check(h, violations);
        ExactlyOnceCheck.check(h, log, violations, notes);
        MirrorCheck.check(h, violations, notes);
        CountCheck.check(h, violations, notes);

        Availability availability = AvailabilityCheck.measure(h, partitions(h));
        AvailabilityCheck.check(h, availability, violations);
        VoterProgressCheck.check(h, violations);
        return new Verdict(h.seed(), violations, availability, RunCounts.of(h), notes);
    }

    /** Every partition the run knows of, even one that never got a write. */
    private static Set<Integer> partitions(RunHistory h) {
        Set<Integer> ps = new TreeSet<>(h.replicas().keySet());
        ps.addAll(h.finalLog().keySet());
        for (Write w : h.writes()) {
            ps.add(w.partition());
        }
        for (Read r : h.reads()) {
            ps.add(r.partition());
        }
        return ps;
    }
}
