package io.spate.cluster;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which partitions to move onto a node that joined the cluster empty, so that adding a server
 * spreads the load to it (Redpanda's {@code node_add} autobalancing; Kafka leaves it to an
 * operator). A pure function of the image: the controller asks it again after every move it
 * started, until the node holds its share of the replicas or nothing more can move.
 *
 * <p>A move replaces one replica of the most loaded node with the new node, at the same place in
 * the replica list. In each topic where the new node is the preferred leader of fewer partitions
 * than its share, moves of a preferred leader's replica come first, so that it takes its share of
 * every topic's leaderships once the preferred-leader rebalance runs (and with them the pipeline
 * tasks that run there). Only partitions whose replicas are all alive and in sync and
 * that are not already moving are taken. A topic created with {@code spate.colocate.with} (a
 * pipeline's internal topics, placed with its input) never moves alone: partition p of it moves
 * with partition p of the topic it is placed with, as long as the two have the same replicas, so
 * processing at the data keeps its changelogs and repartitions on the input's nodes.
 */
public final class NodeFill {
    /** The topic config that places a topic's partitions with another's (spate-log's {@code LogConfig.COLOCATE_WITH}). */
    static final String COLOCATE_WITH = "spate.colocate.with";

    private NodeFill() {
    }

    /** Replicas the node holds or is being given (targets of running moves included). */
    public static int replicaCount(ClusterImage image, int node) {
        int count = 0;
        for (TopicState topic : image.topics().values()) {
            for (PartitionState p : topic.partitions()) {
                if (p.replicas().contains(node)) {
                    count++;
                }
            }
        }
        return count;
    }

    /**
     * Whether {@code node} is live and holds at least its share of the replicas on the live nodes
     * (targets of running moves counted), the share {@link #moves} fills it to.
     */
    public static boolean holdsShare(ClusterImage image, int node) {
        List<Integer> live = image.liveNodes();
        if (!live.contains(node)) {
            return false;
        }
        int total = 0;
        int held = 0;
        for (TopicState topic : image.topics().values()) {
            for (PartitionState p : topic.partitions()) {
                for (int r : p.targetReplicas()) {
                    if (live.contains(r)) {
                        total++;
                        if (r == node) {
                            held++;
                        }
                    }
                }
            }
        }
        return held >= total / live.size();
    }

    /** Whether a running move is still copying onto {@code node}. */
    public static boolean receiving(ClusterImage image, int node) {
        for (TopicState topic : image.topics().values()) {
            for (PartitionState p : topic.partitions()) {
                if (p.adding().contains(node)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Partitions with a move running now. */
    public static int movesRunning(ClusterImage image) {
        int count = 0;
        for (TopicState topic : image.topics().values()) {
            for (PartitionState p : topic.partitions()) {
                if (p.reassigning()) {
                    count++;
                }
            }
        }
        return count;
    }

    /**
     * Moves of at most {@code budget} partitions (a partition and those placed with it go
     * together, even past the budget when they are the first) that bring {@code target} toward
     * its share, in a deterministic order.
     */
    public static List<MetadataCommand.ReassignPartition> moves(ClusterImage image, int target, int budget) {
        List<Integer> live = image.liveNodes();
        if (budget <= 0 || !live.contains(target) || live.size() < 2) {
            return List.of();
        }
        Map<Integer, Integer> load = new TreeMap<>();
        live.forEach(n -> load.put(n, 0));
        int total = 0;
        // Preferred leaderships of the target per topic: leaders are balanced topic by topic, since a topic's partitions carry alike.
        Map<String, Integer> led = new HashMap<>();
        for (TopicState topic : image.topics().values()) {
            for (PartitionState p : topic.partitions()) {
                if (p.preferredLeader() == target) {
                    led.merge(topic.name(), 1, Integer::sum);
                }
                for (int r : p.targetReplicas()) {
                    if (load.containsKey(r)) {
                        load.merge(r, 1, Integer::sum);
                        total++;
                    }
                }
            }
        }
        int share = total / live.size();
        Map<String, List<TopicState>> placedWith = new HashMap<>();
        for (TopicState topic : image.topics().values()) {
            String anchor = topic.overrides().get(COLOCATE_WITH);
            if (anchor != null && !anchor.isEmpty() && image.topic(anchor) != null) {
                placedWith.computeIfAbsent(anchor, a -> new ArrayList<>()).add(topic);
            }
        }
        List<MetadataCommand.ReassignPartition> moves = new ArrayList<>();
        Set<String> taken = new HashSet<>();
        while (moves.size() < budget && load.get(target) < share) {
            boolean moved = false;
            for (int donor : donorsByLoad(load, target)) {
                // First a preferred leader's replica of a topic where the target leads less than its share,
                // then a follower's replica, then any.
                int maxReplicas = load.get(donor) - load.get(target) - 1;
                List<MetadataCommand.ReassignPartition> group = List.of();
                for (Pick pick : Pick.values()) {
                    group = firstMovable(image, placedWith, live, target, donor, taken, pick, led, maxReplicas);
                    if (!group.isEmpty()) {
                        break;
                    }
                }
                if (group.isEmpty()) {
                    continue;
                }
                if (!moves.isEmpty() && moves.size() + group.size() > budget) {
                    return moves;
                }
                if (group.get(0).target().get(0) == target) {
                    led.merge(group.get(0).topic(), 1, Integer::sum);
                }
                for (MetadataCommand.ReassignPartition move : group) {
                    taken.add(move.topic() + "-" + move.partition());
                    load.merge(donor, -1, Integer::sum);
                    load.merge(target, 1, Integer::sum);
                }
                moves.addAll(group);
                moved = true;
                break;
            }
            if (!moved) {
                break;
            }
        }
        return moves;
    }

    /** Nodes holding at least two replicas more than the target, most loaded first (then by id). */
    private static List<Integer> donorsByLoad(Map<Integer, Integer> load, int target) {
        int floor = load.get(target) + 2;
        return load.entrySet().stream().filter(e -> e.getKey() != target && e.getValue() >= floor)
                .sorted((a, b) -> a.getValue().equals(b.getValue()) ? Integer.compare(a.getKey(), b.getKey()) : Integer.compare(b.getValue(), a.getValue()))
                .map(Map.Entry::getKey).toList();
    }

    /**
     * The first partition (by topic name, then number) of the kind {@code pick} that may move from
     * donor to target, with the partitions placed with it. At most {@code maxReplicas} partitions
     * move together, so that a move narrows the gap between donor and target rather than reversing it.
     */
    private static List<MetadataCommand.ReassignPartition> firstMovable(ClusterImage image, Map<String, List<TopicState>> placedWith,
                                                                      List<Integer> live, int target, int donor, Set<String> taken,
                                                                      Pick pick, Map<String, Integer> led, int maxReplicas) {
        for (TopicState topic : image.topics().values()) {
            String anchor = topic.overrides().get(COLOCATE_WITH);
            if (anchor != null && !anchor.isEmpty() && image.topic(anchor) != null) {
                continue; // moves with its anchor
            }
            for (int p = 0; p < topic.partitions().size(); p++) {
                PartitionState state = topic.partitions().get(p);
                if (taken.contains(topic.name() + "-" + p) || !movable(state, live) || !state.replicas().contains(donor)
                        || state.replicas().contains(target) || !pick.takes(state.preferredLeader() == donor,
                        led.getOrDefault(topic.name(), 0) < topic.partitions().size() / live.size())) {
                    continue;
                }
                List<MetadataCommand.ReassignPartition> group = new ArrayList<>();
                group.add(new MetadataCommand.ReassignPartition(topic.name(), p, replaced(state.replicas(), donor, target)));
                boolean blocked = !addFollowers(topic.name(), p, state.replicas(), placedWith, live, donor, target, group);
                if (!blocked && group.size() <= maxReplicas) {
                    return group;
                }
            }
        }
        return List.of();
    }

    /**
     * Adds the moves of partition p of every topic placed with {@code anchor}, and of those placed
     * with them in turn (a changelog placed with a repartition topic placed with the input), where
     * the partition still has the anchor's replicas. False when one of them cannot move now.
     */
    private static boolean addFollowers(String anchor, int p, List<Integer> replicas, Map<String, List<TopicState>> placedWith,
                                        List<Integer> live, int donor, int target, List<MetadataCommand.ReassignPartition> group) {
        for (TopicState follower : placedWith.getOrDefault(anchor, List.of())) {
            if (p >= follower.partitions().size()) {
                continue;
            }
            PartitionState f = follower.partitions().get(p);
            if (!new HashSet<>(f.replicas()).equals(new HashSet<>(replicas))) {
                continue; // already placed elsewhere: it stays where it is
            }
            if (!movable(f, live) || group.size() > 64) {
                return false;
            }
            group.add(new MetadataCommand.ReassignPartition(follower.name(), p, replaced(f.replicas(), donor, target)));
            if (!addFollowers(follower.name(), p, replicas, placedWith, live, donor, target, group)) {
                return false;
            }
        }
        return true;
    }

    /** What kind of replica a move takes from its donor, in the order tried. */
    private enum Pick {
        /** The donor's preferred leadership, in a topic where the target leads less than its share. */
        LEADER,
        /** A replica the donor only follows with. */
        FOLLOWER,
        ANY;

        boolean takes(boolean donorLeads, boolean targetWantsLeadership) {
            return switch (this) {
                case LEADER -> donorLeads && targetWantsLeadership;
                case FOLLOWER -> !donorLeads;
                case ANY -> true;
            };
        }
    }

    private static boolean movable(PartitionState state, List<Integer> live) {
        return !state.reassigning() && state.hasLeader() && live.containsAll(state.replicas()) && state.isr().containsAll(state.replicas());
    }

    private static List<Integer> replaced(List<Integer> replicas, int donor, int target) {
        List<Integer> next = new ArrayList<>(replicas);
        next.set(next.indexOf(donor), target);
        return next;
    }
}
