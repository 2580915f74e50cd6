package io.spate.tests;

import io.spate.tests.support.SpateCluster;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.spate.tests.support.SpateCluster.log;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code Admin.describeMetadataQuorum} (what {@code kafka-metadata-quorum.sh describe} sends)
 * against node processes: three controller voters and a fourth node that only follows, asked
 * through each node in turn, while a voter is killed with {@code kill -9} and restarted and while
 * the quorum's leader is killed.
 */
class MetadataQuorumTest {
    @TempDir
    static Path tmp;

    private static SpateCluster cluster;
    private static int observer;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new SpateCluster(tmp.resolve("cluster"), 3, Map.of("partition.autobalancing.mode", "off")).start();
        observer = cluster.addNode();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static QuorumInfo describeThrough(int node) throws Exception {
        try (Admin admin = io.spate.tests.support.Clients.admin(cluster.bootstrap(node))) {
            return admin.describeMetadataQuorum().quorumInfo().get();
        }
    }

    private static QuorumInfo.ReplicaState voter(QuorumInfo quorum, int id) {
        return quorum.voters().stream().filter(v -> v.replicaId() == id).findFirst().orElseThrow();
    }

    private static long endOf(QuorumInfo quorum) {
        return voter(quorum, quorum.leaderId()).logEndOffset();
    }

    @Test
    void everyNodeDescribesTheQuorumItsLeaderSeesAndALostVoterFallsBehindUntilItReturns() throws Exception {
        int leader = cluster.controller().orElseThrow();
        // Asked of the leader, of a voter that follows and of the node that is no voter: one answer, the leader's.
        await("every node describes the quorum").atMost(SpateCluster.SETTLE).ignoreExceptions().untilAsserted(() -> {
            for (int node : cluster.ids()) {
                QuorumInfo quorum = describeThrough(node);
                assertThat(quorum.leaderId()).as("through node " + node).isEqualTo(leader);
                assertThat(quorum.voters()).extracting(QuorumInfo.ReplicaState::replicaId).containsExactlyInAnyOrder(1, 2, 3);
                assertThat(quorum.observers()).extracting(QuorumInfo.ReplicaState::replicaId).containsExactly(observer);
                assertThat(quorum.highWatermark()).isPositive();
                for (QuorumInfo.ReplicaState v : quorum.voters()) {
                    assertThat(v.logEndOffset()).as("voter " + v.replicaId() + " holds the whole log").isEqualTo(endOf(quorum));
                    assertThat(v.lastCaughtUpTimestamp()).isPresent();
                    assertThat(v.lastFetchTimestamp()).isPresent();
                }
                QuorumInfo.ReplicaState follower = quorum.observers().get(0);
                assertThat(follower.logEndOffset()).as("the observer's applied metadata").isPositive();
                assertThat(follower.lastFetchTimestamp()).isPresent();
            }
        });
        long epoch = describeThrough(leader).leaderEpoch();

        int lost = cluster.ids().stream().filter(id -> id != leader && id != observer).findFirst().orElseThrow();
        log("kill -9 voter " + lost);
        cluster.kill9(lost);
        long afterKill = System.currentTimeMillis();
        cluster.createTopic("quorum-moves-on", 1, 2, Map.of());
        await("the lost voter falls behind").atMost(SpateCluster.SETTLE).ignoreExceptions().untilAsserted(() -> {
            QuorumInfo quorum = describeThrough(observer);
            assertThat(quorum.leaderId()).isEqualTo(leader);
            assertThat(voter(quorum, lost).logEndOffset()).as("the dead voter misses the new topic's entries").isLessThan(endOf(quorum));
            assertThat(voter(quorum, lost).lastCaughtUpTimestamp().orElseThrow()).isLessThan(afterKill);
            assertThat(quorum.highWatermark()).as("two voters of three still commit").isGreaterThan(voter(quorum, lost).logEndOffset());
            for (int id : Set.of(1, 2, 3)) {
                if (id != lost) {
                    assertThat(voter(quorum, id).lastCaughtUpTimestamp().orElseThrow()).isGreaterThanOrEqualTo(afterKill);
                }
            }
        });

        cluster.start(lost);
        long afterRestart = System.currentTimeMillis();
        await("the restarted voter catches up").atMost(SpateCluster.SETTLE).ignoreExceptions().untilAsserted(() -> {
            QuorumInfo quorum = describeThrough(lost);
            assertThat(voter(quorum, lost).logEndOffset()).isEqualTo(endOf(quorum));
            assertThat(voter(quorum, lost).lastCaughtUpTimestamp().orElseThrow()).isGreaterThanOrEqualTo(afterRestart);
        });

        log("kill -9 the quorum's leader, node " + leader);
        cluster.kill9(leader);
        await("another voter leads, in a later term").atMost(SpateCluster.SETTLE).ignoreExceptions().untilAsserted(() -> {
            QuorumInfo quorum = describeThrough(observer);
            assertThat(quorum.leaderId()).isNotEqualTo(leader).isIn(1, 2, 3);
            assertThat(quorum.leaderEpoch()).isGreaterThan(epoch);
            Set<Integer> voters = quorum.voters().stream().map(QuorumInfo.ReplicaState::replicaId).collect(Collectors.toSet());
            assertThat(voters).containsExactlyInAnyOrder(1, 2, 3);
        });
        cluster.start(leader);
    }
}
