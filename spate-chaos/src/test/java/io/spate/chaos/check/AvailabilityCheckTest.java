package io.spate.chaos.check;

import io.spate.chaos.history.NodeFault;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.spate.chaos.check.HistoryBuilder.SECOND;
import static org.assertj.core.api.Assertions.assertThat;

class AvailabilityCheckTest {

    /** Partition 0 acks every 100 ms in [from, to] (seconds). */
    private static void acks(HistoryBuilder b, int partition, double from, double to) {
        for (long t = (long) (from * SECOND); t <= (long) (to * SECOND); t += 100_000) {
            b.ack(1, partition, t);
        }
    }

    /** Acks from 1 s to 3 s and from 9 s to 11 s: a 6 s gap, more than the 5 s bound. */
    private static HistoryBuilder gapFrom3To9() {
        HistoryBuilder b = new HistoryBuilder().partitions(1);
        acks(b, 0, 1, 3);
        acks(b, 0, 9, 11);
        return b;
    }

    @Test
    void stallWhileAQuorumIsUpIsAViolation() {
        Verdict v = Checker.check(gapFrom3To9().build());
        assertThat(v.availability().longestStallUs(0)).isEqualTo(6 * SECOND);
        Availability.Stall s = v.availability().partitions().get(0).longestStall();
        assertThat(s.startUs()).isEqualTo(3 * SECOND);
        assertThat(s.endUs()).isEqualTo(9 * SECOND);
        assertThat(v.violationsOf(Violation.STALL)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("6.000s").contains("from 3.000s to 9.000s"));
        assertThat(v.safetyOk()).isTrue();
        assertThat(v.availabilityOk()).isFalse();
        assertThat(v.ok()).isFalse();
        assertThat(v.summaryLine()).startsWith("FAIL seed 42 (stall x1)");
    }

    @Test
    void onlyTheLongestHealthyStretchOfAGapCountsWithOverlappingFaults() {
        HistoryBuilder b = gapFrom3To9();
        // Node 2 down 2.9-6 s and node 3 down 4-9.5 s: no majority from 4 s to 6 s only.
        b.fault("kill", List.of(2), List.of(), 2_900_000, 6 * SECOND);
        b.fault("pause", List.of(3), List.of(), 4 * SECOND, 9_500_000);
        Verdict v = Checker.check(b.build());
        // The gap 3-9 s is healthy in 3-4 s and 6-9 s: the longest is 3 s.
        assertThat(v.availability().longestStallUs(0)).isEqualTo(3 * SECOND);
        assertThat(v.availability().partitions().get(0).longestStall().startUs()).isEqualTo(6 * SECOND);
        assertThat(v.availability().recoveryUs(0)).isZero(); // an ack at exactly 9.5 s
        assertThat(v.violations()).isEmpty();
    }

    @Test
    void waitingWhileOnlyReplicasThatMayNotLeadAreUpIsNotAStall() {
        HistoryBuilder b = gapFrom3To9();
        // Node 3 was the last in-sync replica and is down 2-8.5 s; nodes 1 and 2 are up (a
        // quorum) but the cluster says neither may lead: waiting for node 3 is the promise.
        b.fault("kill", List.of(3), List.of(), 2 * SECOND, 8_500_000);
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(1 * SECOND, 0, 3, List.of(3), List.of()));
        // Fenced, the last in-sync replica stays recorded as such (Spate and Kafka keep it).
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(2_500_000, 0, -1, List.of(3), List.of()));
        Verdict v = Checker.check(b.build());
        Availability.PartitionAvailability p = v.availability().partitions().get(0);
        // Counted: only 8.5-9 s, once node 3 is back; the whole wait is reported, not bounded.
        assertThat(p.longestStall().lengthUs()).isEqualTo(500_000);
        assertThat(p.longestQuorumStall().lengthUs()).isEqualTo(6 * SECOND);
        assertThat(v.violations()).isEmpty();
        assertThat(v.summaryLine()).contains("6.000s counting waits for an eligible replica");
    }

    @Test
    void anEligibleReplicaUpMakesTheWaitAStall() {
        HistoryBuilder b = gapFrom3To9();
        b.fault("kill", List.of(3), List.of(), 2 * SECOND, 8_500_000);
        // Node 3 led; node 2 stayed eligible (KIP-966's ELR): an election could have ended the stall.
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(1 * SECOND, 0, 3, List.of(3), List.of(2)));
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(2_500_000, 0, -1, List.of(), List.of(2)));
        Verdict v = Checker.check(b.build());
        assertThat(v.availability().longestStallUs(0)).isEqualTo(6 * SECOND);
        assertThat(v.violationsOf(Violation.STALL)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("a replica that may lead"));
    }

    @Test
    void anEligibleReplicaCutOffFromTheQuorumDoesNotCount() {
        HistoryBuilder b = gapFrom3To9();
        // Node 2, the only one that may lead, is cut off from nodes 1 and 3 for the whole gap.
        b.fault("isolate", List.of(), List.of(new NodeFault.Cut(2, 1), new NodeFault.Cut(1, 2),
                new NodeFault.Cut(2, 3), new NodeFault.Cut(3, 2)), 2 * SECOND, 10 * SECOND);
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(1 * SECOND, 0, -1, List.of(2), List.of()));
        Verdict v = Checker.check(b.build());
        // Only the 100 ms between acks before the cut counts.
        assertThat(v.availability().longestStallUs(0)).isEqualTo(100_000);
        assertThat(v.availability().partitions().get(0).longestQuorumStall().lengthUs()).isEqualTo(6 * SECOND);
    }

    /** Seed 3048: the controller quorum came back with a killed replica the last status still named in sync. */
    private static HistoryBuilder lastInSyncCutOffWhileAKilledOneReturns() {
        HistoryBuilder b = gapFrom3To9();
        b.fault("term", List.of(1), List.of(), 2 * SECOND, 5 * SECOND);
        b.fault("kill", List.of(2), List.of(), 2 * SECOND, 5 * SECOND);
        b.fault("isolate", List.of(), List.of(new NodeFault.Cut(3, 1), new NodeFault.Cut(1, 3),
                new NodeFault.Cut(3, 2), new NodeFault.Cut(2, 3)), 2_500_000, 8_500_000);
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(1 * SECOND, 0, 3, List.of(3, 2), List.of()));
        // Seen from node 3 alone, with no controller quorum to change it: stale from here on.
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(2_700_000, 0, -1, List.of(3, 2), List.of()));
        return b;
    }

    @Test
    void aReplicaBackFromKillDashNineMayNotLeadUntilTheClusterSaysSoAgain() {
        // Node 2 may have lost an unflushed tail: on its return the cluster drops it from the
        // in-sync set and the ELR, so only the cut-off node 3 may lead until 8.5 s.
        Verdict v = Checker.check(lastInSyncCutOffWhileAKilledOneReturns().build());
        Availability.PartitionAvailability p = v.availability().partitions().get(0);
        assertThat(p.longestStall().lengthUs()).isEqualTo(500_000);
        assertThat(p.longestQuorumStall().lengthUs()).isEqualTo(4 * SECOND);
        assertThat(v.violations()).isEmpty();
    }

    @Test
    void aReplicaBackFromKillDashNineThatTheClusterNamesAgainMayLead() {
        HistoryBuilder b = lastInSyncCutOffWhileAKilledOneReturns();
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(6 * SECOND, 0, -1, List.of(3), List.of(2)));
        Verdict v = Checker.check(b.build());
        assertThat(v.availability().partitions().get(0).longestStall().lengthUs()).isEqualTo(3 * SECOND);
    }

    @Test
    void whenEveryInSyncReplicaCameBackFromKillDashNineOneOfThemMayStillLead() {
        // Nodes 2 and 3, the whole in-sync set, are killed while no controller can fence either;
        // the cluster keeps one of them (the checker cannot tell which) and elects it on return.
        HistoryBuilder b = gapFrom3To9();
        b.fault("kill", List.of(2), List.of(), 2 * SECOND, 4 * SECOND);
        b.fault("kill", List.of(3), List.of(), 2 * SECOND, 6 * SECOND);
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(1 * SECOND, 0, 2, List.of(2, 3), List.of()));
        Verdict v = Checker.check(b.build());
        // 4-6 s: only node 2 of the two is back, and the kept one may be node 3: not counted.
        // From 6 s both are back with node 1: whichever was kept may lead, so 6-9 s counts.
        assertThat(v.availability().partitions().get(0).longestStall().lengthUs()).isEqualTo(3 * SECOND);
        assertThat(v.availability().partitions().get(0).longestStall().startUs()).isEqualTo(6 * SECOND);
    }

    @Test
    void aSigtermThatEndedInSigkillIsAnUncleanStop() {
        HistoryBuilder b = gapFrom3To9();
        b.fault("term", List.of(2), List.of(), 2 * SECOND, 5 * SECOND);
        NodeFault clean = b.faults.getLast();
        b.faults.set(b.faults.size() - 1, new NodeFault("term", "SIGTERM node 2, restart after 1.0s (exit 137)",
                clean.down(), clean.cuts(), clean.startUs(), clean.endUs()));
        assertThat(HealthyTimeline.uncleanStop(b.faults.getLast())).isTrue();
        assertThat(HealthyTimeline.uncleanStop(new NodeFault("term", "SIGTERM node 2, restart after 1.0s (exit 143)",
                List.of(2), List.of(), 0, 1))).isFalse();
        assertThat(HealthyTimeline.uncleanStop(new NodeFault("disk-full", "fill the disk of node 3 for 4.1s (node fenced after the disk filled; restarted)",
                List.of(3), List.of(), 0, 1))).isTrue();
        assertThat(HealthyTimeline.uncleanStop(new NodeFault("disk-full", "fill the disk of node 3 for 4.1s",
                List.of(3), List.of(), 0, 1))).isFalse();
    }

    @Test
    void aReplicaBackFromACleanStopKeepsWhatTheLastStatusSaid() {
        HistoryBuilder b = gapFrom3To9();
        b.faults.add(new NodeFault("term", "SIGTERM node 2, restart after 3.0s (exit 143)", List.of(2), List.of(), 2 * SECOND, 5 * SECOND));
        b.fault("isolate", List.of(), List.of(new NodeFault.Cut(3, 1), new NodeFault.Cut(1, 3),
                new NodeFault.Cut(3, 2), new NodeFault.Cut(2, 3)), 2_500_000, 8_500_000);
        b.statuses.add(new io.spate.chaos.history.ReplicaStatus(1 * SECOND, 0, 3, List.of(3), List.of(2)));
        Verdict v = Checker.check(b.build());
        // From 5 s nodes 1 and 2 are a connected quorum and node 2, in the ELR, may lead.
        assertThat(v.availability().partitions().get(0).longestStall().lengthUs()).isEqualTo(4 * SECOND);
        assertThat(v.violationsOf(Violation.STALL)).isEmpty(); // 4 s, under the 5 s bound
    }

    @Test
    void aMinorityCutOffDoesNotExcuseAStall() {
        HistoryBuilder b = gapFrom3To9();
        b.fault("partition", List.of(), List.of(new NodeFault.Cut(1, 2), new NodeFault.Cut(3, 1)),
                3 * SECOND, 9 * SECOND);
        Verdict v = Checker.check(b.build());
        assertThat(v.availability().longestStallUs(0)).isEqualTo(6 * SECOND);
        assertThat(v.violationsOf(Violation.STALL)).hasSize(1);
    }

    @Test
    void aOneWayCutBetweenEveryPairExcusesAStall() {
        HistoryBuilder b = gapFrom3To9();
        b.fault("partition", List.of(),
                List.of(new NodeFault.Cut(1, 2), new NodeFault.Cut(2, 3), new NodeFault.Cut(3, 1)),
                3 * SECOND, 9 * SECOND);
        Verdict v = Checker.check(b.build());
        // Only the ordinary 100 ms between acks counts: 3-9 s had no connected majority.
        assertThat(v.availability().longestStallUs(0)).isEqualTo(100_000);
        assertThat(v.violations()).isEmpty();
    }

    @Test
    void stallsAtTheStartAndEndOfTheWorkloadCount() {
        HistoryBuilder b = new HistoryBuilder().partitions(2);
        acks(b, 0, 7, 11);     // nothing from 1 s to 7 s
        acks(b, 1, 1, 4.5);    // nothing from 4.5 s to 11 s
        Verdict v = Checker.check(b.build());
        assertThat(v.availability().longestStallUs(0)).isEqualTo(6 * SECOND);
        assertThat(v.availability().partitions().get(0).longestStall().startUs()).isEqualTo(SECOND);
        assertThat(v.availability().longestStallUs(1)).isEqualTo(6_500_000);
        assertThat(v.availability().worstStall().orElseThrow().partition()).isEqualTo(1);
        assertThat(v.violationsOf(Violation.STALL)).extracting(Violation::partition).containsExactly(0, 1);
    }

    @Test
    void slowRecoveryAfterTheHealIsAViolation() {
        HistoryBuilder b = new HistoryBuilder().partitions(1);
        acks(b, 0, 1, 2);
        acks(b, 0, 9, 11);
        b.fault("kill", List.of(1, 2), List.of(), 2 * SECOND, 5 * SECOND);
        b.bounds = new io.spate.chaos.history.RunHistory.Bounds(10 * SECOND, 2 * SECOND);
        Verdict v = Checker.check(b.build());
        assertThat(v.availability().recoveryUs(0)).isEqualTo(4 * SECOND);
        assertThat(v.violationsOf(Violation.RECOVERY)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("4.000s after the heal at 5.000s"));
        assertThat(v.violationsOf(Violation.STALL)).isEmpty(); // 4 s with quorum, under 10 s
    }

    @Test
    void noAckAfterTheHealIsNotRecovered() {
        HistoryBuilder b = new HistoryBuilder().partitions(1);
        acks(b, 0, 1, 2);
        b.fault("kill", List.of(1, 2), List.of(), 2 * SECOND, 10 * SECOND);
        b.bounds = new io.spate.chaos.history.RunHistory.Bounds(10 * SECOND, 5 * SECOND);
        Verdict v = Checker.check(b.build());
        assertThat(v.availability().allRecovered()).isFalse();
        assertThat(v.availability().recoveryUs(0)).isEqualTo(SECOND);
        assertThat(v.violationsOf(Violation.RECOVERY)).singleElement()
                .satisfies(x -> assertThat(x.detail()).contains("no write acknowledged after the heal"));
        assertThat(v.describe()).contains("recovery: 1 violation").contains("replay with seed 42");
    }

    @Test
    void partitionWithoutReplicaMajorityIsUnhealthyEvenWithVoterMajority() {
        List<Integer> universe = List.of(1, 2, 3, 4, 5);
        List<Integer> replicas = List.of(1, 2, 3);
        List<Integer> voters = List.of(1, 2, 3, 4, 5);
        List<NodeFault> replicasDown = List.of(new NodeFault("kill", "", List.of(1, 2), List.of(), 0, 10));
        List<NodeFault> votersDown = List.of(new NodeFault("kill", "", List.of(3, 4, 5), List.of(), 0, 10));
        List<NodeFault> twoOthersDown = List.of(new NodeFault("kill", "", List.of(4, 5), List.of(), 0, 10));
        assertThat(HealthyTimeline.healthyAt(5, replicas, voters, universe, replicasDown)).isFalse();
        assertThat(HealthyTimeline.healthyAt(5, replicas, voters, universe, votersDown)).isFalse();
        assertThat(HealthyTimeline.healthyAt(5, replicas, voters, universe, twoOthersDown)).isTrue();
        assertThat(HealthyTimeline.healthyAt(10, replicas, voters, universe, replicasDown)).isTrue(); // window is [start, end)
    }

    @Test
    void healthyIntervalsMergeAcrossFaultEdges() {
        List<NodeFault> faults = List.of(
                new NodeFault("kill", "", List.of(1), List.of(), 10, 50),
                new NodeFault("pause", "", List.of(2), List.of(), 30, 40),
                new NodeFault("kill", "", List.of(3), List.of(), 45, 70));
        List<HealthyTimeline.Interval> healthy = HealthyTimeline.healthy(List.of(1, 2, 3), List.of(1, 2, 3),
                List.of(1, 2, 3), faults, 0, 100);
        assertThat(healthy).containsExactly(new HealthyTimeline.Interval(0, 30), new HealthyTimeline.Interval(40, 45),
                new HealthyTimeline.Interval(50, 100));
    }

    /** Seed 441 of the continuous-autobalancing campaign: a move changed the partition's replicas, and the check follows it. */
    @Test
    void aPartitionIsJudgedByItsReplicasAfterAMoveNotByThoseItStartedWith() {
        for (boolean recorded : new boolean[]{true, false}) {
            HistoryBuilder b = gapFrom3To9();
            b.nodes = List.of(1, 2, 3, 4, 5);
            b.voters = List.of(1, 2, 3, 4, 5);
            b.replicas.put(0, List.of(3, 4, 5));
            b.fault("term", List.of(3), List.of(), 2 * SECOND, 10 * SECOND);
            b.fault("one-way", List.of(), List.of(new NodeFault.Cut(2, 5)), 3 * SECOND, 9 * SECOND);
            // Node 4's replica moved to node 2: of {3, 2, 5}, node 3 is down and 2 and 5 cannot talk.
            b.statuses.add(new io.spate.chaos.history.ReplicaStatus(1 * SECOND, 0, 5, List.of(5, 2), List.of(),
                    recorded ? List.of(3, 2, 5) : List.of()));
            Verdict v = Checker.check(b.build());
            if (recorded) {
                assertThat(v.violations()).as("no majority of the replicas it had then could take writes").isEmpty();
            } else {
                // An older history, without the replica sets: judged by {3, 4, 5}, with 4 and 5 up and connected.
                assertThat(v.violationsOf(Violation.STALL)).singleElement();
            }
        }
    }
}
