package io.spate.processing;

import io.spate.replication.Partition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The guard of exactly-once results in place ({@link TaskRunner#leadsInputAt}): an attempt appends
 * only while its node leads the input at the epoch the attempt began under. The fault campaigns
 * (6 nodes, seed 710, 2026-12-06) saw a task held while its node was starved of CPU let go when
 * the input's leadership moved to another node, take one more micro-batch from its node's
 * replica, now a follower's, and append it to the output it still led, after the instance on the
 * new leader had read the output's last position: 323 results twice. A real partition on disk,
 * moved through the roles its node's metadata gives it.
 */
class InPlaceLeadershipTest {
    @RegisterExtension
    final OnDiskPartition replica = new OnDiskPartition("in", 5);

    @Test
    void resultsGoInPlaceOnlyUnderTheLeadershipTheAttemptBeganWith() {
        Partition input = replica.partition();
        input.becomeLeader(3, 1, List.of(5, 6, 1), List.of(5, 6, 1), System.currentTimeMillis());
        int began = input.leaderEpoch();
        assertThat(TaskRunner.leadsInputAt(input, began)).isTrue();

        input.becomeLeader(3, 2, List.of(5, 6, 1), List.of(5), System.currentTimeMillis());
        assertThat(TaskRunner.leadsInputAt(input, began)).as("the in-sync set shrank: the same leadership").isTrue();

        input.becomeFollower(4, 3, 6, List.of(5, 6, 1), List.of(6));
        assertThat(TaskRunner.leadsInputAt(input, began)).as("node 6 leads now; this replica is a follower's").isFalse();

        input.becomeLeader(5, 4, List.of(5, 6, 1), List.of(5, 6), System.currentTimeMillis());
        assertThat(TaskRunner.leadsInputAt(input, began)).as("led here again, but a new leadership: a new instance runs").isFalse();
        assertThat(TaskRunner.leadsInputAt(input, input.leaderEpoch())).isTrue();

        assertThat(TaskRunner.leadsInputAt(null, -1)).as("an input read from its leader over the network").isTrue();
    }

    /**
     * A reassignment that drops a replica but keeps the leader gives the same node a newer epoch,
     * and its node starts no new task for a partition it already led: the attempt under the old
     * epoch must make way (it used to wait, HELD, until the task was stopped for another reason).
     */
    @Test
    void anAttemptSeesItsInputLedHereAtANewerEpochAfterAReassignmentThatKeptTheLeader() {
        Partition input = replica.partition();
        input.becomeLeader(3, 1, List.of(5, 6, 1), List.of(5, 6, 1), System.currentTimeMillis());
        int began = input.leaderEpoch();
        assertThat(TaskRunner.ledAtNewerEpoch(input, began)).isFalse();

        input.becomeLeader(4, 2, List.of(5, 6), List.of(5, 6), System.currentTimeMillis());
        assertThat(TaskRunner.leadsInputAt(input, began)).isFalse();
        assertThat(TaskRunner.ledAtNewerEpoch(input, began)).as("same leader, newer epoch: start again under it").isTrue();

        input.becomeFollower(5, 3, 6, List.of(5, 6), List.of(6));
        assertThat(TaskRunner.ledAtNewerEpoch(input, began)).as("led elsewhere: held until its node stops it").isFalse();
        assertThat(TaskRunner.ledAtNewerEpoch(null, -1)).isFalse();
    }
}
