package io.spate.broker.cli;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.PartitionState;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The planned moves of a drain that cannot finish: partitions with no leader and no in-sync
 * replica on a live node (a replication-factor-1 partition on a node that is down), so no new
 * replica has anything to copy from. Started anyway, such a move stays pending until that node
 * returns, the drain waits for it for good, and every later drain is refused while it runs.
 */
final class StrandedPartitions {
    private final List<MetadataCommand.ReassignPartition> movable;
    private final List<String> stranded;
    private final TreeSet<Integer> holders;

    private StrandedPartitions(List<MetadataCommand.ReassignPartition> movable, List<String> stranded, TreeSet<Integer> holders) {
        this.movable = List.copyOf(movable);
        this.stranded = List.copyOf(stranded);
        this.holders = holders;
    }

    static StrandedPartitions of(ClusterImage image, List<MetadataCommand.ReassignPartition> moves) {
        List<Integer> live = image.liveNodes();
        List<MetadataCommand.ReassignPartition> movable = new ArrayList<>();
        List<String> stranded = new ArrayList<>();
        TreeSet<Integer> holders = new TreeSet<>();
        for (MetadataCommand.ReassignPartition move : moves) {
            PartitionState state = image.partition(move.topic(), move.partition());
            if (state.hasLeader() || state.isr().stream().anyMatch(live::contains)) {
                movable.add(move);
            } else {
                stranded.add(move.topic() + "-" + move.partition());
                holders.addAll(state.isr().isEmpty() ? state.replicas() : state.isr());
            }
        }
        return new StrandedPartitions(movable, stranded, holders);
    }

    /** The moves that have a leader to copy from (or a live in-sync replica about to become one). */
    List<MetadataCommand.ReassignPartition> movable() {
        return movable;
    }

    boolean isEmpty() {
        return stranded.isEmpty();
    }

    int size() {
        return stranded.size();
    }

    String names() {
        return String.join(", ", stranded);
    }

    /** One line: which partitions are left out, why, and what would let them move. */
    String describe() {
        String nodes = holders.stream().map(String::valueOf).collect(Collectors.joining(", "));
        return "left out " + stranded.size() + " partition(s) with no leader and no in-sync replica on a live node, so nothing to copy from ("
                + names() + "): start node(s) " + nodes + " again to move them, or delete their topic(s) if that data is lost for good";
    }
}
