package io.spate.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.spate.cluster.TestImages.image;
import static io.spate.cluster.TestImages.nodes;
import static io.spate.cluster.TestImages.topic;
import static org.assertj.core.api.Assertions.assertThat;

/** The moves that fill a node that joined empty: how many, from where, and what never moves. */
class NodeFillTest {
    private static final Map<Integer, NodeInfo> FOUR_NODES = nodes(1, 2, 3, 4);

    /** The image once every move has finished: the target replicas, all in sync, led by the first. */
    private static ClusterImage completed(ClusterImage image, List<MetadataCommand.ReassignPartition> moves) {
        Map<String, TopicState> topics = new HashMap<>(image.topics());
        for (MetadataCommand.ReassignPartition move : moves) {
            TopicState t = topics.get(move.topic());
            topics.put(t.name(), t.withPartition(move.partition(), new PartitionState(move.target(), move.target().get(0), 1, move.target(), 1)));
        }
        return new ClusterImage(image.version() + 1, image.nodes(), topics, 0);
    }

    private static Map<Integer, Integer> replicaCounts(ClusterImage image) {
        Map<Integer, Integer> counts = new HashMap<>();
        image.liveNodes().forEach(n -> counts.put(n, NodeFill.replicaCount(image, n)));
        return counts;
    }

    @Test
    void aNodeThatJoinedEmptyGetsItsShareFromTheMostLoadedNodesAndSomePreferredLeaderships() {
        ClusterImage image = image(FOUR_NODES, topic("orders", Placement.assign("orders", 0, 12, 3, List.of(1, 2, 3)), Map.of()));
        int rounds = 0;
        while (true) {
            List<MetadataCommand.ReassignPartition> moves = NodeFill.moves(image, 4, 2);
            assertThat(moves.size()).isLessThanOrEqualTo(2);
            if (moves.isEmpty()) {
                break;
            }
            for (MetadataCommand.ReassignPartition move : moves) {
                List<Integer> before = image.partition(move.topic(), move.partition()).replicas();
                assertThat(before).doesNotContain(4);
                assertThat(move.target()).hasSize(3).doesNotHaveDuplicates().contains(4);
                assertThat(new ArrayList<>(move.target())).as("one replica replaced in place").satisfies(t -> {
                    int changed = 0;
                    for (int i = 0; i < 3; i++) {
                        changed += t.get(i).equals(before.get(i)) ? 0 : 1;
                    }
                    assertThat(changed).isEqualTo(1);
                });
            }
            image = completed(image, moves);
            rounds++;
        }
        assertThat(rounds).isEqualTo(5);
        assertThat(replicaCounts(image)).containsEntry(4, 9).allSatisfy((node, count) -> assertThat(count).isEqualTo(9));
        long ledByFour = image.topic("orders").partitions().stream().filter(p -> p.preferredLeader() == 4).count();
        assertThat(ledByFour).as("its share of preferred leaderships: 12 partitions over 4 nodes").isEqualTo(3);
    }

    @Test
    void theSameImageGivesTheSameMoves() {
        ClusterImage image = image(FOUR_NODES, topic("orders", Placement.assign("orders", 0, 12, 3, List.of(1, 2, 3)), Map.of()),
                topic("audit", Placement.assign("audit", 0, 5, 2, List.of(1, 2, 3)), Map.of()));
        assertThat(NodeFill.moves(image, 4, 10)).isEqualTo(NodeFill.moves(image, 4, 10)).isNotEmpty();
    }

    @Test
    void partitionsOutOfSyncMovingOrWithADeadReplicaStayWhereTheyAre() {
        Map<Integer, NodeInfo> nodes = nodes(1, 2, 3, 4, 5);
        nodes.put(5, nodes.get(5).fence());
        List<PartitionState> partitions = List.of(
                new PartitionState(List.of(1, 2), 1, 0, List.of(1), 0),                         // a follower out of sync
                new PartitionState(List.of(2, 3, 1), 2, 0, List.of(2, 3, 1), 1, List.of(1), List.of(3)), // a move running
                new PartitionState(List.of(3, 5), 3, 0, List.of(3), 0),                          // a dead replica
                new PartitionState(List.of(1, 2), PartitionState.NO_LEADER, 0, List.of(1, 2), 0)); // no leader
        ClusterImage image = image(nodes, new TopicState("held", UUID.randomUUID(), partitions, Map.of()));
        assertThat(NodeFill.moves(image, 4, 10)).isEmpty();
    }

    @Test
    void aTopicPlacedWithAnotherMovesWithItAndOnlyWhereItIsStillPlacedWithIt() {
        List<List<Integer>> inputs = List.of(List.of(1, 2), List.of(2, 3), List.of(3, 1), List.of(1, 2), List.of(2, 3), List.of(3, 1));
        List<List<Integer>> changelog = new ArrayList<>(inputs);
        changelog.set(1, List.of(3, 1)); // moved away by hand: no longer with its input
        ClusterImage image = image(FOUR_NODES, topic("events", inputs, Map.of()),
                topic("app-store-changelog", changelog, Map.of(NodeFill.COLOCATE_WITH, "events")));

        List<MetadataCommand.ReassignPartition> moves = NodeFill.moves(image, 4, 10);

        assertThat(moves).isNotEmpty();
        assertThat(moves).filteredOn(m -> m.topic().equals("app-store-changelog")).allSatisfy(m -> {
            assertThat(m.partition()).isNotEqualTo(1);
            var input = moves.stream().filter(i -> i.topic().equals("events") && i.partition() == m.partition()).findFirst();
            assertThat(input).as("the input's partition moves with it").isPresent();
            assertThat(m.target()).containsExactlyInAnyOrderElementsOf(input.get().target());
        });
        assertThat(moves).filteredOn(m -> m.topic().equals("events")).allSatisfy(m -> {
            if (m.partition() != 1) {
                assertThat(moves).anyMatch(c -> c.topic().equals("app-store-changelog") && c.partition() == m.partition());
            }
        });
    }

    @Test
    void aBalancedClusterOrAFencedTargetGetsNoMove() {
        ClusterImage balanced = image(nodes(1, 2, 3), topic("orders", Placement.assign("orders", 0, 6, 2, List.of(1, 2, 3)), Map.of()));
        assertThat(NodeFill.moves(balanced, 3, 10)).isEmpty();
        Map<Integer, NodeInfo> nodes = nodes(1, 2, 3, 4);
        nodes.put(4, nodes.get(4).fence());
        ClusterImage fenced = image(nodes, topic("orders", Placement.assign("orders", 0, 6, 2, List.of(1, 2, 3)), Map.of()));
        assertThat(NodeFill.moves(fenced, 4, 10)).isEmpty();
    }

    @Test
    void aTopicPlacedWithATopicPlacedWithTheInputMovesWithThemAll() {
        List<List<Integer>> inputs = List.of(List.of(1, 2), List.of(2, 3), List.of(3, 1));
        ClusterImage image = image(FOUR_NODES, topic("events", inputs, Map.of()),
                topic("app-repartition", inputs, Map.of(NodeFill.COLOCATE_WITH, "events")),
                topic("app-store-changelog", inputs, Map.of(NodeFill.COLOCATE_WITH, "app-repartition")));

        List<MetadataCommand.ReassignPartition> moves = NodeFill.moves(image, 4, 10);

        assertThat(moves).isNotEmpty();
        for (MetadataCommand.ReassignPartition move : moves) {
            assertThat(moves).filteredOn(m -> m.partition() == move.partition()).extracting(MetadataCommand.ReassignPartition::topic)
                    .containsExactlyInAnyOrder("events", "app-repartition", "app-store-changelog");
            assertThat(moves).filteredOn(m -> m.partition() == move.partition()).allSatisfy(m -> assertThat(m.target()).isEqualTo(move.target()));
        }
    }

    @Test
    void theNewNodeTakesItsShareOfEveryTopicsLeaderships() {
        ClusterImage image = image(FOUR_NODES, topic("a", Placement.assign("a", 0, 4, 3, List.of(1, 2, 3)), Map.of()),
                topic("b", Placement.assign("b", 0, 4, 3, List.of(1, 2, 3)), Map.of()),
                topic("c", Placement.assign("c", 0, 8, 3, List.of(1, 2, 3)), Map.of()));
        for (List<MetadataCommand.ReassignPartition> moves = NodeFill.moves(image, 4, 3); !moves.isEmpty(); moves = NodeFill.moves(image, 4, 3)) {
            image = completed(image, moves);
        }
        for (TopicState topic : image.topics().values()) {
            assertThat(topic.partitions().stream().filter(p -> p.preferredLeader() == 4).count()).as("preferred leaderships in %s", topic.name())
                    .isEqualTo(topic.partitions().size() / 4);
        }
        assertThat(NodeFill.replicaCount(image, 4)).isEqualTo(48 / 4);
    }
}
