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
 * all the checker saw). A voter is stuck when, for {@link #STUCK_US}, no fault touched it (down, or
 * a link of its cut), the quorum committed more meanwhile (so a leader worked, and nothing kept
 * it from this voter), and at the end its log still ends before an index that a majority of the
 * voters' logs held at the start. Faults come every few seconds in a run, so the other voters are
 * not required to be untouched: that would leave almost no window to judge.
 */
final class VoterProgressCheck {
    /** A follower in reach of its leader catches up within milliseconds; Spate restarts a stuck replica after 8 s. */
    static final long STUCK_US = 10_000_000L;
    /**
     * A voter back from a fault of its own (a restart: the JVM starts, the leader's appender backs
     * off after many failed sends) is judged only from this long after it.
     */
    static final long SETTLE_US = 5_000_000L;
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
                    if (to.lastIndex() >= reference || !untouched(voter, h.faults(), from.atUs() - SETTLE_US, to.atUs())) {
                        break;
                    }
                    if (majorityIndex(byNode, voters, to.atUs()) <= reference) {
                        continue; // no leader committed anything meanwhile: nothing says one could reach it
                    }
                    out.add(new Violation(Violation.VOTER_STUCK, voter, -1,
                            "controller voter " + voter + ", untouched by any fault from " + Times.s(from.atUs())
                                    + " to " + Times.s(to.atUs()) + " while the quorum's log grew, still ended its log at index "
                                    + to.lastIndex() + "; a majority held index " + reference + " at the start"));
                    break found;
                }
            }
        }
    }

    /** The highest index that a majority of the voters' logs reached at {@code atUs}, by each one's latest fresh read. */
    static long majorityIndex(Map<Integer, List<VoterProgress>> byNode, List<Integer> voters, long atUs) {
        List<Long> reached = new ArrayList<>();
        for (int v : voters) {
            reached.add(reachedAt(byNode, v, atUs));
        }
        reached.sort(Comparator.reverseOrder());
        return reached.get(voters.size() / 2);
    }

    private static long reachedAt(Map<Integer, List<VoterProgress>> byNode, int voter, long atUs) {
        long last = -1;
        for (VoterProgress p : byNode.getOrDefault(voter, List.of())) {
            if (p.atUs() > atUs) {
                break;
            }
            last = atUs - p.atUs() <= SAMPLE_FRESH_US ? p.lastIndex() : -1;
        }
        return last;
    }

    /** No fault touched {@code voter} between the two times: not down, none of its links cut. */
    static boolean untouched(int voter, List<NodeFault> faults, long fromUs, long toUs) {
        for (NodeFault f : faults) {
            if (f.startUs() < toUs && f.endUs() > fromUs && touches(f, voter)) {
                return false;
            }
        }
        return true;
    }

    private static boolean touches(NodeFault f, int node) {
        return f.down().contains(node) || f.cuts().stream().anyMatch(c -> c.from() == node || c.to() == node);
    }
}
