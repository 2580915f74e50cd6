package io.spate.server.group;

import io.spate.server.StandaloneCore;
import io.spate.server.errors.ServiceError;
import io.spate.server.partition.ReplicaManager;
import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The classic group protocol's state machine on a manual clock: every timer (initial rebalance
 * delay, session timeout, rebalance timeout, offset expiry) fires exactly when the test moves
 * time, and never otherwise. A standalone node's real offsets log on disk underneath.
 */
class GroupCoordinatorTest {
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;
    private static final int INITIAL_DELAY_MS = 3_000;
    private static final long RETENTION_MS = 60_000;
    private static final long RETENTION_CHECK_MS = 5_000;

    @TempDir
    Path dataDir;

    private final ManualScheduler scheduler = new ManualScheduler(1_700_000_000_000L);
    private StandaloneCore node;
    private ReplicaManager replicas;
    private GroupCoordinator coordinator;

    @BeforeEach
    void start() throws IOException {
        node = StandaloneCore.start(dataDir);
        replicas = node.replicas;
        node.topics.create("orders", 2, (short) 1, Map.of());
        var settings = new GroupCoordinator.Settings(6_000, 300_000, INITIAL_DELAY_MS, 4_096, 1, (short) 1, RETENTION_MS, RETENTION_CHECK_MS);
        coordinator = new GroupCoordinator(settings, scheduler, scheduler, node.topics, replicas);
        replicas.addLeadershipListener(coordinator.offsetsLeadership());
        // Created here, not on the first request, so that its shard loads before the test's first step
        // (the node leads it once the metadata holds it; the load is a task on the manual scheduler).
        node.topics.createInternal("__consumer_offsets", 1, (short) 1, Map.of("cleanup.policy", "compact"));
        scheduler.runDue();
    }

    @AfterEach
    void stop() {
        coordinator.close();
        node.close();
    }

    /** Runs what the coordinator has queued for now; the test's thread is the coordinator's. */
    private <T> T settled(CompletableFuture<T> future) {
        scheduler.runDue();
        assertThat(future).as("answered without the clock moving").isDone();
        return future.join();
    }

    private CompletableFuture<JoinResult> join(String memberId) {
        return join(memberId, REBALANCE_MS);
    }

    private CompletableFuture<JoinResult> join(String memberId, int rebalanceTimeoutMs) {
        return coordinator.joinGroup(new JoinRequest("billing", memberId, null, "client", "/127.0.0.1", "consumer",
                Map.of("range", new byte[]{1}), SESSION_MS, rebalanceTimeoutMs, true, true));
    }

    /** The two-step join of v4+: the first answer only hands out a member id. */
    private CompletableFuture<JoinResult> joinAsNewMember() {
        JoinResult first = settled(join(""));
        assertThat(first.error()).isEqualTo(ServiceError.MEMBER_ID_REQUIRED);
        CompletableFuture<JoinResult> second = join(first.memberId());
        scheduler.runDue();
        return second;
    }

    private SyncResult sync(JoinResult joined) {
        Map<String, byte[]> assignments = new java.util.HashMap<>();
        if (joined.leaderId().equals(joined.memberId())) {
            joined.members().forEach(m -> assignments.put(m.memberId(), new byte[]{7}));
        }
        return settled(coordinator.syncGroup(new SyncRequest("billing", joined.memberId(), null, joined.generationId(), "consumer",
                joined.protocolName(), assignments)));
    }

    @Test
    void aGroupFormingFromEmptyWaitsTheInitialDelayForMoreMembersThenAnswersThemAllInOneGeneration() {
        CompletableFuture<JoinResult> first = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS / 2);
        CompletableFuture<JoinResult> second = joinAsNewMember();
        assertThat(first).isNotDone();
        assertThat(second).isNotDone();

        scheduler.advance(INITIAL_DELAY_MS / 2 - 1);
        assertThat(first).as("the delay runs from the first join").isNotDone();
        scheduler.advance(1);

        assertThat(first.join().generationId()).isEqualTo(1).isEqualTo(second.join().generationId());
        assertThat(first.join().members()).as("the leader learns both members").hasSize(2);
        assertThat(sync(first.join()).error()).isEqualTo(ServiceError.NONE);
        assertThat(sync(second.join()).assignment()).containsExactly(7);
    }

    @Test
    void aMemberThatStopsHeartbeatingIsRemovedAtItsSessionTimeoutAndTheOtherRejoinsAlone() {
        CompletableFuture<JoinResult> a = joinAsNewMember();
        CompletableFuture<JoinResult> b = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        sync(a.join());
        sync(b.join());

        // Only a heartbeats; b goes silent. Both sessions started when the join completed.
        for (int i = 0; i < 3; i++) {
            scheduler.advance(SESSION_MS / 4);
            assertThat(settled(coordinator.heartbeat("billing", a.join().memberId(), null, 1))).isEqualTo(ServiceError.NONE);
        }
        scheduler.advance(SESSION_MS / 4 - 1);
        assertThat(settled(coordinator.heartbeat("billing", a.join().memberId(), null, 1))).as("b's session has 1 ms left").isEqualTo(ServiceError.NONE);
        scheduler.advance(1);
        assertThat(settled(coordinator.heartbeat("billing", a.join().memberId(), null, 1)))
                .as("b's session ended: the group is rebalancing").isEqualTo(ServiceError.REBALANCE_IN_PROGRESS);
        assertThat(settled(coordinator.heartbeat("billing", b.join().memberId(), null, 1))).isEqualTo(ServiceError.UNKNOWN_MEMBER_ID);

        CompletableFuture<JoinResult> rejoined = join(a.join().memberId());
        JoinResult alone = settled(rejoined);
        assertThat(alone.generationId()).isEqualTo(2);
        assertThat(alone.members()).extracting(JoinResult.Member::memberId).containsExactly(a.join().memberId());
    }

    /**
     * The newcomer waits in its join far longer than its session timeout: like Kafka, a new member's
     * join is held for up to five minutes, not dropped after one session (it would be told
     * UNKNOWN_MEMBER_ID and start over, again and again, while a slow member holds the rebalance).
     */
    @Test
    void aMemberThatDoesNotRejoinWithinTheRebalanceTimeoutIsDroppedAndTheWaitingNewcomerIsKept() {
        CompletableFuture<JoinResult> a = joinAsNewMember();
        CompletableFuture<JoinResult> b = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        sync(a.join());
        sync(b.join());

        CompletableFuture<JoinResult> newcomer = joinAsNewMember(); // a third member starts a rebalance
        CompletableFuture<JoinResult> aAgain = join(a.join().memberId());
        scheduler.runDue();
        // b keeps heartbeating (told to rejoin) but never does.
        for (int i = 0; i < 9; i++) {
            scheduler.advance(3_000);
            assertThat(settled(coordinator.heartbeat("billing", b.join().memberId(), null, 1))).isEqualTo(ServiceError.REBALANCE_IN_PROGRESS);
        }
        scheduler.advance(REBALANCE_MS - 27_000 - 1);
        assertThat(aAgain).as("the rebalance timeout has 1 ms left").isNotDone();
        assertThat(newcomer).as("past its session timeout, still waiting").isNotDone();
        scheduler.advance(1);

        assertThat(aAgain.join().generationId()).isEqualTo(2);
        assertThat(newcomer.join().generationId()).isEqualTo(2);
        assertThat(aAgain.join().leaderId().equals(aAgain.join().memberId()) ? aAgain.join().members() : newcomer.join().members())
                .extracting(JoinResult.Member::memberId)
                .containsExactlyInAnyOrder(a.join().memberId(), newcomer.join().memberId());
    }

    @Test
    void aNewMemberStillWaitingAfterFiveMinutesIsDroppedAndToldToStartOver() {
        JoinResult first = settled(join(""));
        CompletableFuture<JoinResult> slow = join(first.memberId(), 600_000); // a rebalance timeout of ten minutes
        scheduler.advance(INITIAL_DELAY_MS);
        sync(slow.join());

        CompletableFuture<JoinResult> newcomer = joinAsNewMember();
        long joinedAt = scheduler.millis();
        // The slow member heartbeats (told to rejoin) but does not rejoin: the rebalance may last ten minutes.
        while (scheduler.millis() + 3_000 < joinedAt + GroupCoordinator.NEW_MEMBER_JOIN_TIMEOUT_MS) {
            scheduler.advance(3_000);
            assertThat(settled(coordinator.heartbeat("billing", slow.join().memberId(), null, 1))).isEqualTo(ServiceError.REBALANCE_IN_PROGRESS);
        }
        scheduler.advance(joinedAt + GroupCoordinator.NEW_MEMBER_JOIN_TIMEOUT_MS - 1 - scheduler.millis());
        assertThat(newcomer).isNotDone();
        scheduler.advance(1);

        assertThat(newcomer.join().error()).isEqualTo(ServiceError.UNKNOWN_MEMBER_ID);
    }

    @Test
    void committedOffsetsOfAGroupWithoutMembersExpireAfterTheRetentionAndNotBefore() {
        coordinator.startOffsetExpiry();
        var commit = new GroupCoordinator.OffsetCommit("orders", 1, 42, -1, "");
        Map<GroupCoordinator.OffsetCommit, ServiceError> result = settled(coordinator.commitOffsets("audit", -1, "", null, List.of(commit)));
        assertThat(result).containsEntry(commit, ServiceError.NONE);
        assertThat(settled(coordinator.fetchOffsets("audit"))).hasSize(1);

        scheduler.advance(RETENTION_MS - 1);
        assertThat(settled(coordinator.fetchOffsets("audit"))).as("the retention has not passed").hasSize(1);

        scheduler.advance(RETENTION_CHECK_MS);
        assertThat(settled(coordinator.fetchOffsets("audit"))).isEmpty();
        assertThat(settled(coordinator.committedOffsetCount())).isZero();
    }
}
