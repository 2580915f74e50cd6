package io.spate.cluster;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which moves take every replica off a node that is to leave the cluster (Redpanda's
 * decommission, done with Kafka's reassignments): each replica on it is replaced, at its place in
 * the replica list, by the live node with the fewest replicas that does not hold the partition
 * yet. Partition p of a topic placed with another ({@code spate.colocate.with}) gets the same
 * replacement as partition p of that topic while the two have the same replicas, so a pipeline's
 * internal topics stay with its input. A pure function of the image.
 */
public final class NodeDrain {
    private NodeDrain() {
    }

    /** A partition that cannot leave the node: no live node is left that does not hold it already. */
    public static final class NoRoomException extends IllegalStateException {
        NoRoomException(String message) {
            super(message);
        }
    }

    public static List<MetadataCommand.ReassignPartition> moves(ClusterImage image, int node) {
        List<MetadataCommand.ReassignPartition> moves = new ArrayList<>();
        plan(image, node, true).forEach(moves::addAll);
        return moves;
    }

    /**
     * The moves that take the replicas of an unavailable node to the live ones (the controller's
     * {@code continuous} autobalancing): as {@link #moves}, but only for partitions that can move
     * now (a live leader, no move running) and have somewhere to go; the others are left for a
     * later look. At most {@code budget} partitions, except that a partition and those placed
     * with it go together, even past the budget when they are the first.
     */
    public static List<MetadataCommand.ReassignPartition> evacuation(ClusterImage image, int node, int budget) {
        List<MetadataCommand.ReassignPartition> moves = new ArrayList<>();
        for (List<MetadataCommand.ReassignPartition> group : plan(image, node, false)) {
            if (!moves.isEmpty() && moves.size() + group.size() > budget) {
                break;
            }
            moves.addAll(group);
        }
        return moves;
    }

    /** Groups of moves (a partition, then those placed with it); {@code strict}: every replica on the node, or NoRoomException. */
    private static List<List<MetadataCommand.ReassignPartition>> plan(ClusterImage image, int node, boolean strict) {
        List<Integer> live = new ArrayList<>(image.liveNodes());
        live.remove(Integer.valueOf(node));
        Map<Integer, Integer> load = new TreeMap<>();
        live.forEach(n -> load.put(n, 0));
        for (TopicState topic : image.topics().values()) {
            for (PartitionState p : topic.partitions()) {
                p.targetReplicas().forEach(r -> load.computeIfPresent(r, (k, v) -> v + 1));
            }
        }
        Map<String, List<TopicState>> placedWith = new HashMap<>();
        for (TopicState topic : image.topics().values()) {
            String anchor = topic.overrides().get(NodeFill.COLOCATE_WITH);
            if (anchor != null && !anchor.isEmpty() && image.topic(anchor) != null) {
                placedWith.computeIfAbsent(anchor, a -> new ArrayList<>()).add(topic);
            }
        }
        List<List<MetadataCommand.ReassignPartition>> groups = new ArrayList<>();
        Set<String> planned = new HashSet<>();
        // Anchors first, so that what is placed with them moves with them; then whatever is left.
        for (boolean anchorsOnly : new boolean[]{true, false}) {
            for (TopicState topic : image.topics().values()) {
                String anchor = topic.overrides().get(NodeFill.COLOCATE_WITH);
                boolean follower = anchor != null && !anchor.isEmpty() && image.topic(anchor) != null;
                if (anchorsOnly && follower) {
                    continue;
                }
                for (int p = 0; p < topic.partitions().size(); p++) {
                    PartitionState state = topic.partitions().get(p);
                    List<Integer> replicas = state.targetReplicas();
                    if (!replicas.contains(node) || (!strict && !movableNow(state)) || !planned.add(topic.name() + "-" + p)) {
                        continue;
                    }
                    int replacement = leastLoaded(load, replicas, topic.name(), p, strict);
                    if (replacement < 0) {
                        continue;
                    }
                    List<MetadataCommand.ReassignPartition> group = new ArrayList<>();
                    group.add(new MetadataCommand.ReassignPartition(topic.name(), p, replaced(replicas, node, replacement)));
                    load.merge(replacement, 1, Integer::sum);
                    addFollowers(topic.name(), p, replicas, placedWith, node, replacement, planned, group, load, strict);
                    groups.add(group);
                }
            }
        }
        return groups;
    }

    /** A move can start: the partition has a leader to copy from and no move running. */
    private static boolean movableNow(PartitionState state) {
        return state.hasLeader() && !state.reassigning();
    }

    private static void addFollowers(String anchor, int p, List<Integer> replicas, Map<String, List<TopicState>> placedWith, int node,
                                     int replacement, Set<String> planned, List<MetadataCommand.ReassignPartition> moves,
                                     Map<Integer, Integer> load, boolean strict) {
        for (TopicState follower : placedWith.getOrDefault(anchor, List.of())) {
            if (p >= follower.partitions().size()) {
                continue;
            }
            PartitionState state = follower.partitions().get(p);
            List<Integer> theirs = state.targetReplicas();
            if (!new HashSet<>(theirs).equals(new HashSet<>(replicas)) || (!strict && !movableNow(state))
                    || !planned.add(follower.name() + "-" + p)) {
                continue;
            }
            moves.add(new MetadataCommand.ReassignPartition(follower.name(), p, replaced(theirs, node, replacement)));
            load.merge(replacement, 1, Integer::sum);
            addFollowers(follower.name(), p, replicas, placedWith, node, replacement, planned, moves, load, strict);
        }
    }

    /** The live node with the fewest replicas not holding the partition; -1 (or NoRoomException when {@code strict}) if none. */
    private static int leastLoaded(Map<Integer, Integer> load, List<Integer> replicas, String topic, int p, boolean strict) {
        int best = -1;
        for (Map.Entry<Integer, Integer> e : load.entrySet()) {
            if (!replicas.contains(e.getKey()) && (best == -1 || e.getValue() < load.get(best))) {
                best = e.getKey();
            }
        }
        if (best == -1 && strict) {
            throw new NoRoomException(topic + "-" + p + " has replicas on " + replicas + " and no other live node is left to take one: "
                    + "add a node first, or lower the topic's replication factor");
        }
        return best;
    }

    private static List<Integer> replaced(List<Integer> replicas, int from, int to) {
        List<Integer> next = new ArrayList<>(replicas);
        next.set(next.indexOf(from), to);
        return next;
    }
}
