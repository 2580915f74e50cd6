package io.spate.processing;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class TaskPlacementTest {
    private final List<TaskPlacement.Anchored> twoSubTopologies = List.of(
            new TaskPlacement.Anchored("counts", 0, "events"),
            new TaskPlacement.Anchored("counts", 1, "counts-keyby-0001-repartition"));

    @Test
    void aNodeRunsTheTasksOfTheAnchorPartitionsItLeads() {
        Set<TopicPartition> led = Set.of(new TopicPartition("events", 0), new TopicPartition("events", 2),
                new TopicPartition("counts-keyby-0001-repartition", 2), new TopicPartition("other", 1));

        assertThat(TaskPlacement.tasksHere(twoSubTopologies, led)).containsExactly(
                new TaskId("counts", 0, 0), new TaskId("counts", 0, 2), new TaskId("counts", 1, 2));
    }

    @Test
    void standbysGoToTheInSyncFollowersInTheOrderANewLeaderIsElectedFrom() {
        // Replicas [1, 2, 3], node 1 leads; in-sync set in the controller's order.
        assertThat(TaskPlacement.standbyRank(List.of(1, 3, 2), 1, 3)).isZero();
        assertThat(TaskPlacement.standbyRank(List.of(1, 3, 2), 1, 2)).isEqualTo(1);
        assertThat(TaskPlacement.standbyRank(List.of(1, 3, 2), 1, 1)).isEqualTo(-1);
        // Node 3 fenced (killed) or out of sync: it has left the set, node 2 is first now.
        assertThat(TaskPlacement.standbyRank(List.of(1, 2), 1, 2)).isZero();
        assertThat(TaskPlacement.standbyRank(List.of(1, 2), 1, 3)).isEqualTo(-1);
        // The leader anywhere in the set is skipped.
        assertThat(TaskPlacement.standbyRank(List.of(2, 3, 1), 1, 3)).isEqualTo(1);
    }

    @Test
    void leadingNothingOfAPipelineRunsNothingOfIt() {
        assertThat(TaskPlacement.tasksHere(twoSubTopologies, Set.of(new TopicPartition("other", 0)))).isEmpty();
    }

    @Test
    void everyTaskRunsOnExactlyOneNodeWhenEveryPartitionHasOneLeader() {
        // Partitions 0..5 of both topics led by nodes p % 3: the nodes' task sets partition the tasks.
        int nodes = 3;
        List<Set<TaskId>> perNode = new java.util.ArrayList<>();
        for (int n = 0; n < nodes; n++) {
            Set<TopicPartition> led = new java.util.HashSet<>();
            for (int p = 0; p < 6; p++) {
                if (p % nodes == n) {
                    led.add(new TopicPartition("events", p));
                }
                if ((p + 1) % nodes == n) {
                    led.add(new TopicPartition("counts-keyby-0001-repartition", p));
                }
            }
            perNode.add(TaskPlacement.tasksHere(twoSubTopologies, led));
        }
        Set<TaskId> all = new java.util.TreeSet<>();
        perNode.forEach(all::addAll);
        assertThat(all).hasSize(12);
        assertThat(perNode.stream().mapToInt(Set::size).sum()).isEqualTo(12);
    }
}
