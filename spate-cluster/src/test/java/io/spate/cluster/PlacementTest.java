package io.spate.cluster;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlacementTest {
    @Test
    void leadersAndReplicasSpreadEvenly() {
        List<List<Integer>> assignment = Placement.assign("orders", 0, 6, 3, List.of(1, 2, 3));
        Map<Integer, Integer> leaders = new HashMap<>();
        for (List<Integer> replicas : assignment) {
            assertThat(replicas).hasSize(3).doesNotHaveDuplicates();
            leaders.merge(replicas.get(0), 1, Integer::sum);
        }
        assertThat(leaders).containsOnlyKeys(1, 2, 3).allSatisfy((node, count) -> assertThat(count).isEqualTo(2));
    }

    @Test
    void aFactorAboveTheLiveNodesIsRefused() {
        assertThatThrownBy(() -> Placement.assign("t", 0, 1, 4, List.of(1, 2, 3))).isInstanceOf(IllegalArgumentException.class);
    }
}
