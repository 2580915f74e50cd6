package io.spate.chaos.fault;

/** What a fault does to its target nodes, and whether it takes them out (node) or cuts links (network). */
public enum FaultKind {
    /** kill -9, then a restart on the same disk after the hold. */
    KILL(true, 3),
    /** SIGSTOP for the hold, then SIGCONT: shorter or longer than the broker session timeout. */
    PAUSE(true, 3),
    /** SIGTERM (a clean stop, leadership handed over), then a restart: one step of a rolling restart. */
    TERM(true, 2),
    /** The node's disk fills up (ENOSPC) for the hold, then is freed. */
    DISK_FULL(true, 1),
    /** The node gets a few percent of one core for the hold. */
    CPU_STARVE(true, 1),
    /** No packets between one node and every other node, both ways. */
    ISOLATE(false, 2),
    /** Packets from one node to another are dropped; the other direction still works. */
    ONE_WAY(false, 1),
    /** Two groups of nodes (2|3 in a five-node cluster) that cannot reach each other. */
    SPLIT(false, 1);

    private final boolean nodeLevel;
    private final int weight;

    FaultKind(boolean nodeLevel, int weight) {
        this.nodeLevel = nodeLevel;
        this.weight = weight;
    }

    /** True when the fault takes whole nodes out (one such fault per node at a time). */
    public boolean nodeLevel() {
        return nodeLevel;
    }

    /** How often the schedule picks it, relative to the others. */
    int weight() {
        return weight;
    }

    public String label() {
        return name().toLowerCase().replace('_', '-');
    }

    public static FaultKind parse(String label) {
        return valueOf(label.strip().toUpperCase().replace('-', '_'));
    }
}
