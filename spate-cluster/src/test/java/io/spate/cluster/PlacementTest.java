package io.spate.cluster;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlacementTest {
    private static Map<Integer, Integer> preferredLeaders(List<List<Integer>> assignment) {
        Map<Integer, Integer> leaders = new HashMap<>();
        assignment.forEach(replicas -> leaders.merge(replicas.get(0), 1, Integer::sum));
        return leaders;
    }

    private static Map<Integer, Integer> replicaCounts(List<List<Integer>> assignment) {
        Map<Integer, Integer> counts = new HashMap<>();
        assignment.forEach(replicas -> replicas.forEach(id -> counts.merge(id, 1, Integer::sum)));
        return counts;
    }

    @Test
    void threeNodesSixPartitionsFactorThreeGiveEachNodeTwoPreferredLeaderships() {
        List<List<Integer>> assignment = Placement.assign("orders", 0, 6, 3, List.of(1, 2, 3));
        assertThat(assignment).hasSize(6);
        for (List<Integer> replicas : assignment) {
            assertThat(replicas).hasSize(3).doesNotHaveDuplicates().allSatisfy(id -> assertThat(id).isBetween(1, 3));
        }
        assertThat(preferredLeaders(assignment)).containsOnlyKeys(1, 2, 3).allSatisfy((node, count) -> assertThat(count).isEqualTo(2));
    }

    @Test
    void leadersAndFollowersSpreadEvenlyOverMoreNodesThanTheFactor() {
        List<Integer> nodes = List.of(10, 20, 30, 40, 50);
        List<List<Integer>> assignment = Placement.assign("events", 0, 10, 3, nodes);
        for (List<Integer> replicas : assignment) {
            assertThat(replicas).hasSize(3).doesNotHaveDuplicates();
            assertThat(nodes).containsAll(replicas);
        }
        assertThat(preferredLeaders(assignment)).containsOnlyKeys(nodes.toArray(Integer[]::new)).allSatisfy((node, count) -> assertThat(count).isEqualTo(2));
        assertThat(replicaCounts(assignment)).allSatisfy((node, count) -> assertThat(count).isEqualTo(6));
    }

    @Test
    void addedPartitionsContinueTheRotation() {
        List<List<Integer>> all = Placement.assign("orders", 0, 6, 2, List.of(1, 2, 3));
        assertThat(Placement.assign("orders", 0, 4, 2, List.of(1, 2, 3))).isEqualTo(all.subList(0, 4));
        assertThat(Placement.assign("orders", 4, 2, 2, List.of(1, 2, 3))).isEqualTo(all.subList(4, 6));
        assertThat(Placement.assign("orders", 0, 0, 2, List.of(1, 2, 3))).isEmpty();
    }

    @Test
    void theSameInputGivesTheSamePlacement() {
        assertThat(Placement.assign("t", 0, 12, 3, List.of(1, 2, 3, 4))).isEqualTo(Placement.assign("t", 0, 12, 3, List.of(1, 2, 3, 4)));
    }

    @Test
    void aFactorAboveTheNumberOfNodesIsRefused() {
        assertThatThrownBy(() -> Placement.assign("t", 0, 1, 4, List.of(1, 2, 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4");
        assertThatThrownBy(() -> Placement.assign("t", 0, 1, 1, List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
