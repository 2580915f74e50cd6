package io.spate.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pure transition function: every rule about who may lead, what the in-sync set holds and
 * how epochs move is exercised here without any Raft around it.
 */
class MetadataTransitionsTest {
    /** The log index handed to the next command, as the state machine would. */
    private long index;

    private MetadataTransitions.Outcome apply(ClusterImage image, MetadataCommand command) {
        return MetadataTransitions.apply(image, command, ++index);
    }

    /** Applies a command that must succeed and returns the new image. */
    private ClusterImage ok(ClusterImage image, MetadataCommand command) {
        MetadataTransitions.Outcome outcome = apply(image, command);
        assertThat(outcome.result().succeeded()).as("%s: %s", command, outcome.result().message()).isTrue();
        return outcome.image();
    }

    /** Applies a command that must be refused with {@code error} and checks nothing but the version changed. */
    private void refused(ClusterImage image, MetadataCommand command, CommandResult.Error error) {
        MetadataTransitions.Outcome outcome = apply(image, command);
        assertThat(outcome.result().error()).as("%s", command).isEqualTo(error);
        assertThat(outcome.result().message()).isNotBlank();
        assertThat(withVersion(outcome.image(), image.version())).as("a refused command changes nothing").isEqualTo(image);
    }

    private static ClusterImage withVersion(ClusterImage image, long version) {
        return new ClusterImage(version, image.nodes(), image.topics(), image.nextProducerId());
    }

    private static MetadataCommand.RegisterNode register(int id) {
        return register(id, 100 + id);
    }

    private static MetadataCommand.RegisterNode register(int id, long incarnation) {
        return new MetadataCommand.RegisterNode(id, "127.0.0.1", 9090 + id, incarnation);
    }

    private static MetadataCommand.FenceNode fence(ClusterImage image, int id) {
        return new MetadataCommand.FenceNode(id, image.node(id).incarnation());
    }

    private static MetadataCommand.CreateTopic topic(String name, Map<String, String> overrides, List<List<Integer>> assignment) {
        return new MetadataCommand.CreateTopic(name, UUID.randomUUID(), assignment, overrides);
    }

    /** Nodes 1..3 registered (incarnations 101..103); topic t: p0 on [1,2,3], p1 on [2,3,1]. */
    private ClusterImage threeNodesAndTopic(Map<String, String> overrides) {
        ClusterImage image = ClusterImage.EMPTY;
        for (int id = 1; id <= 3; id++) {
            image = ok(image, register(id));
        }
        return ok(image, topic("t", overrides, List.of(List.of(1, 2, 3), List.of(2, 3, 1))));
    }

    @Test
    void registeredNodesAreKnownUnfencedUnderTheirIncarnation() {
        ClusterImage image = ClusterImage.EMPTY;
        for (int id = 3; id >= 1; id--) {
            image = ok(image, register(id));
        }
        assertThat(image.nodes()).containsOnlyKeys(1, 2, 3);
        assertThat(image.node(2)).isEqualTo(new NodeInfo(2, "127.0.0.1", 9092, 102, false));
        assertThat(image.liveNodes()).containsExactly(1, 2, 3);

        // The same incarnation registering again (a retried request) changes nothing but the version.
        ClusterImage again = ok(image, register(2));
        assertThat(withVersion(again, image.version())).isEqualTo(image);

        // A fenced node that registers again comes back unfenced, at its new address.
        image = ok(image, fence(image, 2));
        assertThat(image.liveNodes()).containsExactly(1, 3);
        image = ok(image, new MetadataCommand.RegisterNode(2, "10.0.0.2", 19092, 202));
        assertThat(image.node(2)).isEqualTo(new NodeInfo(2, "10.0.0.2", 19092, 202, false));
        assertThat(image.liveNodes()).containsExactly(1, 2, 3);
    }

    @Test
    void aNewTopicIsLedByItsFirstLiveReplicaWithEveryLiveReplicaInSync() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        assertThat(image.partition("t", 0)).isEqualTo(new PartitionState(List.of(1, 2, 3), 1, 0, List.of(1, 2, 3), 0));
        assertThat(image.partition("t", 1)).isEqualTo(new PartitionState(List.of(2, 3, 1), 2, 0, List.of(2, 3, 1), 0));

        // With the preferred replica fenced, the next live replica leads and the fenced one is not in sync.
        image = ok(image, fence(image, 1));
        image = ok(image, topic("u", Map.of(), List.of(List.of(1, 2, 3), List.of(3, 1, 2), List.of(1))));
        assertThat(image.partition("u", 0)).isEqualTo(new PartitionState(List.of(1, 2, 3), 2, 0, List.of(2, 3), 0));
        assertThat(image.partition("u", 1)).isEqualTo(new PartitionState(List.of(3, 1, 2), 3, 0, List.of(3, 2), 0));
        // No live replica at all: offline, waiting for the (only possible) in-sync replica to return.
        assertThat(image.partition("u", 2)).isEqualTo(new PartitionState(List.of(1), PartitionState.NO_LEADER, 0, List.of(1), 0));
        assertThat(image.topic("u").replicationFactor()).isEqualTo(3);
    }

    @Test
    void fencingALeaderElectsTheNextLiveInSyncReplicaWithANewEpoch() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        MetadataTransitions.Outcome outcome = apply(image, fence(image, 1));
        assertThat(outcome.result().succeeded()).isTrue();
        PartitionState p0 = outcome.image().partition("t", 0);
        assertThat(p0.leader()).isEqualTo(2);
        assertThat(p0.leaderEpoch()).isEqualTo(1);
        assertThat(p0.isr()).containsExactly(2, 3);
        assertThat(p0.partitionEpoch()).isEqualTo(1);
        assertThat(p0.replicas()).as("the assignment does not change").containsExactly(1, 2, 3);
        assertThat(outcome.image().node(1).fenced()).isTrue();
        assertThat(outcome.image().leaderCount(1)).isZero();
    }

    @Test
    void fencingAFollowerShrinksTheInSyncSetWithoutANewLeaderEpoch() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, fence(image, 3));
        assertThat(image.partition("t", 0)).isEqualTo(new PartitionState(List.of(1, 2, 3), 1, 0, List.of(1, 2), 1));
        assertThat(image.partition("t", 1)).isEqualTo(new PartitionState(List.of(2, 3, 1), 2, 0, List.of(2, 1), 1));
    }

    @Test
    void fencingTheLastInSyncReplicaLeavesThePartitionOfflineUntilThatReplicaReturns() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, fence(image, 1));
        image = ok(image, fence(image, 2));
        assertThat(image.partition("t", 0)).isEqualTo(new PartitionState(List.of(1, 2, 3), 3, 2, List.of(3), 2));
        image = ok(image, fence(image, 3));
        PartitionState offline = image.partition("t", 0);
        assertThat(offline.leader()).isEqualTo(PartitionState.NO_LEADER);
        assertThat(offline.hasLeader()).isFalse();
        assertThat(offline.leaderEpoch()).isEqualTo(3);
        assertThat(offline.isr()).as("the last in-sync replica stays recorded").containsExactly(3);
        assertThat(image.liveNodes()).isEmpty();

        // Replicas that fell out of sync come back without taking over: they may miss acknowledged records.
        image = ok(image, register(1));
        image = ok(image, register(2, 999));
        assertThat(image.partition("t", 0).leader()).isEqualTo(PartitionState.NO_LEADER);
        assertThat(image.partition("t", 0).isr()).containsExactly(3);

        image = ok(image, register(3));
        PartitionState back = image.partition("t", 0);
        assertThat(back.leader()).isEqualTo(3);
        assertThat(back.leaderEpoch()).isEqualTo(4);
        assertThat(back.isr()).containsExactly(3);
        assertThat(back.partitionEpoch()).isGreaterThan(offline.partitionEpoch());
    }

    @Test
    void anOutOfSyncReplicaIsNeverElected() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        // Node 2 fell behind: the leader drops it from the in-sync set.
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1, 3)));
        image = ok(image, fence(image, 1));
        assertThat(image.partition("t", 0).leader()).as("3 is in sync, 2 comes first in the assignment but is not").isEqualTo(3);
        image = ok(image, fence(image, 3));
        assertThat(image.partition("t", 0).leader()).as("live but out of sync: 2 must not lead").isEqualTo(PartitionState.NO_LEADER);
        assertThat(image.partition("t", 0).isr()).containsExactly(3);
        assertThat(image.node(2).fenced()).isFalse();
        // Nor does anything else make it lead: preferred election and a new incarnation of it.
        refused(image, new MetadataCommand.ElectPreferredLeader("t", 0), CommandResult.Error.STALE_STATE);
        image = ok(image, register(2, 555));
        assertThat(image.partition("t", 0).leader()).isEqualTo(PartitionState.NO_LEADER);
    }

    private static MetadataCommand.RegisterNode registerClean(int id, long incarnation) {
        return new MetadataCommand.RegisterNode(id, "127.0.0.1", 9090 + id, incarnation, true);
    }

    @Test
    void replicasLeavingAnInSyncSetBelowMinInsyncStayEligibleAndLeadWhenNoInSyncReplicaLives() {
        ClusterImage image = threeNodesAndTopic(Map.of("min.insync.replicas", "2"));
        // 3 lags: the set stays at min.insync.replicas, so the high watermark moves on without 3.
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1, 2)));
        assertThat(image.partition("t", 0).elr()).isEmpty();
        // 2 is fenced (cut off): the set drops below 2, the high watermark stops, 2 holds all committed.
        image = ok(image, fence(image, 2));
        assertThat(image.partition("t", 0).isr()).containsExactly(1);
        assertThat(image.partition("t", 0).elr()).containsExactly(2);
        // 2 comes back without having stopped; then the leader, the last in-sync replica, dies.
        image = ok(image, registerClean(2, 102));
        image = ok(image, fence(image, 1));
        PartitionState p = image.partition("t", 0);
        assertThat(p.leader()).as("the eligible replica leads rather than nobody").isEqualTo(2);
        assertThat(p.isr()).containsExactly(2);
        assertThat(p.elr()).as("the fenced last in-sync replica holds everything committed too").containsExactly(1);
        // 3, never eligible, does not lead even when 2 goes too.
        image = ok(image, fence(image, 2));
        assertThat(image.partition("t", 0).leader()).isEqualTo(PartitionState.NO_LEADER);
    }

    @Test
    void anEligibleReplicaBringsAnOfflinePartitionBackWhenItReturnsCleanlyButNotAfterACrash() {
        ClusterImage image = threeNodesAndTopic(Map.of("min.insync.replicas", "2"));
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1, 2)));
        image = ok(image, fence(image, 2));
        image = ok(image, fence(image, 1));
        assertThat(image.partition("t", 0).leader()).isEqualTo(PartitionState.NO_LEADER);
        assertThat(image.partition("t", 0).elr()).containsExactlyInAnyOrder(2);

        ClusterImage crashed = ok(image, register(2, 777));
        assertThat(crashed.partition("t", 0).leader()).as("an unclean restart may have lost the tail").isEqualTo(PartitionState.NO_LEADER);
        assertThat(crashed.partition("t", 0).elr()).isEmpty();

        ClusterImage resumed = ok(image, registerClean(2, 102));
        assertThat(resumed.partition("t", 0).leader()).isEqualTo(2);
        assertThat(resumed.partition("t", 0).isr()).containsExactly(2);
    }

    /**
     * Found by the simulation once its disks could lose power (seed 195): the last in-sync replica
     * restarted uncleanly, its log short of records that only an eligible replica still held, and
     * took the lead back on registering; the other replicas then truncated acknowledged records.
     */
    @Test
    void theLastInSyncReplicaBackFromAnUncleanStopLetsAnEligibleReplicaLead() {
        ClusterImage image = threeNodesAndTopic(Map.of("min.insync.replicas", "2"));
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1, 2)));
        image = ok(image, fence(image, 2));
        assertThat(image.partition("t", 0).elr()).containsExactly(2);
        // 1, the last in-sync replica, loses power and is back (a new incarnation) while 2 is still away.
        ClusterImage back = ok(image, register(1, 901));
        PartitionState waiting = back.partition("t", 0);
        assertThat(waiting.leader()).as("1 may have lost the tail that 2 holds").isEqualTo(PartitionState.NO_LEADER);
        assertThat(waiting.isr()).as("2 takes 1's place").containsExactly(2);
        assertThat(waiting.elr()).isEmpty();
        // Nothing else elects 1 meanwhile: not a preferred-leader election, not its registering again as clean.
        refused(back, new MetadataCommand.ElectPreferredLeader("t", 0), CommandResult.Error.STALE_STATE);
        ClusterImage fencedAndBack = ok(ok(back, fence(back, 1)), registerClean(1, 901));
        assertThat(fencedAndBack.partition("t", 0).leader()).isEqualTo(PartitionState.NO_LEADER);
        back = ok(back, registerClean(2, 102));
        assertThat(back.partition("t", 0).leader()).as("the eligible replica leads once it is back").isEqualTo(2);
        assertThat(back.partition("t", 0).isr()).containsExactly(2);
        // Had 2 been up, it would have been elected at once.
        ClusterImage withTwoUp = ok(ok(image, registerClean(2, 102)), register(1, 901));
        assertThat(withTwoUp.partition("t", 0).leader()).isEqualTo(2);
        // A clean return of the last in-sync replica needs nobody else.
        ClusterImage clean = ok(image, registerClean(1, 901));
        assertThat(clean.partition("t", 0).leader()).isEqualTo(1);
        // If 2 comes back uncleanly too, nobody holds more than 2 now does: it leads.
        ClusterImage bothLost = ok(ok(image, register(1, 901)), register(2, 902));
        assertThat(bothLost.partition("t", 0).leader()).as("not offline for good").isEqualTo(2);
    }

    @Test
    void theEligibleSetEmptiesOnceTheInSyncSetReachesMinInsyncAgain() {
        ClusterImage image = threeNodesAndTopic(Map.of("min.insync.replicas", "2"));
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1)));
        assertThat(image.partition("t", 0).elr()).containsExactlyInAnyOrder(2, 3);
        PartitionState shrunk = image.partition("t", 0);
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, shrunk.partitionEpoch(), List.of(1, 3)));
        assertThat(image.partition("t", 0).elr()).as("the high watermark moves again without 2").isEmpty();
        // Lowering min.insync.replicas lets the high watermark move without the eligible: they are dropped.
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, image.partition("t", 0).partitionEpoch(), List.of(1)));
        assertThat(image.partition("t", 0).elr()).containsExactlyInAnyOrder(3);
        image = ok(image, new MetadataCommand.AlterTopicConfig("t", Map.of("min.insync.replicas", "1")));
        assertThat(image.partition("t", 0).elr()).isEmpty();
        // With the default of 1 nobody is ever only eligible.
        ClusterImage plain = threeNodesAndTopic(Map.of());
        plain = ok(plain, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1)));
        assertThat(plain.partition("t", 0).elr()).isEmpty();
    }

    @Test
    void uncleanElectionPicksAnyLiveReplicaWhenTheTopicAllowsIt() {
        ClusterImage image = threeNodesAndTopic(Map.of("unclean.leader.election.enable", "true"));
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1)));
        image = ok(image, fence(image, 1));
        assertThat(image.partition("t", 0).leader()).isEqualTo(2);
        assertThat(image.partition("t", 0).isr()).containsExactly(2);
    }

    @Test
    void turningUncleanElectionOnBringsOfflinePartitionsBack() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1)));
        image = ok(image, fence(image, 1));
        assertThat(image.partition("t", 0).hasLeader()).isFalse();
        image = ok(image, new MetadataCommand.AlterTopicConfig("t", Map.of("unclean.leader.election.enable", "true")));
        assertThat(image.partition("t", 0).leader()).isEqualTo(2);
        assertThat(image.topic("t").overrides()).containsEntry("unclean.leader.election.enable", "true");
    }

    @Test
    void aNewIncarnationOfAnUnfencedNodeGivesUpItsLeadershipFirst() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        PartitionState before = image.partition("t", 0);
        image = ok(image, register(1, 999));
        PartitionState p0 = image.partition("t", 0);
        assertThat(p0.leader()).isEqualTo(2);
        assertThat(p0.leaderEpoch()).isEqualTo(before.leaderEpoch() + 1);
        assertThat(p0.isr()).containsExactly(2, 3);
        assertThat(image.partition("t", 1).isr()).as("it must catch up before it is in sync again").containsExactly(2, 3);
        assertThat(image.partition("t", 1).leaderEpoch()).isZero();
        assertThat(image.node(1)).isEqualTo(new NodeInfo(1, "127.0.0.1", 9091, 999, false));

        // Where the restarted node was the only in-sync replica it leads again, but under a new epoch,
        // so that nothing the old process said under the old epoch is taken for the new one's.
        image = ok(image, new MetadataCommand.AlterIsr("t", 1, 2, 0, image.partition("t", 1).partitionEpoch(), List.of(2)));
        int epoch = image.partition("t", 1).leaderEpoch();
        image = ok(image, register(2, 777));
        assertThat(image.partition("t", 1).leader()).isEqualTo(2);
        assertThat(image.partition("t", 1).leaderEpoch()).isGreaterThan(epoch);
    }

    @Test
    void fencingAStaleIncarnationOrAnUnknownNodeIsRefused() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        refused(image, new MetadataCommand.FenceNode(1, 5), CommandResult.Error.STALE_STATE);
        refused(image, new MetadataCommand.FenceNode(9, 5), CommandResult.Error.UNKNOWN_NODE);
        image = ok(image, fence(image, 1));
        refused(image, new MetadataCommand.FenceNode(1, 101), CommandResult.Error.STALE_STATE);
    }

    @Test
    void alterIsrChangesTheInSyncSetUnderTheSameLeaderEpoch() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1, 2)));
        assertThat(image.partition("t", 0)).isEqualTo(new PartitionState(List.of(1, 2, 3), 1, 0, List.of(1, 2), 1));
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 1, List.of(1, 2, 3)));
        assertThat(image.partition("t", 0)).isEqualTo(new PartitionState(List.of(1, 2, 3), 1, 0, List.of(1, 2, 3), 2));
    }

    @Test
    void aBatchOfInSyncSetChangesAppliesEachAsIfAloneAndNamesTheRefusedOnes() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        ClusterImage fenced = ok(image, fence(image, 3));
        int p1Epoch = fenced.partition("t", 1).partitionEpoch();
        int p1LeaderEpoch = fenced.partition("t", 1).leaderEpoch();
        MetadataTransitions.Outcome outcome = apply(fenced, new MetadataCommand.AlterIsrs(List.of(
                new MetadataCommand.AlterIsr("t", 0, 1, 0, fenced.partition("t", 0).partitionEpoch(), List.of(1, 2, 3)),  // 3 is fenced
                new MetadataCommand.AlterIsr("t", 1, 2, p1LeaderEpoch, p1Epoch, List.of(2)),
                new MetadataCommand.AlterIsr("t", 1, 2, p1LeaderEpoch, p1Epoch, List.of(2, 1)),   // based on the epoch the one before moved on
                new MetadataCommand.AlterIsr("gone", 0, 1, 0, 0, List.of(1)))));
        assertThat(outcome.result().succeeded()).isTrue();
        assertThat(outcome.result().value()).as("refused: changes 0, 2 and 3").isEqualTo(0b1101L);
        assertThat(outcome.result().message()).contains("t-0: a fenced node cannot join").contains("t-1: partition state changed")
                .contains("gone-0: ").doesNotContain("t-1: the in-sync set");
        assertThat(outcome.image().partition("t", 0)).isEqualTo(fenced.partition("t", 0));
        assertThat(outcome.image().partition("t", 1).isr()).containsExactly(2);
        assertThat(outcome.image().partition("t", 1).partitionEpoch()).isEqualTo(p1Epoch + 1);
        assertThat(outcome.image().version()).isEqualTo(index);
    }

    @Test
    void aLeaderLeavingTheInSyncSetResignsToTheFirstLiveInSyncReplica() {
        ClusterImage image = threeNodesAndTopic(Map.of("min.insync.replicas", "2"));
        PartitionState before = image.partition("t", 0);
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(2, 3)));
        PartitionState after = image.partition("t", 0);
        assertThat(after.leader()).isEqualTo(2);
        assertThat(after.isr()).containsExactly(2, 3);
        assertThat(after.elr()).isEmpty();
        assertThat(after.replicas()).isEqualTo(before.replicas());
        assertThat(after.leaderEpoch()).isEqualTo(before.leaderEpoch() + 1);
        assertThat(after.partitionEpoch()).isEqualTo(before.partitionEpoch() + 1);

        // Below min.insync.replicas the other replicas leaving stay eligible; the resigning leader never is.
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 2, after.leaderEpoch(), after.partitionEpoch(), List.of(2)));
        PartitionState shrunk = image.partition("t", 0);
        assertThat(shrunk.elr()).containsExactly(3);
        // Alone in the in-sync set, it has nobody to resign to (the node does not ask then).
        refused(image, new MetadataCommand.AlterIsr("t", 0, 2, shrunk.leaderEpoch(), shrunk.partitionEpoch(), List.of(3)),
                CommandResult.Error.STALE_STATE);
    }

    @Test
    void aLeaderAloneInTheInSyncSetCannotResign() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, fence(image, 2));
        image = ok(image, fence(image, 3));
        PartitionState p0 = image.partition("t", 0);
        assertThat(p0.isr()).containsExactly(1);
        // Nobody else holds what was committed: nothing to hand over to, and no replica may join on the way out.
        refused(image, new MetadataCommand.AlterIsr("t", 0, 1, p0.leaderEpoch(), p0.partitionEpoch(), List.of()), CommandResult.Error.STALE_STATE);
        refused(image, new MetadataCommand.AlterIsr("t", 0, 1, p0.leaderEpoch(), p0.partitionEpoch(), List.of(2)), CommandResult.Error.STALE_STATE);
        refused(image, new MetadataCommand.AlterIsr("t", 0, 1, p0.leaderEpoch() - 1, p0.partitionEpoch(), List.of(2)), CommandResult.Error.STALE_STATE);
    }

    @Test
    void alterIsrIsRefusedWhenBasedOnStaleStateOrAddingAFencedNode() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1, 2)));   // partition epoch 1
        refused(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 0, List.of(1)), CommandResult.Error.STALE_STATE);
        refused(image, new MetadataCommand.AlterIsr("t", 0, 1, 1, 1, List.of(1)), CommandResult.Error.STALE_STATE);
        refused(image, new MetadataCommand.AlterIsr("t", 0, 2, 0, 1, List.of(2)), CommandResult.Error.STALE_STATE);
        refused(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, 1, List.of(1, 4)), CommandResult.Error.STALE_STATE);
        refused(image, new MetadataCommand.AlterIsr("t", 7, 1, 0, 1, List.of(1)), CommandResult.Error.UNKNOWN_TOPIC);
        refused(image, new MetadataCommand.AlterIsr("x", 0, 1, 0, 1, List.of(1)), CommandResult.Error.UNKNOWN_TOPIC);

        // A leader change makes the old leader's request stale even with a matching partition epoch.
        ClusterImage moved = ok(image, fence(image, 1));
        PartitionState p0 = moved.partition("t", 0);
        assertThat(p0.leader()).isEqualTo(2);
        refused(moved, new MetadataCommand.AlterIsr("t", 0, 1, 0, p0.partitionEpoch(), List.of(1, 2)), CommandResult.Error.STALE_STATE);
        refused(moved, new MetadataCommand.AlterIsr("t", 0, 2, 0, p0.partitionEpoch(), List.of(2)), CommandResult.Error.STALE_STATE);

        // The fenced node 3 cannot be added back to the in-sync set by the current leader.
        image = ok(image, fence(image, 3));
        refused(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, image.partition("t", 0).partitionEpoch(), List.of(1, 2, 3)),
                CommandResult.Error.STALE_STATE);
        // Once it is back and caught up, it can.
        image = ok(image, register(3, 303));
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 1, 0, image.partition("t", 0).partitionEpoch(), List.of(1, 2, 3)));
        assertThat(image.partition("t", 0).isr()).containsExactly(1, 2, 3);
    }

    @Test
    void preferredLeaderElectionMovesLeadershipBackOnlyToALiveInSyncPreferredReplica() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        refused(image, new MetadataCommand.ElectPreferredLeader("t", 0), CommandResult.Error.STALE_STATE);   // 1 already leads
        image = ok(image, fence(image, 1));
        refused(image, new MetadataCommand.ElectPreferredLeader("t", 0), CommandResult.Error.STALE_STATE);   // 1 is fenced
        image = ok(image, register(1));
        refused(image, new MetadataCommand.ElectPreferredLeader("t", 0), CommandResult.Error.STALE_STATE);   // 1 is not in sync yet
        refused(image, new MetadataCommand.ElectPreferredLeader("x", 0), CommandResult.Error.UNKNOWN_TOPIC);

        PartitionState p0 = image.partition("t", 0);
        image = ok(image, new MetadataCommand.AlterIsr("t", 0, 2, p0.leaderEpoch(), p0.partitionEpoch(), List.of(2, 3, 1)));
        PartitionState caughtUp = image.partition("t", 0);
        image = ok(image, new MetadataCommand.ElectPreferredLeader("t", 0));
        PartitionState elected = image.partition("t", 0);
        assertThat(elected.leader()).isEqualTo(1);
        assertThat(elected.leaderEpoch()).isEqualTo(caughtUp.leaderEpoch() + 1);
        assertThat(elected.partitionEpoch()).isEqualTo(caughtUp.partitionEpoch() + 1);
        assertThat(elected.isr()).containsExactlyInAnyOrder(1, 2, 3);
    }

    @Test
    void producerIdBlocksNeverOverlap() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        List<long[]> blocks = new ArrayList<>();
        int[] counts = {1000, 1, 250, 1000};
        for (int i = 0; i < counts.length; i++) {
            MetadataTransitions.Outcome outcome = apply(image, new MetadataCommand.AllocateProducerIds(1 + i % 3, counts[i]));
            assertThat(outcome.result().succeeded()).isTrue();
            blocks.add(new long[]{outcome.result().value(), outcome.result().value() + counts[i]});
            image = outcome.image();
        }
        for (int i = 0; i < blocks.size(); i++) {
            for (int j = i + 1; j < blocks.size(); j++) {
                long[] a = blocks.get(i);
                long[] b = blocks.get(j);
                assertThat(a[1] <= b[0] || b[1] <= a[0]).as("blocks %d and %d overlap", i, j).isTrue();
            }
        }
        assertThat(blocks.get(0)[0]).isZero();
        assertThat(image.nextProducerId()).isEqualTo(2251);
    }

    @Test
    void theResultAndTheImageCarryTheLogIndexTheCommandWasAppliedAt() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        MetadataTransitions.Outcome applied = MetadataTransitions.apply(image, new MetadataCommand.AllocateProducerIds(1, 10), 4242);
        assertThat(applied.result().version()).isEqualTo(4242);
        assertThat(applied.image().version()).isEqualTo(4242);
        // A refused command still consumes its log index: the image moves to it unchanged otherwise.
        MetadataTransitions.Outcome refused = MetadataTransitions.apply(applied.image(), new MetadataCommand.DeleteTopic("missing"), 4243);
        assertThat(refused.result().succeeded()).isFalse();
        assertThat(refused.result().version()).isEqualTo(4243);
        assertThat(refused.image().version()).isEqualTo(4243);
        assertThat(withVersion(refused.image(), 4242)).isEqualTo(applied.image());
        // The same command at the same index from the same image gives the same outcome (every voter agrees).
        assertThat(MetadataTransitions.apply(image, new MetadataCommand.AllocateProducerIds(1, 10), 4242)).isEqualTo(applied);
    }

    @Test
    void topicsAreCreatedOnceOnlyOnRegisteredNodesAndCanGrowAndBeDeleted() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        refused(image, topic("t", Map.of(), List.of(List.of(1))), CommandResult.Error.TOPIC_EXISTS);
        refused(image, topic("u", Map.of(), List.of(List.of(1, 7))), CommandResult.Error.INVALID_REPLICATION_FACTOR);
        refused(image, topic("u", Map.of(), List.of(List.of(1, 1))), CommandResult.Error.INVALID_REPLICATION_FACTOR);
        refused(image, topic("u", Map.of(), List.of(List.of())), CommandResult.Error.INVALID_REPLICATION_FACTOR);
        refused(image, new MetadataCommand.CreatePartitions("missing", List.of(List.of(1))), CommandResult.Error.UNKNOWN_TOPIC);
        refused(image, new MetadataCommand.AlterTopicConfig("missing", Map.of()), CommandResult.Error.UNKNOWN_TOPIC);

        UUID id = image.topic("t").id();
        ClusterImage grown = ok(image, new MetadataCommand.CreatePartitions("t", List.of(List.of(3, 1, 2))));
        assertThat(grown.topic("t").partitions()).hasSize(3);
        assertThat(grown.partition("t", 2)).isEqualTo(new PartitionState(List.of(3, 1, 2), 3, 0, List.of(3, 1, 2), 0));
        assertThat(grown.topic(id)).isSameAs(grown.topic("t"));
        ClusterImage deleted = ok(grown, new MetadataCommand.DeleteTopic("t"));
        assertThat(deleted.topic("t")).isNull();
        assertThat(deleted.topic(id)).isNull();
        refused(deleted, new MetadataCommand.DeleteTopic("t"), CommandResult.Error.UNKNOWN_TOPIC);
    }

    /**
     * Two CreatePartitions requests decided on the same count (two nodes, each with its own image,
     * both asked to go from 2 to 3): the first adds its partition, the second is refused, as
     * Kafka's controller refuses it, instead of adding one more.
     */
    @Test
    void partitionsDecidedOnACountTheTopicNoLongerHasAreRefused() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        MetadataCommand.CreatePartitions first = new MetadataCommand.CreatePartitions("t", 2, List.of(List.of(3, 1, 2)));
        MetadataCommand.CreatePartitions second = new MetadataCommand.CreatePartitions("t", 2, List.of(List.of(1, 2, 3)));

        ClusterImage grown = ok(image, first);
        assertThat(grown.topic("t").partitions()).hasSize(3);
        refused(grown, second, CommandResult.Error.INVALID_PARTITIONS);
        assertThat(apply(grown, second).result().message()).contains("already has 3 partition(s)");

        // Entries written before the count was carried are replayed as they were applied then.
        ClusterImage replayed = ok(grown, new MetadataCommand.CreatePartitions("t", List.of(List.of(1, 2, 3))));
        assertThat(replayed.topic("t").partitions()).hasSize(4);
    }

    /**
     * Two incremental changes made on the same settings (two nodes' copies): the first replaces
     * them, the second is refused as stale instead of replacing them again without the first.
     */
    @Test
    void aSettingsReplacementMadeOnSettingsThatChangedSinceIsRefused() {
        ClusterImage image = threeNodesAndTopic(Map.of("retention.ms", "1000"));
        Map<String, String> base = image.topic("t").overrides();
        MetadataCommand.AlterTopicConfig first = new MetadataCommand.AlterTopicConfig("t",
                Map.of("retention.ms", "1000", "segment.ms", "60000"), base);
        MetadataCommand.AlterTopicConfig second = new MetadataCommand.AlterTopicConfig("t",
                Map.of("retention.ms", "1000", "max.message.bytes", "2048"), base);

        ClusterImage changed = ok(image, first);
        assertThat(changed.topic("t").overrides()).containsEntry("segment.ms", "60000");
        refused(changed, second, CommandResult.Error.STALE_STATE);

        MetadataCommand.AlterTopicConfig remade = new MetadataCommand.AlterTopicConfig("t",
                Map.of("retention.ms", "1000", "segment.ms", "60000", "max.message.bytes", "2048"), changed.topic("t").overrides());
        assertThat(ok(changed, remade).topic("t").overrides()).containsOnlyKeys("retention.ms", "segment.ms", "max.message.bytes");
        // Entries written before the base was carried replace whatever is there, as they did then.
        assertThat(ok(changed, new MetadataCommand.AlterTopicConfig("t", Map.of())).topic("t").overrides()).isEmpty();
    }

    /**
     * Two changes to different keys of a node's dynamic settings, each decided on a node whose
     * image held neither: both apply to what is committed, so neither undoes the other (a whole map
     * made from either node's copy did). The form written before keys were carried still replaces
     * the whole map, as it did then.
     */
    @Test
    void changesToDifferentKeysOfANodesSettingsBothStay() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, new MetadataCommand.AlterNodeConfig(2, Map.of("replica.alter.log.dirs.io.max.bytes.per.second", "300")));
        MetadataCommand.AlterNodeConfigKeys leader = new MetadataCommand.AlterNodeConfigKeys(2,
                Map.of("leader.replication.throttled.rate", "100"), Set.of());
        MetadataCommand.AlterNodeConfigKeys follower = new MetadataCommand.AlterNodeConfigKeys(2,
                Map.of("follower.replication.throttled.rate", "200"), Set.of("replica.alter.log.dirs.io.max.bytes.per.second"));

        ClusterImage both = ok(ok(image, leader), follower);
        assertThat(both.nodeConfigs().get(2)).containsOnly(Map.entry("leader.replication.throttled.rate", "100"),
                Map.entry("follower.replication.throttled.rate", "200"));
        assertThat(ok(ok(image, follower), leader).nodeConfigs()).as("in either order").isEqualTo(both.nodeConfigs());
        assertThat(both.nodeConfigs()).as("another node's settings are its own").doesNotContainKeys(1, 3, ClusterImage.EVERY_NODE);

        ClusterImage cleared = ok(both, new MetadataCommand.AlterNodeConfigKeys(2, Map.of(),
                Set.of("leader.replication.throttled.rate", "follower.replication.throttled.rate")));
        assertThat(cleared.nodeConfigs()).as("no settings left: no entry").doesNotContainKey(2);
        assertThat(ok(both, new MetadataCommand.AlterNodeConfig(2, Map.of("move.replication.throttled.rate", "5"))).nodeConfigs().get(2))
                .containsOnlyKeys("move.replication.throttled.rate");
    }

    private static MetadataCommand.AlterIsr isrOf(ClusterImage image, String topic, int p, List<Integer> isr) {
        PartitionState state = image.partition(topic, p);
        return new MetadataCommand.AlterIsr(topic, p, state.leader(), state.leaderEpoch(), state.partitionEpoch(), isr);
    }

    @Test
    void reassignmentAddsTargetReplicasAndDropsTheOldOnesOnceAllTargetsAreInSync() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, register(4));
        // p0 on [1,2,3] led by 1 moves to [4,2,3]: 4 copies first, 1 goes last.
        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(4, 2, 3)));
        PartitionState moving = image.partition("t", 0);
        assertThat(moving.replicas()).containsExactly(4, 2, 3, 1);
        assertThat(moving.adding()).containsExactly(4);
        assertThat(moving.removing()).containsExactly(1);
        assertThat(moving.leader()).as("the old leader leads until the new replica is in sync").isEqualTo(1);
        assertThat(moving.isr()).containsExactly(1, 2, 3);

        // The leader reports 4 caught up: the reassignment completes in the same step.
        image = ok(image, isrOf(image, "t", 0, List.of(1, 2, 3, 4)));
        PartitionState done = image.partition("t", 0);
        assertThat(done.replicas()).containsExactly(4, 2, 3);
        assertThat(done.reassigning()).isFalse();
        assertThat(done.isr()).containsExactlyInAnyOrder(2, 3, 4);
        assertThat(done.leader()).as("a removed leader hands over to the first in-sync target").isEqualTo(4);
        assertThat(done.leaderEpoch()).isEqualTo(moving.leaderEpoch() + 1);
        assertThat(image.partition("t", 1)).as("other partitions are untouched").isEqualTo(threeNodesAndTopic(Map.of()).partition("t", 1));
    }

    @Test
    void reassignmentThatOnlyRemovesOrKeepsTheLeaderCompletesWithoutALeaderChange() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        PartitionState before = image.partition("t", 0);
        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(1, 2)));
        PartitionState after = image.partition("t", 0);
        assertThat(after.replicas()).containsExactly(1, 2);
        assertThat(after.isr()).containsExactly(1, 2);
        assertThat(after.reassigning()).isFalse();
        assertThat(after.leader()).isEqualTo(1);
        assertThat(after.leaderEpoch()).as("a replica left: its fetches at the old epoch are fenced").isEqualTo(before.leaderEpoch() + 1);
        assertThat(after.partitionEpoch()).isGreaterThan(before.partitionEpoch());
    }

    @Test
    void theLeaderEpochMovesWhenAReplicaLeavesAndOnlyThen() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, register(4));
        int start = image.partition("t", 0).leaderEpoch();

        // Adding a replica keeps the leader's epoch: every current replica may go on fetching.
        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(1, 2, 3, 4)));
        assertThat(image.partition("t", 0).leaderEpoch()).isEqualTo(start);
        image = ok(image, isrOf(image, "t", 0, List.of(1, 2, 3, 4)));
        assertThat(image.partition("t", 0).reassigning()).isFalse();
        assertThat(image.partition("t", 0).leaderEpoch()).isEqualTo(start);

        // Node 3 moves away and comes back while the leader stays: each removal is a new epoch, so a
        // node that has not applied the removal fetches at an epoch the leader fences, even once
        // it is a replica again (found missing as fix 40's uncovered case).
        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(1, 2, 4)));
        PartitionState away = image.partition("t", 0);
        assertThat(away.replicas()).containsExactly(1, 2, 4);
        assertThat(away.leader()).isEqualTo(1);
        assertThat(away.leaderEpoch()).isEqualTo(start + 1);
        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(1, 2, 4, 3)));
        assertThat(image.partition("t", 0).leaderEpoch()).isEqualTo(start + 1);

        // A running move replaced by one that drops a replica it was adding fences that replica too.
        image = ok(image, register(5));
        image = ok(image, isrOf(image, "t", 0, List.of(1, 2, 3, 4)));
        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(1, 2, 5)));
        int moving = image.partition("t", 0).leaderEpoch();
        assertThat(moving).as("3 and 4 are only being removed: they still fetch until 5 is in sync").isEqualTo(start + 1);
        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(1, 2, 4, 3)));
        assertThat(image.partition("t", 0).replicas()).containsExactly(1, 2, 4, 3);
        assertThat(image.partition("t", 0).reassigning()).isFalse();
        assertThat(image.partition("t", 0).leaderEpoch()).as("5 was dropped").isEqualTo(start + 2);
    }

    @Test
    void cancellingARunningReassignmentRestoresTheOriginalReplicas() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, register(4));
        image = ok(image, register(5));
        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(4, 5, 3)));
        image = ok(image, isrOf(image, "t", 0, List.of(1, 2, 3, 4)));
        assertThat(image.partition("t", 0).reassigning()).as("5 is not in sync yet").isTrue();

        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of()));
        PartitionState cancelled = image.partition("t", 0);
        // As in Kafka, the original replicas come back in the order the reassignment listed them.
        assertThat(cancelled.replicas()).containsExactly(3, 1, 2);
        assertThat(cancelled.isr()).containsExactlyInAnyOrder(1, 2, 3);
        assertThat(cancelled.leader()).isEqualTo(1);
        assertThat(cancelled.reassigning()).isFalse();
        refused(image, new MetadataCommand.ReassignPartition("t", 0, List.of()), CommandResult.Error.NO_REASSIGNMENT);
    }

    @Test
    void reassignmentToUnknownOrRepeatedReplicasIsRefused() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        refused(image, new MetadataCommand.ReassignPartition("t", 0, List.of(1, 9)), CommandResult.Error.INVALID_REPLICATION_FACTOR);
        refused(image, new MetadataCommand.ReassignPartition("t", 0, List.of(1, 1)), CommandResult.Error.INVALID_REPLICATION_FACTOR);
        refused(image, new MetadataCommand.ReassignPartition("t", 7, List.of(1)), CommandResult.Error.UNKNOWN_TOPIC);
    }

    @Test
    void aMoveOfAnOfflinePartitionCompletesAndThePartitionReturnsWithItsInSyncReplica() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, isrOf(image, "t", 0, List.of(1)));
        image = ok(image, fence(image, 1));
        assertThat(image.partition("t", 0).hasLeader()).isFalse();

        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(1)));
        PartitionState moved = image.partition("t", 0);
        assertThat(moved.replicas()).containsExactly(1);
        assertThat(moved.reassigning()).isFalse();
        assertThat(moved.hasLeader()).as("still offline: its only in-sync replica is down").isFalse();
        assertThat(moved.isr()).containsExactly(1);

        image = ok(image, register(1, 201));
        assertThat(image.partition("t", 0).leader()).isEqualTo(1);
    }

    @Test
    void aMoveCompletesWhenTheCommandThatMakesItPossibleIsNotAnInSyncSetChange() {
        ClusterImage image = threeNodesAndTopic(Map.of());
        image = ok(image, register(4));
        // p0 [1,2,3] -> [2,3]: the in-sync set already holds the target, so the move ends at once...
        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(2, 3)));
        assertThat(image.partition("t", 0).reassigning()).isFalse();
        // ...and moving p1 to [4,3,1] waits for 4; fencing 2 (being removed) changes nothing about that.
        image = ok(image, new MetadataCommand.ReassignPartition("t", 1, List.of(4, 3, 1)));
        image = ok(image, fence(image, 2));
        PartitionState p1 = image.partition("t", 1);
        assertThat(p1.reassigning()).isTrue();
        assertThat(p1.leader()).as("2 led p1; an in-sync replica takes over").isIn(3, 1);
        assertThat(p1.isr()).doesNotContain(2);
    }

    @Test
    void anUncleanLeaderComesFromTheReplicasThatHeldThePartitionBeforeAMove() {
        ClusterImage image = threeNodesAndTopic(Map.of("unclean.leader.election.enable", "true"));
        image = ok(image, register(4));
        image = ok(image, isrOf(image, "t", 0, List.of(1)));
        image = ok(image, new MetadataCommand.ReassignPartition("t", 0, List.of(4, 2, 3)));
        image = ok(image, fence(image, 1));
        assertThat(image.partition("t", 0).leader()).as("2 held the data; 4 may hold nothing yet").isEqualTo(2);
    }
}
