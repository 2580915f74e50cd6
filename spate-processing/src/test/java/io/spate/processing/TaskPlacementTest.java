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
