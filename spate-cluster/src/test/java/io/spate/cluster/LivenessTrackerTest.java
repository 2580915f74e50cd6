package io.spate.cluster;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class LivenessTrackerTest {
    private static final long MS = 1_000_000L;
    private static final long SESSION_MS = 1_000;

    private final LivenessTracker liveness = new LivenessTracker(SESSION_MS);
    private final ClusterImage image = new ClusterImage(7, Map.of(
            1, new NodeInfo(1, "127.0.0.1", 9091, 11, false),
            2, new NodeInfo(2, "127.0.0.1", 9092, 12, false),
            3, new NodeInfo(3, "127.0.0.1", 9093, 13, false)), Map.of(), 0);

    private java.util.List<Integer> expiredAt(long ms) {
        return liveness.expired(image, ms * MS, 1).stream().map(NodeInfo::id).toList();
    }

    @Test
    void aNewControllerGivesEveryNodeAFullSessionFromItsTakeover() {
        liveness.reset(image, 5_000 * MS);
        assertThat(expiredAt(6_000)).isEmpty();
        assertThat(expiredAt(6_001)).containsExactlyInAnyOrder(2, 3);
    }

    @Test
    void theNodeOfTheControllerItReplacesCountsFromWhenItsVoterWentQuiet() {
        // Node 1's voter stopped hearing node 2's controller at 4.6 s and took over at 5.0 s.
        liveness.leaderLost(2, 4_600 * MS);
        liveness.reset(image, 5_000 * MS);
        assertThat(expiredAt(5_600)).isEmpty();
        assertThat(expiredAt(5_601)).containsExactly(2);
        assertThat(expiredAt(6_001)).containsExactlyInAnyOrder(2, 3);
    }

    @Test
    void aHeartbeatAfterTheTakeoverStillCounts() {
        liveness.leaderLost(2, 4_600 * MS);
        liveness.reset(image, 5_000 * MS);
        liveness.heard(image, 2, 12, 5_200 * MS);
        assertThat(expiredAt(6_100)).containsExactly(3);
    }

    @Test
    void aLossOlderThanASessionGetsAFullSessionLikeEveryNode() {
        // No quorum for a while: nobody could hear node 2's heartbeats, so its silence says nothing.
        liveness.leaderLost(2, 1_000 * MS);
        liveness.reset(image, 5_000 * MS);
        assertThat(expiredAt(6_000)).isEmpty();
    }

    @Test
    void aLeaderNoLongerInTheImageIsIgnored() {
        liveness.leaderLost(9, 4_600 * MS);
        liveness.reset(image, 5_000 * MS);
        assertThat(expiredAt(6_000)).isEmpty();
    }

    @Test
    void aHeartbeatFromAnotherIncarnationDoesNotKeepTheRegisteredOneAlive() {
        liveness.reset(image, 5_000 * MS);
        // Node 3 restarted as incarnation 14; its registration has not committed yet.
        liveness.heard(image, 3, 14, 5_900 * MS);
        liveness.heard(image, 2, 12, 5_900 * MS);
        assertThat(expiredAt(6_001)).containsExactly(3);
    }

    @Test
    void aNodeRegisteredAgainStartsAFullSession() {
        liveness.reset(image, 5_000 * MS);
        ClusterImage registeredAgain = new ClusterImage(8, Map.of(
                1, image.node(1), 2, image.node(2), 3, new NodeInfo(3, "127.0.0.1", 9093, 14, false)), Map.of(), 0);
        assertThat(liveness.expired(registeredAgain, 6_500 * MS, 1)).extracting(NodeInfo::id).containsExactly(2);
        assertThat(liveness.expired(registeredAgain, 7_501 * MS, 1)).extracting(NodeInfo::id).containsExactlyInAnyOrder(2, 3);
    }

    @Test
    void aLossFollowedByAnotherLeaderIsForgotten() {
        liveness.leaderLost(2, 4_600 * MS);
        liveness.leaderFollowed();
        liveness.reset(image, 5_000 * MS);
        assertThat(expiredAt(6_000)).isEmpty();
    }
}
