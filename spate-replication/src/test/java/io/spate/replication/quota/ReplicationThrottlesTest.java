package io.spate.replication.quota;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.PartitionState;
import io.spate.cluster.TopicState;
import io.spate.log.LogConfig;
import io.spate.log.TopicPartition;
import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplicationThrottlesTest {
    private static TopicState topic(String name, Map<String, String> overrides) {
        PartitionState p = new PartitionState(List.of(1, 2), 1, 0, List.of(1, 2), 0);
        return new TopicState(name, UUID.randomUUID(), List.of(p, p), overrides);
    }

    private static ClusterImage image(Map<Integer, Map<String, String>> nodeConfigs, TopicState... topics) {
        Map<String, TopicState> byName = new java.util.HashMap<>();
        for (TopicState t : topics) {
            byName.put(t.name(), t);
        }
        return new ClusterImage(7, Map.of(), byName, 0, Map.of(), nodeConfigs);
    }

    @Test
    void theListedReplicasOfThisNodeAreThrottledOnceItHasARate() {
        ReplicationThrottles throttles = new ReplicationThrottles(3, new ManualScheduler());
        TopicState moving = topic("moving", Map.of(LogConfig.LEADER_REPLICATION_THROTTLED_REPLICAS, "0:3, 1:1", LogConfig.FOLLOWER_REPLICATION_THROTTLED_REPLICAS, "*"));
        throttles.update(image(Map.of(), moving));
        assertThat(throttles.throttledAsLeader(new TopicPartition("moving", 0))).as("no rate set").isFalse();

        throttles.update(image(Map.of(ClusterImage.EVERY_NODE, Map.of(ReplicationThrottles.LEADER_RATE, "1000"),
                3, Map.of(ReplicationThrottles.FOLLOWER_RATE, "2000")), moving, topic("quiet", Map.of())));
        assertThat(throttles.leaderQuota().rate()).as("every node's value").isEqualTo(1000);
        assertThat(throttles.followerQuota().rate()).as("its own").isEqualTo(2000);
        assertThat(throttles.throttledAsLeader(new TopicPartition("moving", 0))).isTrue();
        assertThat(throttles.throttledAsLeader(new TopicPartition("moving", 1))).as("1:1 is node 1's").isFalse();
        assertThat(throttles.throttledAsFollower(new TopicPartition("moving", 1))).as("*").isTrue();
        assertThat(throttles.throttledAsFollower(new TopicPartition("quiet", 0))).isFalse();
        assertThat(throttles.ownSettings()).containsOnlyKeys(ReplicationThrottles.FOLLOWER_RATE);
        assertThat(throttles.everyNodeSettings()).containsOnlyKeys(ReplicationThrottles.LEADER_RATE);

        throttles.update(image(Map.of(), moving));
        assertThat(throttles.throttledAsFollower(new TopicPartition("moving", 1))).as("rates deleted").isFalse();
        assertThat(throttles.leaderQuota().limited()).isFalse();
    }

    @Test
    void replicasAMoveAddsToThisNodeAreCopiedWithinTheMoveRateWhateverStartedTheMove() {
        ReplicationThrottles throttles = new ReplicationThrottles(3, new ManualScheduler());
        // Partition 0 moves from [1, 2] to [2, 3]: node 3 is being added; partition 1 stays put.
        PartitionState moving = new PartitionState(List.of(2, 3, 1), 2, 4, List.of(1, 2), 3, List.of(3), List.of(1));
        PartitionState still = new PartitionState(List.of(1, 2), 1, 0, List.of(1, 2), 0);
        TopicState topic = new TopicState("t", UUID.randomUUID(), List.of(moving, still), Map.of());
        throttles.update(image(Map.of(), topic));
        assertThat(throttles.moveQuota().rate()).as("no setting: the default").isEqualTo(ReplicationThrottles.DEFAULT_MOVE_RATE);
        assertThat(throttles.movingHere(new TopicPartition("t", 0))).isTrue();
        assertThat(throttles.movingHere(new TopicPartition("t", 1))).isFalse();
        ReplicationThrottles leaving = new ReplicationThrottles(1, new ManualScheduler());
        leaving.update(image(Map.of(), topic));
        assertThat(leaving.movingHere(new TopicPartition("t", 0))).as("node 1 is being removed, not added").isFalse();

        throttles.update(image(Map.of(ClusterImage.EVERY_NODE, Map.of(ReplicationThrottles.MOVE_RATE, "5000")), topic));
        assertThat(throttles.moveQuota().rate()).as("every node's value").isEqualTo(5000);
        throttles.update(image(Map.of(ClusterImage.EVERY_NODE, Map.of(ReplicationThrottles.MOVE_RATE, "5000"),
                3, Map.of(ReplicationThrottles.MOVE_RATE, "7000")), topic));
        assertThat(throttles.moveQuota().rate()).as("its own").isEqualTo(7000);

        PartitionState done = new PartitionState(List.of(2, 3), 2, 5, List.of(2, 3), 4);
        throttles.update(image(Map.of(), new TopicState("t", topic.id(), List.of(done, still), Map.of())));
        assertThat(throttles.movingHere(new TopicPartition("t", 0))).as("the move completed").isFalse();
        assertThat(throttles.moveQuota().rate()).as("setting deleted: the default again").isEqualTo(ReplicationThrottles.DEFAULT_MOVE_RATE);
    }

    @Test
    void valuesAreCheckedAsKafkaDoes() {
        assertThat(ThrottledReplicas.parse("").contains(0, 0)).isFalse();
        assertThat(ThrottledReplicas.parse(" 2:5 ,0:1").contains(2, 5)).isTrue();
        assertThat(ThrottledReplicas.parse("2:5").contains(5, 2)).isFalse();
        assertThatThrownBy(() -> ThrottledReplicas.parse("2-5")).hasMessageContaining("partition:node");
        assertThatThrownBy(() -> ThrottledReplicas.parse("a:1")).hasMessageContaining("non-negative");
        assertThatThrownBy(() -> ReplicationThrottles.validateRate(ReplicationThrottles.LEADER_RATE, "-1")).hasMessageContaining("bytes per second");
        ReplicationThrottles.validateRate(ReplicationThrottles.LEADER_RATE, "0");
    }
}
