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
        List<MetadataCommand.ReassignPartition> moves = new ArrayList<>();
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
                    List<Integer> replicas = topic.partitions().get(p).targetReplicas();
                    if (!replicas.contains(node) || !planned.add(topic.name() + "-" + p)) {
                        continue;
                    }
                    int replacement = leastLoaded(load, replicas, topic.name(), p);
                    moves.add(new MetadataCommand.ReassignPartition(topic.name(), p, replaced(replicas, node, replacement)));
                    load.merge(replacement, 1, Integer::sum);
                    addFollowers(topic.name(), p, replicas, placedWith, node, replacement, planned, moves, load);
                }
            }
        }
        return moves;
    }

    private static void addFollowers(String anchor, int p, List<Integer> replicas, Map<String, List<TopicState>> placedWith, int node,
                                     int replacement, Set<String> planned, List<MetadataCommand.ReassignPartition> moves,
                                     Map<Integer, Integer> load) {
        for (TopicState follower : placedWith.getOrDefault(anchor, List.of())) {
            if (p >= follower.partitions().size()) {
                continue;
            }
            List<Integer> theirs = follower.partitions().get(p).targetReplicas();
            if (!new HashSet<>(theirs).equals(new HashSet<>(replicas)) || !planned.add(follower.name() + "-" + p)) {
                continue;
            }
            moves.add(new MetadataCommand.ReassignPartition(follower.name(), p, replaced(theirs, node, replacement)));
            load.merge(replacement, 1, Integer::sum);
            addFollowers(follower.name(), p, replicas, placedWith, node, replacement, planned, moves, load);
        }
    }

    private static int leastLoaded(Map<Integer, Integer> load, List<Integer> replicas, String topic, int p) {
        int best = -1;
        for (Map.Entry<Integer, Integer> e : load.entrySet()) {
            if (!replicas.contains(e.getKey()) && (best == -1 || e.getValue() < load.get(best))) {
                best = e.getKey();
            }
        }
        if (best == -1) {
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
