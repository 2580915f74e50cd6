package io.spate.chaos.check;

import io.spate.chaos.history.NodeFault;
import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.VoterProgress;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A controller voter that no fault touches must keep up with the quorum. Raft lets a follower lag
 * only while it cannot hear the leader; one that stops taking entries for good still answers, so
 * nothing else shows it, yet the quorum is one voter short: the next fault on another voter stops
 * the controller (seed 3090: a follower refused every append for 100 s after Ratis truncated it
 * below its commit index, then a pause elsewhere held every partition for 9 s, and the stall was
 * all the checker saw). A voter is stuck when, for {@link #STUCK_US}, no fault touched it, a
 * majority of the voters stayed untouched (so a leader could reach it), and at the end of that
 * time its log still ends before an index that a majority of the voters' logs held at the start.
 */
final class VoterProgressCheck {
    /** A follower in reach of its leader catches up within milliseconds; Spate restarts a stuck replica after 8 s. */
    static final long STUCK_US = 10_000_000L;
    /** Samples older than this (three read periods) no longer say where a voter's log is. */
    private static final long SAMPLE_FRESH_US = 10_000_000L;

    private VoterProgressCheck() {
    }

    static void check(RunHistory h, List<Violation> out) {
        List<Integer> voters = h.voters();
        if (voters.isEmpty() || h.voterProgress().isEmpty()) {
            return;
        }
        Map<Integer, List<VoterProgress>> byNode = new TreeMap<>();
        for (VoterProgress p : h.voterProgress()) {
            byNode.computeIfAbsent(p.node(), k -> new ArrayList<>()).add(p);
        }
        byNode.values().forEach(list -> list.sort(Comparator.comparingLong(VoterProgress::atUs)));
        for (int voter : voters) {
            List<VoterProgress> own = byNode.getOrDefault(voter, List.of());
            found:
            for (VoterProgress from : own) {
                long reference = majorityIndex(byNode, voters, from.atUs());
                if (reference <= from.lastIndex()) {
                    continue;
                }
                for (VoterProgress to : own) {
                    if (to.atUs() - from.atUs() < STUCK_US) {
                        continue;
                    }
                    if (to.lastIndex() >= reference || !untouched(voter, voters, h.faults(), from.atUs(), to.atUs())) {
                        break;
                    }
                    out.add(new Violation(Violation.VOTER_STUCK, voter, -1,
                            "controller voter " + voter + " untouched by any fault from " + Times.s(from.atUs())
                                    + " to " + Times.s(to.atUs()) + ", with a majority of the voters untouched, still ended its log at index "
                                    + to.lastIndex() + " while a majority held index " + reference + " at the start"));
                    break found;
                }
            }
        }
    }

    /** The highest index that a majority of the voters' logs reached at {@code atUs}, by each one's latest fresh read. */
    static long majorityIndex(Map<Integer, List<VoterProgress>> byNode, List<Integer> voters, long atUs) {
        List<Long> reached = new ArrayList<>();
        for (int v : voters) {
            long last = -1;
            for (VoterProgress p : byNode.getOrDefault(v, List.of())) {
                if (p.atUs() > atUs) {
                    break;
                }
                last = atUs - p.atUs() <= SAMPLE_FRESH_US ? p.lastIndex() : -1;
            }
            reached.add(last);
        }
        reached.sort(Comparator.reverseOrder());
        return reached.get(voters.size() / 2);
    }

    /**
     * No fault touched {@code voter} between the two times (down, or any of its links cut), and at
     * every moment a majority of the voters were untouched by any fault.
     */
    static boolean untouched(int voter, List<Integer> voters, List<NodeFault> faults, long fromUs, long toUs) {
        java.util.TreeSet<Long> edges = new java.util.TreeSet<>(List.of(fromUs));
        for (NodeFault f : faults) {
            boolean overlaps = f.startUs() < toUs && f.endUs() > fromUs;
            if (overlaps && touches(f, voter)) {
                return false;
            }
            if (f.startUs() > fromUs && f.startUs() < toUs) {
                edges.add(f.startUs());
            }
        }
        for (long t : edges) {
            int clear = 0;
            for (int v : voters) {
                boolean hit = false;
                for (NodeFault f : faults) {
                    if (f.startUs() <= t && t < f.endUs() && touches(f, v)) {
                        hit = true;
                        break;
                    }
                }
                if (!hit) {
                    clear++;
                }
            }
            if (clear * 2 <= voters.size()) {
                return false;
            }
        }
        return true;
    }

    private static boolean touches(NodeFault f, int node) {
        return f.down().contains(node) || f.cuts().stream().anyMatch(c -> c.from() == node || c.to() == node);
    }
}
