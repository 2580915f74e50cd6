package io.spate.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which leaderships go back to their preferred replica (Kafka's auto leader rebalance), with one
 * rule of Spate's: partition p of a topic placed with another ({@code spate.colocate.with}) moves
 * together with partition p of that anchor (and of the anchor's own anchor, to the start of the
 * chain: a changelog placed with a repartition topic placed with the input) when they prefer the
 * same node. A processing task
 * starts on the node leading its input partition and writes in place only to partitions that node
 * leads; moved one by one (as each partition's preferred replica got back in sync), the input's
 * leadership arrived alone and its task ran with transactions on a node that led none of its
 * outputs. So a group moves only once every partition of it that is to move can, and the placed
 * partitions' elections come before the anchor's, the deepest first (each is a command of its
 * own, applied in the order submitted): the node that takes the input already leads the rest
 * when its task starts. A placed partition with a preferred replica of its own (moved
 * apart on purpose) is elected alone, as any topic's.
 *
 * <p>Pure: reads one image and returns the elections in the order they are to be submitted.
 */
public final class LeaderRebalance {
    private LeaderRebalance() {
    }

    public static List<MetadataCommand.ElectPreferredLeader> elections(ClusterImage image) {
        Set<Integer> live = Set.copyOf(image.liveNodes());
        // Sorted, so that the same image always gives the same order.
        Map<String, TopicState> topics = new TreeMap<>(image.topics());
        // Each placed topic under the topic at the start of its chain (a changelog placed with a
        // repartition topic placed with the input), deepest first: a task's input comes last.
        Map<String, Integer> depth = new TreeMap<>();
        Map<String, List<TopicState>> placedUnder = new TreeMap<>();
        for (TopicState topic : topics.values()) {
            List<String> chain = chain(image, topic);
            if (chain.size() > 1) {
                depth.put(topic.name(), chain.size() - 1);
                placedUnder.computeIfAbsent(chain.get(chain.size() - 1), root -> new ArrayList<>()).add(topic);
            }
        }
        placedUnder.values().forEach(members -> members.sort(
                java.util.Comparator.<TopicState>comparingInt(t -> -depth.get(t.name())).thenComparing(TopicState::name)));
        List<MetadataCommand.ElectPreferredLeader> elections = new ArrayList<>();
        for (TopicState topic : topics.values()) {
            if (depth.containsKey(topic.name())) {
                continue; // with its chain's first topic, below
            }
            List<TopicState> placed = placedUnder.getOrDefault(topic.name(), List.of());
            for (int p = 0; p < topic.partitions().size(); p++) {
                PartitionState state = topic.partitions().get(p);
                List<MetadataCommand.ElectPreferredLeader> group = new ArrayList<>();
                boolean blocked = false;
                for (TopicState member : placed) {
                    if (p >= member.partitions().size()) {
                        continue;
                    }
                    PartitionState memberState = member.partitions().get(p);
                    if (memberState.preferredLeader() != state.preferredLeader()) {
                        // Placed apart on purpose (its replicas reordered): elected on its own.
                        if (wantsAndCan(memberState, live)) {
                            elections.add(new MetadataCommand.ElectPreferredLeader(member.name(), p));
                        }
                        continue;
                    }
                    if (memberState.leader() == memberState.preferredLeader()) {
                        continue;
                    }
                    if (!wantsAndCan(memberState, live)) {
                        blocked = true; // the whole group waits for the partition that cannot move yet
                        continue;
                    }
                    group.add(new MetadataCommand.ElectPreferredLeader(member.name(), p));
                }
                if (state.leader() != state.preferredLeader()) {
                    if (!wantsAndCan(state, live)) {
                        blocked = true;
                    } else {
                        group.add(new MetadataCommand.ElectPreferredLeader(topic.name(), p));
                    }
                }
                if (!blocked) {
                    elections.addAll(group);
                }
            }
        }
        return elections;
    }

    /**
     * The topic, the topic it is placed with, that one's, and so on up to one placed with none
     * that exists. A loop of placements counts as no placement: the topic is its own chain.
     */
    private static List<String> chain(ClusterImage image, TopicState topic) {
        List<String> chain = new ArrayList<>(List.of(topic.name()));
        TopicState at = topic;
        while (true) {
            String anchor = at.overrides().get(NodeFill.COLOCATE_WITH);
            if (anchor == null || anchor.isEmpty() || image.topic(anchor) == null) {
                return chain;
            }
            if (chain.contains(anchor)) {
                return List.of(topic.name());
            }
            chain.add(anchor);
            at = image.topic(anchor);
        }
    }

    /** Not led by its preferred replica, which is alive and in sync: an election would take it there. */
    private static boolean wantsAndCan(PartitionState state, Set<Integer> live) {
        int preferred = state.preferredLeader();
        return state.leader() != preferred && live.contains(preferred) && state.isr().contains(preferred);
    }
}
