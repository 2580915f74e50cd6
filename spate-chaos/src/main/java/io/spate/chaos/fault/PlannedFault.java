package io.spate.chaos.fault;

import java.util.List;

/**
 * A fault the schedule will inject {@code atMs} after the workload starts, holding it for {@code
 * holdMs}. {@code targets}: the node (or, for a one-way cut, {@code [from, to]}; for a split, the
 * smaller side).
 */
public record PlannedFault(int index, long atMs, FaultKind kind, List<Integer> targets, long holdMs) {

    public PlannedFault {
        targets = List.copyOf(targets);
    }

    public String describe() {
        String what = switch (kind) {
            case KILL -> "kill -9 node " + targets.get(0) + ", restart after " + seconds(holdMs);
            case PAUSE -> "SIGSTOP node " + targets.get(0) + " for " + seconds(holdMs);
            case TERM -> "SIGTERM node " + targets.get(0) + ", restart after " + seconds(holdMs);
            case DISK_FULL -> "fill the disk of node " + targets.get(0) + " for " + seconds(holdMs);
            case CPU_STARVE -> "starve node " + targets.get(0) + " of CPU for " + seconds(holdMs);
            case ISOLATE -> "isolate node " + targets.get(0) + " for " + seconds(holdMs);
            case ONE_WAY -> "drop packets " + targets.get(0) + "->" + targets.get(1) + " for " + seconds(holdMs);
            case SPLIT -> "split " + targets + " from the rest for " + seconds(holdMs);
        };
        return "#" + index + " @" + seconds(atMs) + ": " + what;
    }

    static String seconds(long ms) {
        return String.format(java.util.Locale.ROOT, "%.1fs", ms / 1000.0);
    }
}
