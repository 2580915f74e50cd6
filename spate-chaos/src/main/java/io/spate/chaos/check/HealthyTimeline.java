package io.spate.chaos.check;

import io.spate.chaos.history.NodeFault;
import io.spate.chaos.history.ReplicaStatus;
import io.spate.chaos.history.RunHistory;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * When a partition could have accepted writes: a set of nodes holding a majority of its replicas
 * and a majority of the controller voters was up and fully connected, and among them a replica
 * that may lead without losing acknowledged writes (the leader, an in-sync replica or an eligible
 * leader replica, as the cluster last described the partition). Outside those times a stall is
 * expected and does not count against the availability bounds: with the only replicas holding
 * every acknowledged write down, waiting for one of them is the promise (no unclean election),
 * as in Kafka. The weaker "quorum up" timeline, which ignores eligibility, is kept for reports.
 */
public final class HealthyTimeline {

    /** A half-open interval [startUs, endUs). */
    public record Interval(long startUs, long endUs) {
        public long lengthUs() {
            return endUs - startUs;
        }
    }

    private HealthyTimeline() {
    }

    /**
     * The healthy intervals of {@code replicas} within [fromUs, toUs), sorted and disjoint. Fault
     * windows may overlap: between two consecutive window edges the set of active faults is
     * constant, so health is decided once per such segment and adjacent healthy segments merged.
     */
    public static List<Interval> healthy(List<Integer> replicas, List<Integer> voters, List<Integer> nodes,
                                         List<NodeFault> faults, long fromUs, long toUs) {
        return healthy(replicas, voters, nodes, faults, List.of(), false, fromUs, toUs);
    }

    /**
     * As above, also requiring a replica {@code statuses} (one partition's, in time order) name
     * as eligible; before the first status every replica counts as eligible.
     */
    public static List<Interval> healthy(List<Integer> replicas, List<Integer> voters, List<Integer> nodes,
                                         List<NodeFault> faults, List<ReplicaStatus> statuses, long fromUs, long toUs) {
        return healthy(replicas, voters, nodes, faults, statuses, true, fromUs, toUs);
    }

    private static List<Interval> healthy(List<Integer> replicas, List<Integer> voters, List<Integer> nodes,
                                          List<NodeFault> faults, List<ReplicaStatus> statuses, boolean judgeEligibility,
                                          long fromUs, long toUs) {
        TreeSet<Long> edges = new TreeSet<>();
        for (ReplicaStatus st : statuses) {
            if (st.atUs() > fromUs && st.atUs() < toUs) {
                edges.add(st.atUs());
            }
        }
        edges.add(fromUs);
        edges.add(toUs);
        for (NodeFault f : faults) {
            if (f.startUs() > fromUs && f.startUs() < toUs) {
                edges.add(f.startUs());
            }
            if (f.endUs() > fromUs && f.endUs() < toUs) {
                edges.add(f.endUs());
            }
        }
        Set<Integer> everReplicas = new LinkedHashSet<>(replicas);
        statuses.forEach(st -> everReplicas.addAll(st.replicas()));
        List<Integer> universe = universe(List.copyOf(everReplicas), voters, nodes);
        List<Interval> out = new ArrayList<>();
        Long segStart = null;
        for (Long t : edges) {
            if (segStart != null && t > segStart) {
                long at = segStart;
                // Moves change the replica set during a run: judged by the set the cluster last described.
                List<Integer> current = replicasAt(statuses, segStart, replicas);
                Eligibility eligible = judgeEligibility
                        ? eligibleAt(statuses, faults, segStart, current)
                        : new Eligibility(new java.util.HashSet<>(current), Set.of());
                if (eligible.healthy(e -> healthyAt(at, current, voters, universe, faults, e))) {
                    if (!out.isEmpty() && out.getLast().endUs() == segStart) {
                        out.set(out.size() - 1, new Interval(out.getLast().startUs(), t));
                    } else {
                        out.add(new Interval(segStart, t));
                    }
                }
            }
            segStart = t;
        }
        return out;
    }

    /** For a run: the partition's healthy intervals over the workload, eligibility included. */
    public static List<Interval> healthy(RunHistory h, int partition) {
        List<Integer> replicas = h.replicas().getOrDefault(partition, h.nodes());
        List<ReplicaStatus> statuses = h.statuses().stream().filter(st -> st.partition() == partition)
                .sorted(java.util.Comparator.comparingLong(ReplicaStatus::atUs)).toList();
        return healthy(replicas, h.voters(), h.nodes(), h.faults(), statuses, h.workloadStartUs(), h.endUs());
    }

    /** For a run: the partition's intervals with a quorum up and connected, whoever could lead. */
    public static List<Interval> quorumUp(RunHistory h, int partition) {
        List<Integer> replicas = h.replicas().getOrDefault(partition, h.nodes());
        List<ReplicaStatus> statuses = h.statuses().stream().filter(st -> st.partition() == partition)
                .sorted(java.util.Comparator.comparingLong(ReplicaStatus::atUs)).toList();
        return healthy(replicas, h.voters(), h.nodes(), h.faults(), statuses, false, h.workloadStartUs(), h.endUs());
    }

    /** The replica set at {@code t}: as the last status at or before it that recorded one says, else {@code initial}. */
    static List<Integer> replicasAt(List<ReplicaStatus> statuses, long t, List<Integer> initial) {
        List<Integer> replicas = initial;
        for (ReplicaStatus st : statuses) {
            if (st.atUs() > t) {
                break;
            }
            if (!st.replicas().isEmpty()) {
                replicas = st.replicas();
            }
        }
        return replicas;
    }

    /**
     * Who may lead at one moment: every replica of {@code certain}, and one of {@code oneOf} whose
     * identity the checker cannot know (the cluster keeps one member of an in-sync set whose
     * members all came back from unclean stops: the last one fenced).
     */
    record Eligibility(Set<Integer> certain, Set<Integer> oneOf) {
        /**
         * Healthy with the certain replicas, or else whichever member of {@code oneOf} the cluster
         * kept: an unknown choice never excuses a stall that every possible choice would allow.
         */
        boolean healthy(java.util.function.Predicate<Set<Integer>> healthyWith) {
            if (healthyWith.test(certain)) {
                return true;
            }
            if (oneOf.isEmpty()) {
                return false;
            }
            for (int m : oneOf) {
                Set<Integer> with = new java.util.HashSet<>(certain);
                with.add(m);
                if (!healthyWith.test(with)) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The replicas that may lead at {@code t}: the last status at or before it, less every replica
     * restarted after an unclean stop (kill -9, a halt when its disk filled, a SIGTERM that had to
     * end in SIGKILL) that no status since its restart names again. Such a replica may have lost an
     * unflushed tail, so on its return the cluster takes it out of the in-sync set and the ELR
     * (KIP-966) before any status can say so: while no controller quorum exists the last status
     * goes stale, and without this the checker would count a quorum of such replicas as able to
     * elect a leader. The cluster never empties an in-sync set, though: when every member of the
     * last one is so removed, one of them (which, the checker cannot tell) still may lead.
     */
    static Eligibility eligibleAt(List<ReplicaStatus> statuses, List<NodeFault> faults, long t, List<Integer> replicas) {
        Set<Integer> eligible = new java.util.HashSet<>(eligibleAt(statuses, t, replicas));
        List<Integer> lastIsr = lastAtOrBefore(statuses, t).map(ReplicaStatus::isr).orElse(List.of());
        Set<Integer> removedFromIsr = new java.util.TreeSet<>();
        for (NodeFault f : faults) {
            if (!uncleanStop(f) || f.endUs() > t) {
                continue;
            }
            for (int node : f.down()) {
                if (eligible.contains(node) && !namedSince(statuses, node, f.endUs(), t)) {
                    eligible.remove(node);
                    if (lastIsr.contains(node)) {
                        removedFromIsr.add(node);
                    }
                }
            }
        }
        boolean isrEmptied = !removedFromIsr.isEmpty() && lastIsr.stream().noneMatch(eligible::contains);
        return new Eligibility(eligible, isrEmptied ? removedFromIsr : Set.of());
    }

    /** A fault after which the node came back from a stop that did not close its logs. */
    static boolean uncleanStop(NodeFault f) {
        return switch (f.kind()) {
            case "kill" -> true;
            // The node halts on a failed write, or is stopped while its storage is offline: no clean close either way.
            case "disk-full" -> f.description().contains("restarted");
            // 143 is the exit of a clean stop on SIGTERM; anything else ended otherwise (SIGKILL after the grace period).
            case "term" -> !f.description().contains("(exit 143)") && !f.description().contains("(exit 0)");
            default -> false;
        };
    }

    private static java.util.Optional<ReplicaStatus> lastAtOrBefore(List<ReplicaStatus> statuses, long t) {
        ReplicaStatus last = null;
        for (ReplicaStatus st : statuses) {
            if (st.atUs() > t) {
                break;
            }
            last = st;
        }
        return java.util.Optional.ofNullable(last);
    }

    private static boolean namedSince(List<ReplicaStatus> statuses, int node, long fromUs, long t) {
        for (ReplicaStatus st : statuses) {
            if (st.atUs() >= fromUs && st.atUs() <= t && st.eligible().contains(node)) {
                return true;
            }
        }
        return false;
    }

    /** The replicas that may lead at {@code t}: as the last status at or before it says, or all before any. */
    static Set<Integer> eligibleAt(List<ReplicaStatus> statuses, long t, List<Integer> replicas) {
        Set<Integer> eligible = null;
        for (ReplicaStatus st : statuses) {
            if (st.atUs() > t) {
                break;
            }
            eligible = st.eligible();
        }
        return eligible == null ? new java.util.HashSet<>(replicas) : eligible;
    }

    private static List<Integer> universe(List<Integer> replicas, List<Integer> voters, List<Integer> nodes) {
        Set<Integer> all = new LinkedHashSet<>(nodes);
        all.addAll(replicas);
        all.addAll(voters);
        if (all.size() > 20) {
            throw new IllegalArgumentException("subset enumeration is meant for a handful of nodes, not " + all.size());
        }
        return List.copyOf(all);
    }

    /** Is there a connected set of up nodes with both majorities and an eligible replica at {@code t}? n is at most 5: try every subset. */
    static boolean healthyAt(long t, List<Integer> replicas, List<Integer> voters, List<Integer> universe,
                             List<NodeFault> faults) {
        return healthyAt(t, replicas, voters, universe, faults, new java.util.HashSet<>(replicas));
    }

    static boolean healthyAt(long t, List<Integer> replicas, List<Integer> voters, List<Integer> universe,
                             List<NodeFault> faults, Set<Integer> eligible) {
        int n = universe.size();
        int downMask = 0;
        // cut[i] has bit j when packets between i and j are dropped in either direction
        int[] cut = new int[n];
        for (NodeFault f : faults) {
            if (f.startUs() <= t && t < f.endUs()) {
                for (int node : f.down()) {
                    int i = universe.indexOf(node);
                    if (i >= 0) {
                        downMask |= 1 << i;
                    }
                }
                for (NodeFault.Cut c : f.cuts()) {
                    int i = universe.indexOf(c.from());
                    int j = universe.indexOf(c.to());
                    if (i >= 0 && j >= 0) {
                        cut[i] |= 1 << j;
                        cut[j] |= 1 << i;
                    }
                }
            }
        }
        int replicaMask = mask(replicas, universe);
        int voterMask = mask(voters, universe);
        int eligibleMask = mask(eligible, universe);
        for (int s = 1; s < 1 << n; s++) {
            if ((s & downMask) != 0
                    || (s & eligibleMask) == 0
                    || !majority(s, replicaMask, replicas.size())
                    || !majority(s, voterMask, voters.size())
                    || !connected(s, cut, n)) {
                continue;
            }
            return true;
        }
        return false;
    }

    private static boolean majority(int set, int of, int size) {
        return Integer.bitCount(set & of) * 2 > size;
    }

    private static boolean connected(int set, int[] cut, int n) {
        for (int i = 0; i < n; i++) {
            if ((set & (1 << i)) != 0 && (cut[i] & set) != 0) {
                return false;
            }
        }
        return true;
    }

    /** The bits of {@code ids} in {@code universe}; an id outside it (a node the run does not know) has none. */
    private static int mask(java.util.Collection<Integer> ids, List<Integer> universe) {
        int m = 0;
        for (int id : ids) {
            int i = universe.indexOf(id);
            if (i >= 0) {
                m |= 1 << i;
            }
        }
        return m;
    }
}
