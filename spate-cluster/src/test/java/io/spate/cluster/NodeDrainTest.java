package io.spate.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.spate.cluster.TestImages.image;
import static io.spate.cluster.TestImages.nodes;
import static io.spate.cluster.TestImages.topic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The moves that empty a node before it leaves: where each replica goes, and what cannot leave. */
class NodeDrainTest {
    @Test
    void everyReplicaLeavesTheNodeInPlaceAndTheOthersShareThemEvenly() {
        List<List<Integer>> assignment = Placement.assign("orders", 0, 8, 3, List.of(1, 2, 3, 4));
        ClusterImage image = image(nodes(1, 2, 3, 4), topic("orders", assignment, Map.of()));

        List<MetadataCommand.ReassignPartition> moves = NodeDrain.moves(image, 4);

        assertThat(moves).hasSize((int) assignment.stream().filter(r -> r.contains(4)).count());
        Map<Integer, Integer> load = new HashMap<>(Map.of(1, 0, 2, 0, 3, 0));
        List<List<Integer>> after = new ArrayList<>(assignment);
        for (MetadataCommand.ReassignPartition move : moves) {
            List<Integer> before = assignment.get(move.partition());
            assertThat(move.target()).doesNotContain(4).doesNotHaveDuplicates().hasSize(3);
            for (int i = 0; i < 3; i++) {
                if (before.get(i) != 4) {
                    assertThat(move.target().get(i)).as("the other replicas keep their places").isEqualTo(before.get(i));
                }
            }
            after.set(move.partition(), move.target());
        }
        after.forEach(r -> r.forEach(n -> load.merge(n, 1, Integer::sum)));
        assertThat(load.values().stream().mapToInt(Integer::intValue).max().orElseThrow()
                - load.values().stream().mapToInt(Integer::intValue).min().orElseThrow()).isLessThanOrEqualTo(1);
    }

    @Test
    void aTopicPlacedWithTheInputGetsTheSameReplacement() {
        List<List<Integer>> inputs = List.of(List.of(1, 4), List.of(4, 2), List.of(2, 3));
        ClusterImage image = image(nodes(1, 2, 3, 4), topic("events", inputs, Map.of()),
                topic("app-changelog", inputs, Map.of(NodeFill.COLOCATE_WITH, "events")));

        List<MetadataCommand.ReassignPartition> moves = NodeDrain.moves(image, 4);

        assertThat(moves).hasSize(4);
        for (int p : List.of(0, 1)) {
            var pair = moves.stream().filter(m -> m.partition() == p).toList();
            assertThat(pair).extracting(MetadataCommand.ReassignPartition::topic).containsExactlyInAnyOrder("events", "app-changelog");
            assertThat(pair.get(0).target()).isEqualTo(pair.get(1).target());
        }
    }

    @Test
    void aPartitionOnEveryOtherNodeAlreadyCannotLeave() {
        ClusterImage image = image(nodes(1, 2, 3), topic("wide", List.of(List.of(1, 2, 3)), Map.of()));
        assertThatThrownBy(() -> NodeDrain.moves(image, 3)).isInstanceOf(NodeDrain.NoRoomException.class).hasMessageContaining("wide-0");
    }

    /** The replicas of a dead node (continuous autobalancing): only partitions that can move now, within the budget, groups whole. */
    @Test
    void anEvacuationMovesWhatCanMoveNowWithinItsBudgetAndLeavesTheRestForLater() {
        Map<Integer, NodeInfo> nodes = nodes(1, 2, 3, 4);
        nodes.put(4, new NodeInfo(4, "127.0.0.1", 9004, 1, true));
        List<List<Integer>> inputs = List.of(List.of(1, 4), List.of(4, 2), List.of(2, 3), List.of(3, 4), List.of(4, 1));
        TopicState events = topic("events", inputs, Map.of());
        // Partition 3 has no leader (its other replica died too), partition 4 is already moving.
        List<PartitionState> partitions = new ArrayList<>(events.partitions());
        partitions.set(3, new PartitionState(List.of(3, 4), PartitionState.NO_LEADER, 1, List.of(4), 1));
        partitions.set(4, new PartitionState(List.of(4, 1, 2), 1, 1, List.of(1), 1, List.of(2), List.of(4)));
        events = new TopicState("events", events.id(), partitions, Map.of());
        ClusterImage image = image(nodes, events, topic("app-changelog", inputs, Map.of(NodeFill.COLOCATE_WITH, "events")),
                topic("wide", List.of(List.of(1, 2, 3, 4)), Map.of()));

        List<MetadataCommand.ReassignPartition> all = NodeDrain.evacuation(image, 4, 100);
        assertThat(all).extracting(m -> m.topic() + "-" + m.partition())
                .as("no leader to copy from, a move running, or no live node left without it: not now")
                .containsExactlyInAnyOrder("events-0", "app-changelog-0", "events-1", "app-changelog-1", "app-changelog-3", "app-changelog-4");
        all.forEach(m -> assertThat(m.target()).doesNotContain(4).doesNotHaveDuplicates());

        List<MetadataCommand.ReassignPartition> first = NodeDrain.evacuation(image, 4, 1);
        assertThat(first).as("the first group whole, even past the budget")
                .extracting(m -> m.topic() + "-" + m.partition()).containsExactlyInAnyOrder("events-0", "app-changelog-0");
        assertThat(NodeDrain.evacuation(image, 4, 3)).hasSize(2);
    }
}
