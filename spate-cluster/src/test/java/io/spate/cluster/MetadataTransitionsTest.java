package io.spate.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class MetadataTransitionsTest {
    private long index;

    private MetadataTransitions.Outcome apply(ClusterImage image, MetadataCommand command) {
        return MetadataTransitions.apply(image, command, ++index);
    }

    private ClusterImage threeNodesAndTopic(Map<String, String> overrides) {
        ClusterImage image = ClusterImage.EMPTY;
        for (int id = 1; id <= 3; id++) {
            image = apply(image, new MetadataCommand.RegisterNode(id, "127.0.0.1", 9090 + id, 100 + id)).image();
        }
        return apply(image, new MetadataCommand.CreateTopic("t", UUID.randomUUID(),
                List.of(List.of(1, 2, 3), List.of(2, 3, 1)), overrides)).image();
    }

    @Test
    void newTopicIsLedByFirstLiveReplicaWithEveryLiveReplicaInSync() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        assertThat(image.partition("t", 0)).isEqualTo(new PartitionState(List.of(1, 2, 3), 1, 0, List.of(1, 2, 3), 0));
        assertThat(image.partition("t", 1).leader()).isEqualTo(2);
        assertThat(image.version()).isEqualTo(index);
    }

    @Test
    void fencingTheLeaderElectsTheNextInSyncReplicaWithANewEpoch() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        var outcome = apply(image, new MetadataCommand.FenceNode(1, 101));
        assertThat(outcome.result().succeeded()).isTrue();
        assertThat(outcome.result().version()).isEqualTo(index);
        PartitionState p0 = outcome.image().partition("t", 0);
        assertThat(p0.leader()).isEqualTo(2);
        assertThat(p0.leaderEpoch()).isEqualTo(1);
        assertThat(p0.isr()).containsExactly(2, 3);
        PartitionState p1 = outcome.image().partition("t", 1);
        assertThat(p1.leader()).as("a follower's fencing does not change the leader").isEqualTo(2);
        assertThat(p1.leaderEpoch()).isZero();
        assertThat(p1.isr()).containsExactly(2, 3);
        assertThat(p1.partitionEpoch()).isEqualTo(1);
        assertThat(outcome.image().node(1).fenced()).isTrue();
    }

    @Test
    void anOutOfSyncReplicaIsNeverElectedAndTheLastInSyncReplicaBringsThePartitionBack() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = apply(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1))).image();
        image = apply(image, new MetadataCommand.FenceNode(1, 101)).image();
        PartitionState offline = image.partition("t", 0);
        assertThat(offline.leader()).isEqualTo(PartitionState.NO_LEADER);
        assertThat(offline.isr()).as("the last in-sync replica stays recorded").containsExactly(1);

        image = apply(image, new MetadataCommand.RegisterNode(1, "127.0.0.1", 9091, 101)).image();
        assertThat(image.partition("t", 0).leader()).isEqualTo(1);
        assertThat(image.partition("t", 0).leaderEpoch()).isEqualTo(2);
    }

    @Test
    void uncleanElectionWhenTheTopicAllowsIt() {
        ClusterImage image = threeNodesAndTopic(Map.of("unclean.leader.election.enable", "true"));
        image = apply(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1))).image();
        image = apply(image, new MetadataCommand.FenceNode(1, 101)).image();
        assertThat(image.partition("t", 0).leader()).isEqualTo(2);
        assertThat(image.partition("t", 0).isr()).containsExactly(2);
    }

    @Test
    void aRestartedIncarnationLosesItsLeadershipFirst() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = apply(image, new MetadataCommand.RegisterNode(1, "127.0.0.1", 9091, 999)).image();
        assertThat(image.partition("t", 0).leader()).isEqualTo(2);
        assertThat(image.partition("t", 0).isr()).doesNotContain(1);
        assertThat(image.node(1).fenced()).isFalse();
        assertThat(image.node(1).incarnation()).isEqualTo(999);
    }

    @Test
    void fencingAStaleIncarnationOrAnUnknownNodeIsRefused() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        assertThat(apply(image, new MetadataCommand.FenceNode(1, 5)).result().error()).isEqualTo(CommandResult.Error.STALE_STATE);
        assertThat(apply(image, new MetadataCommand.FenceNode(9, 5)).result().error()).isEqualTo(CommandResult.Error.UNKNOWN_NODE);
    }

    @Test
    void alterIsrIsRefusedWhenBasedOnOldStateOrAddingAFencedNode() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        assertThat(apply(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 7, List.of(1, 2))).result().error())
                .isEqualTo(CommandResult.Error.STALE_STATE);
        image = apply(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1, 2))).image();
        assertThat(image.partition("t", 0).isr()).containsExactly(1, 2);
        image = apply(image, new MetadataCommand.FenceNode(3, 103)).image();
        int partitionEpoch = image.partition("t", 0).partitionEpoch();
        assertThat(apply(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, partitionEpoch, List.of(1, 2, 3))).result().error())
                .isEqualTo(CommandResult.Error.STALE_STATE);
    }

    @Test
    void preferredLeaderElectionAndProducerIdBlocks() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = apply(image, new MetadataCommand.FenceNode(1, 101)).image();
        assertThat(apply(image, new MetadataCommand.ElectPreferredLeader("t", 0)).result().succeeded())
                .as("the preferred replica is fenced").isFalse();
        image = apply(image, new MetadataCommand.RegisterNode(1, "127.0.0.1", 9091, 101)).image();
        image = apply(image, new MetadataCommand.AlterIsr("t", 0, 2, 1, image.partition("t", 0).partitionEpoch(), List.of(2, 3, 1))).image();
        var elected = apply(image, new MetadataCommand.ElectPreferredLeader("t", 0));
        assertThat(elected.result().succeeded()).isTrue();
        assertThat(elected.image().partition("t", 0).leader()).isEqualTo(1);

        var first = apply(image, new MetadataCommand.AllocateProducerIds(1, 1000));
        var second = apply(first.image(), new MetadataCommand.AllocateProducerIds(2, 1000));
        assertThat(first.result().value()).isZero();
        assertThat(second.result().value()).isEqualTo(1000);
    }

    @Test
    void topicsAreCreatedOnceAndOnlyOnRegisteredNodes() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        assertThat(apply(image, new MetadataCommand.CreateTopic("t", UUID.randomUUID(), List.of(List.of(1)), Map.of())).result().error())
                .isEqualTo(CommandResult.Error.TOPIC_EXISTS);
        assertThat(apply(image, new MetadataCommand.CreateTopic("u", UUID.randomUUID(), List.of(List.of(1, 7)), Map.of())).result().error())
                .isEqualTo(CommandResult.Error.INVALID_REPLICATION_FACTOR);
        var grown = apply(image, new MetadataCommand.CreatePartitions("t", List.of(List.of(3, 1, 2))));
        assertThat(grown.image().topic("t").partitions()).hasSize(3);
        assertThat(apply(grown.image(), new MetadataCommand.DeleteTopic("t")).image().topic("t")).isNull();
    }
}
