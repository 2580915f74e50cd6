package io.spate.chaos.history;

import java.util.List;

/**
 * One injected fault, from the moment it began to the moment it was healed (microseconds since
 * the run started). {@code down} lists the nodes that could not serve during the window (killed,
 * stopped, paused, out of disk, starved of CPU); {@code cuts} the directed node pairs whose
 * packets were dropped ({@code from -> to}).
 */
public record NodeFault(String kind, String description, List<Integer> down, List<Cut> cuts, long startUs, long endUs) {

    /** Packets from node {@code from} to node {@code to} are dropped. */
    public record Cut(int from, int to) {
    }

    public NodeFault {
        down = List.copyOf(down);
        cuts = List.copyOf(cuts);
    }
}
