package io.spate.chaos.check;

import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.Write;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Measures stalls and recovery per partition and reports those beyond the run's bounds. A stall
 * only counts for the time a quorum was up and connected with a replica among them that may lead
 * ({@link HealthyTimeline}): with no quorum, or with only replicas up that lack acknowledged
 * writes, no write can be acknowledged and that is correct behaviour.
 */
final class AvailabilityCheck {

    private AvailabilityCheck() {
    }

    static Availability measure(RunHistory h, Set<Integer> partitions) {
        Map<Integer, List<Long>> acks = new TreeMap<>();
        for (int p : partitions) {
            acks.put(p, new ArrayList<>());
        }
        for (Write w : h.writes()) {
            if (w.acknowledged()) {
                acks.computeIfAbsent(w.partition(), k -> new ArrayList<>()).add(w.doneUs());
            }
        }
        Map<Integer, Availability.PartitionAvailability> result = new TreeMap<>();
        for (Map.Entry<Integer, List<Long>> e : acks.entrySet()) {
            int p = e.getKey();
            long[] times = e.getValue().stream().mapToLong(Long::longValue).toArray();
            Arrays.sort(times);
            List<HealthyTimeline.Interval> healthy = HealthyTimeline.healthy(h, p);
            Availability.Stall stall = longestStall(times, healthy, h.workloadStartUs(), h.endUs());
            Availability.Stall quorumStall = longestStall(times, HealthyTimeline.quorumUp(h, p), h.workloadStartUs(), h.endUs());
            // Writes cannot be acknowledged before the workload starts: a heal before that (or a
            // run without faults) is measured from the workload start.
            long from = Math.max(h.healedUs(), h.workloadStartUs());
            int i = firstAtOrAfter(times, from);
            // An ack that arrives after endUs (a send just before the end) still shows recovery.
            boolean recovered = i < times.length;
            long recovery = recovered ? times[i] - from : Math.max(0, h.endUs() - from);
            result.put(p, new Availability.PartitionAvailability(p, stall, quorumStall, recovery, recovered, times.length));
        }
        return new Availability(result);
    }

    static void check(RunHistory h, Availability a, List<Violation> out) {
        RunHistory.Bounds bounds = h.bounds();
        for (Availability.PartitionAvailability pa : a.partitions().values()) {
            Availability.Stall s = pa.longestStall();
            if (s.lengthUs() > bounds.maxStallUs()) {
                out.add(new Violation(Violation.STALL, pa.partition(), -1,
                        "no write acknowledged for " + Times.s(s.lengthUs()) + " with a quorum and a replica that may lead up, from "
                                + Times.s(s.startUs()) + " to " + Times.s(s.endUs()) + " (bound "
                                + Times.s(bounds.maxStallUs()) + ")"));
            }
            if (!pa.recovered()) {
                out.add(new Violation(Violation.RECOVERY, pa.partition(), -1,
                        "no write acknowledged after the heal at " + Times.s(h.healedUs())));
            } else if (pa.recoveryUs() > bounds.maxRecoveryUs()) {
                out.add(new Violation(Violation.RECOVERY, pa.partition(), -1,
                        "first write acknowledged " + Times.s(pa.recoveryUs()) + " after the heal at "
                                + Times.s(h.healedUs()) + " (bound " + Times.s(bounds.maxRecoveryUs()) + ")"));
            }
        }
    }

    /**
     * Gaps between consecutive acks in [from, to] (and from {@code from} to the first, from the
     * last to {@code to}); each gap counts for its longest overlap with one healthy interval.
     */
    static Availability.Stall longestStall(long[] acks, List<HealthyTimeline.Interval> healthy, long from, long to) {
        Availability.Stall worst = Availability.Stall.NONE;
        long gapStart = from;
        int k = 0; // healthy intervals ending at or before gapStart are done with: gaps only move right
        int i = firstAtOrAfter(acks, from);
        while (true) {
            boolean last = i >= acks.length || acks[i] > to;
            long gapEnd = last ? to : acks[i];
            while (k < healthy.size() && healthy.get(k).endUs() <= gapStart) {
                k++;
            }
            for (int j = k; j < healthy.size() && healthy.get(j).startUs() < gapEnd; j++) {
                long s = Math.max(gapStart, healthy.get(j).startUs());
                long e = Math.min(gapEnd, healthy.get(j).endUs());
                if (e - s > worst.lengthUs()) {
                    worst = new Availability.Stall(s, e, gapStart, gapEnd);
                }
            }
            if (last) {
                return worst;
            }
            gapStart = gapEnd;
            i++;
        }
    }

    private static int firstAtOrAfter(long[] sorted, long t) {
        int i = Arrays.binarySearch(sorted, t);
        if (i < 0) {
            return -i - 1;
        }
        while (i > 0 && sorted[i - 1] == t) {
            i--;
        }
        return i;
    }
}
