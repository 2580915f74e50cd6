package io.spate.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.spate.cluster.TestImages.image;
import static io.spate.cluster.TestImages.nodes;
import static io.spate.cluster.TestImages.topic;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Preferred leaders come back, and a placed topic's partition comes back with its anchor's: the
 * situation after a restarted node 1 caught up on some partitions and not yet on others.
 */
class LeaderRebalanceTest {
    private static final Map<Integer, NodeInfo> THREE_NODES = nodes(1, 2, 3);
    private static final List<Integer> PREFERS_1 = List.of(1, 2, 3);
    private static final Map<String, String> PLACED_WITH_CLICKS = Map.of("spate.colocate.with", "clicks");

    /** Led by node 2 (node 1, the preferred replica, was away) with the given in-sync set. */
    private static PartitionState ledBy2(List<Integer> isr) {
        return new PartitionState(PREFERS_1, 2, 1, isr, 1);
    }

    private static TopicState oneMovedPartition(String name, Map<String, String> overrides, List<Integer> isr) {
        return topic(name, List.of(PREFERS_1), overrides).withPartition(0, ledBy2(isr));
    }

    private static List<String> names(List<MetadataCommand.ElectPreferredLeader> elections) {
        return elections.stream().map(e -> e.topic() + "-" + e.partition()).toList();
    }

    @Test
    void aPartitionWhosePreferredReplicaIsInSyncGoesBack() {
        ClusterImage image = image(THREE_NODES, oneMovedPartition("logs", Map.of(), List.of(2, 3, 1)),
                oneMovedPartition("metrics", Map.of(), List.of(2, 3)));
        assertThat(names(LeaderRebalance.elections(image))).containsExactly("logs-0");
    }

    @Test
    void anInputWaitsForTheOutputsPlacedWithIt() {
        // The input's preferred replica is back in sync, its output's not yet: moved alone, the
        // input's task would start on node 1 and find its output led by node 2.
        ClusterImage image = image(THREE_NODES, oneMovedPartition("clicks", Map.of(), List.of(2, 3, 1)),
                oneMovedPartition("tagged", PLACED_WITH_CLICKS, List.of(2, 3)));
        assertThat(LeaderRebalance.elections(image)).isEmpty();
    }

    @Test
    void placedPartitionsMoveFirstThenTheirAnchor() {
        ClusterImage image = image(THREE_NODES, oneMovedPartition("clicks", Map.of(), List.of(2, 3, 1)),
                oneMovedPartition("tagged", PLACED_WITH_CLICKS, List.of(2, 3, 1)),
                oneMovedPartition("a-changelog", PLACED_WITH_CLICKS, List.of(3, 2, 1)));
        assertThat(names(LeaderRebalance.elections(image))).containsExactly("a-changelog-0", "tagged-0", "clicks-0");
    }

    @Test
    void aChainOfPlacementsMovesAsOneGroupDeepestFirst() {
        // A stateful pipeline's changelog is placed with its repartition topic, placed with the input.
        ClusterImage image = image(THREE_NODES, oneMovedPartition("clicks", Map.of(), List.of(2, 3, 1)),
                oneMovedPartition("by-user-repartition", PLACED_WITH_CLICKS, List.of(2, 3, 1)),
                oneMovedPartition("count-changelog", Map.of("spate.colocate.with", "by-user-repartition"), List.of(2, 3, 1)));
        assertThat(names(LeaderRebalance.elections(image))).containsExactly("count-changelog-0", "by-user-repartition-0", "clicks-0");

        ClusterImage changelogBehind = image(THREE_NODES, oneMovedPartition("clicks", Map.of(), List.of(2, 3, 1)),
                oneMovedPartition("by-user-repartition", PLACED_WITH_CLICKS, List.of(2, 3, 1)),
                oneMovedPartition("count-changelog", Map.of("spate.colocate.with", "by-user-repartition"), List.of(2, 3)));
        assertThat(LeaderRebalance.elections(changelogBehind)).as("the changelog's follower holds the chain back").isEmpty();
    }

    @Test
    void topicsPlacedWithEachOtherAreElectedEachOnItsOwn() {
        ClusterImage image = image(THREE_NODES, oneMovedPartition("a", Map.of("spate.colocate.with", "b"), List.of(2, 3, 1)),
                oneMovedPartition("b", Map.of("spate.colocate.with", "a"), List.of(2, 3)));
        assertThat(names(LeaderRebalance.elections(image))).containsExactly("a-0");
    }

    @Test
    void aPlacedPartitionLeftBehindFollowsItsAnchorAlone() {
        // The anchor went back earlier (or was never moved); its output is still led elsewhere.
        ClusterImage image = image(THREE_NODES, topic("clicks", List.of(PREFERS_1), Map.of()),
                oneMovedPartition("tagged", PLACED_WITH_CLICKS, List.of(2, 3, 1)));
        assertThat(names(LeaderRebalance.elections(image))).containsExactly("tagged-0");
    }

    @Test
    void aPlacedPartitionMovedApartOnPurposeIsElectedAlone() {
        // Its replicas were reordered by a reassignment: it prefers node 3, and does not hold the input back.
        TopicState apart = topic("tagged", List.of(List.of(3, 1, 2)), PLACED_WITH_CLICKS)
                .withPartition(0, new PartitionState(List.of(3, 1, 2), 1, 1, List.of(1, 2), 1));
        ClusterImage image = image(THREE_NODES, oneMovedPartition("clicks", Map.of(), List.of(2, 3, 1)), apart);
        assertThat(names(LeaderRebalance.elections(image))).containsExactly("clicks-0");
    }

    @Test
    void aPreferredReplicaThatIsNotLiveIsNotElected() {
        Map<Integer, NodeInfo> nodes = new java.util.HashMap<>(THREE_NODES);
        nodes.put(1, nodes.get(1).fence());
        ClusterImage image = image(nodes, oneMovedPartition("clicks", Map.of(), List.of(2, 3, 1)),
                oneMovedPartition("tagged", PLACED_WITH_CLICKS, List.of(2, 3, 1)));
        assertThat(LeaderRebalance.elections(image)).isEmpty();
    }
}
