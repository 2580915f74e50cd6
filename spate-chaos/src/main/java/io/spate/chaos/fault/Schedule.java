package io.spate.chaos.fault;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A seeded random fault schedule: the same seed, node count, duration and fault kinds give the
 * same faults at the same offsets, so a failing run can be replayed with {@code --seed}. Faults
 * overlap; a node takes at most one node-level fault at a time (kill, pause, stop, disk, CPU),
 * and at most {@code nodes - 1} nodes are taken out at once, so the quorum is sometimes lost and
 * always comes back.
 */
public final class Schedule {
    /** Planned time a restarted node needs before it serves again (a JVM start and a catch-up). */
    static final long RESTART_ALLOWANCE_MS = 6_000;
    static final long WARM_UP_MS = 3_000;

    private Schedule() {
    }

    public static List<PlannedFault> generate(long seed, int nodes, long durationMs, Set<FaultKind> allowed, long sessionTimeoutMs) {
        Random random = new Random(seed);
        List<FaultKind> kinds = new ArrayList<>();
        for (FaultKind kind : allowed) {
            if (kind == FaultKind.SPLIT && nodes < 5) {
                continue; // with three nodes a 2|1 split is ISOLATE
            }
            for (int i = 0; i < kind.weight(); i++) {
                kinds.add(kind);
            }
        }
        List<PlannedFault> plan = new ArrayList<>();
        if (kinds.isEmpty()) {
            return plan;
        }
        long[] busyUntil = new long[nodes + 1];
        long networkBusyUntil = 0;
        long t = WARM_UP_MS;
        while (t < durationMs - 2_000) {
            FaultKind kind = kinds.get(random.nextInt(kinds.size()));
            long hold = hold(kind, random, sessionTimeoutMs);
            List<Integer> targets = null;
            if (kind.nodeLevel()) {
                List<Integer> free = new ArrayList<>();
                int busy = 0;
                for (int id = 1; id <= nodes; id++) {
                    if (busyUntil[id] > t) {
                        busy++;
                    } else {
                        free.add(id);
                    }
                }
                if (!free.isEmpty() && busy < nodes - 1) {
                    int target = free.get(random.nextInt(free.size()));
                    targets = List.of(target);
                    boolean restarts = kind == FaultKind.KILL || kind == FaultKind.TERM || kind == FaultKind.DISK_FULL;
                    busyUntil[target] = t + hold + (restarts ? RESTART_ALLOWANCE_MS : 500);
                }
            } else if (networkBusyUntil <= t) {
                targets = networkTargets(kind, nodes, random);
                networkBusyUntil = t + hold + 500;
            }
            if (targets != null) {
                plan.add(new PlannedFault(plan.size() + 1, t, kind, targets, hold));
            }
            t += 1_000 + random.nextInt(8_000);
        }
        return plan;
    }

    private static long hold(FaultKind kind, Random random, long sessionTimeoutMs) {
        return switch (kind) {
            case KILL -> between(random, 1_000, 8_000);
            case TERM -> between(random, 1_000, 6_000);
            // Half shorter than the session timeout (the node keeps its place), half longer.
            case PAUSE -> random.nextBoolean()
                    ? between(random, sessionTimeoutMs / 5, sessionTimeoutMs * 4 / 5)
                    : between(random, sessionTimeoutMs * 3 / 2, Math.max(sessionTimeoutMs * 2, 12_000));
            case DISK_FULL, CPU_STARVE -> between(random, 3_000, 12_000);
            case ISOLATE, ONE_WAY, SPLIT -> between(random, 2_000, 15_000);
        };
    }

    private static List<Integer> networkTargets(FaultKind kind, int nodes, Random random) {
        List<Integer> all = new ArrayList<>();
        for (int id = 1; id <= nodes; id++) {
            all.add(id);
        }
        java.util.Collections.shuffle(all, random);
        return switch (kind) {
            case ISOLATE -> List.of(all.get(0));
            case ONE_WAY -> List.of(all.get(0), all.get(1));
            case SPLIT -> List.copyOf(all.subList(0, nodes / 2)).stream().sorted().toList();
            default -> throw new IllegalArgumentException(kind + " is not a network fault");
        };
    }

    private static long between(Random random, long low, long high) {
        return low + (long) (random.nextDouble() * (high - low));
    }

    public static Set<FaultKind> all() {
        return EnumSet.allOf(FaultKind.class);
    }
}
