package io.spate.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which leaderships go back to their preferred replica (Kafka's auto leader rebalance), with one
 * rule of Spate's: partition p of a topic placed with another ({@code spate.colocate.with}) moves
 * together with partition p of that anchor when both prefer the same node. A processing task
 * starts on the node leading its input partition and writes in place only to partitions that node
 * leads; moved one by one (as each partition's preferred replica got back in sync), the input's
 * leadership arrived alone and its task ran with transactions on a node that led none of its
 * outputs. So a group moves only once every partition of it that is to move can, and the placed
 * partitions' elections come before the anchor's: the node that takes the input already leads
 * the rest when its task starts. A placed partition with a preferred replica of its own (moved
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
        Map<String, List<TopicState>> placedWith = new TreeMap<>();
        Map<String, TopicState> topics = new TreeMap<>(image.topics());
        for (TopicState topic : topics.values()) {
            String anchor = anchorOf(image, topic);
            if (anchor != null) {
                placedWith.computeIfAbsent(anchor, a -> new ArrayList<>()).add(topic);
            }
        }
        List<MetadataCommand.ElectPreferredLeader> elections = new ArrayList<>();
        for (TopicState topic : topics.values()) {
            String anchor = anchorOf(image, topic);
            List<TopicState> placed = placedWith.getOrDefault(topic.name(), List.of());
            for (int p = 0; p < topic.partitions().size(); p++) {
                PartitionState state = topic.partitions().get(p);
                if (anchor != null) {
                    PartitionState anchorState = image.partition(anchor, p);
                    if (anchorState != null && anchorState.preferredLeader() == state.preferredLeader()) {
                        continue; // elected with its anchor's group
                    }
                    if (wantsAndCan(state, live)) {
                        elections.add(new MetadataCommand.ElectPreferredLeader(topic.name(), p));
                    }
                    continue;
                }
                List<MetadataCommand.ElectPreferredLeader> group = new ArrayList<>();
                boolean blocked = false;
                for (TopicState member : placed) {
                    if (p >= member.partitions().size()) {
                        continue;
                    }
                    PartitionState memberState = member.partitions().get(p);
                    if (memberState.preferredLeader() != state.preferredLeader() || memberState.leader() == memberState.preferredLeader()) {
                        continue;
                    }
                    if (!wantsAndCan(memberState, live)) {
                        blocked = true;
                        break;
                    }
                    group.add(new MetadataCommand.ElectPreferredLeader(member.name(), p));
                }
                if (blocked) {
                    continue; // the whole group waits for the partition that cannot move yet
                }
                if (state.leader() != state.preferredLeader()) {
                    if (!wantsAndCan(state, live)) {
                        continue;
                    }
                    group.add(new MetadataCommand.ElectPreferredLeader(topic.name(), p));
                }
                elections.addAll(group);
            }
        }
        return elections;
    }

    /** The topic this one is placed with, when it names one that exists; else null. */
    private static String anchorOf(ClusterImage image, TopicState topic) {
        String anchor = topic.overrides().get(NodeFill.COLOCATE_WITH);
        return anchor != null && !anchor.isEmpty() && !anchor.equals(topic.name()) && image.topic(anchor) != null ? anchor : null;
    }

    /** Not led by its preferred replica, which is alive and in sync: an election would take it there. */
    private static boolean wantsAndCan(PartitionState state, Set<Integer> live) {
        int preferred = state.preferredLeader();
        return state.leader() != preferred && live.contains(preferred) && state.isr().contains(preferred);
    }
}
