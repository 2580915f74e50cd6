package io.spate.server.group;

import io.spate.server.StandaloneCore;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;
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
    private GroupCoordinator.Settings settings;
    private GroupCoordinator coordinator;
    private final List<GroupCoordinator> reloaded = new java.util.ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        node = StandaloneCore.start(dataDir);
        replicas = node.replicas;
        node.topics.create("orders", 2, (short) 1, Map.of());
        settings = new GroupCoordinator.Settings(6_000, 300_000, INITIAL_DELAY_MS, 4_096, 1, (short) 1, RETENTION_MS, RETENTION_CHECK_MS);
        coordinator = new GroupCoordinator(settings, scheduler, scheduler, node.topics, replicas)
                .readSubscriptionsWith(io.spate.server.handlers.ConsumerSubscriptions::topics);
        replicas.addLeadershipListener(coordinator.offsetsLeadership());
        // Created here, not on the first request, so that its shard loads before the test's first step
        // (the node leads it once the metadata holds it; the load is a task on the manual scheduler).
        node.topics.createInternal("__consumer_offsets", 1, (short) 1, Map.of("cleanup.policy", "compact"));
        scheduler.runDue();
    }

    @AfterEach
    void stop() {
        reloaded.forEach(GroupCoordinator::close);
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

    /** Two new members join one generation: {leader, follower}. */
    private JoinResult[] twoMembersJoined() {
        CompletableFuture<JoinResult> a = joinAsNewMember();
        CompletableFuture<JoinResult> b = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult leader = a.join().leaderId().equals(a.join().memberId()) ? a.join() : b.join();
        return new JoinResult[]{leader, leader == a.join() ? b.join() : a.join()};
    }

    /** The follower's SyncGroup, waiting for the leader's assignment. */
    private CompletableFuture<SyncResult> followerSyncs(JoinResult follower) {
        CompletableFuture<SyncResult> sync = coordinator.syncGroup(new SyncRequest("billing", follower.memberId(), null,
                follower.generationId(), "consumer", "range", Map.of()));
        scheduler.runDue();
        assertThat(sync).as("waits for the leader's assignment").isNotDone();
        return sync;
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

    /**
     * An assignment larger than the offsets topic takes (max.message.bytes, 1 MiB by default)
     * cannot be stored: every member waiting in SyncGroup is told the error, as Kafka tells it
     * (UNKNOWN_SERVER_ERROR), and not a bare REBALANCE_IN_PROGRESS that would send them round
     * the same rebalance for ever without a word; the group then rebalances.
     */
    @Test
    void anAssignmentTooLargeToStoreFailsEveryWaitingSyncWithTheErrorAndTheGroupRebalances() {
        JoinResult[] joined = twoMembersJoined();
        JoinResult leader = joined[0];
        JoinResult follower = joined[1];
        CompletableFuture<SyncResult> followerSync = followerSyncs(follower);
        byte[] huge = new byte[2 << 20];
        new java.util.Random(1).nextBytes(huge);
        SyncResult leaderSync = settled(coordinator.syncGroup(new SyncRequest("billing", leader.memberId(), null, leader.generationId(),
                "consumer", "range", Map.of(leader.memberId(), huge, follower.memberId(), new byte[]{7}))));

        assertThat(leaderSync.error()).isEqualTo(ServiceError.UNKNOWN);
        assertThat(settled(followerSync).error()).isEqualTo(ServiceError.UNKNOWN);
        assertThat(settled(coordinator.heartbeat("billing", follower.memberId(), null, follower.generationId())))
                .isEqualTo(ServiceError.REBALANCE_IN_PROGRESS);
        assertThat(settled(coordinator.describeGroup("billing")).members())
                .as("no member keeps an assignment that was never stored").allSatisfy(m -> assertThat(m.assignment()).isEmpty());
    }

    /**
     * A follower waiting in SyncGroup for the leader's assignment is not expired by its session
     * (librdkafka sends no heartbeat then): the rebalance timeout bounds that wait, as in Kafka.
     * Its session runs again from the answer (found by review on 2026-12-08).
     */
    @Test
    void aFollowerWaitingForTheAssignmentLongerThanASessionGetsIt() {
        JoinResult[] joined = twoMembersJoined();
        JoinResult leader = joined[0];
        JoinResult follower = joined[1];
        CompletableFuture<SyncResult> followerSync = followerSyncs(follower);
        for (int i = 0; i < 3; i++) {
            scheduler.advance(SESSION_MS / 2);
            assertThat(settled(coordinator.heartbeat("billing", leader.memberId(), null, leader.generationId()))).isEqualTo(ServiceError.NONE);
        }
        assertThat(followerSync).as("still waiting, past its session").isNotDone();

        assertThat(sync(leader).error()).isEqualTo(ServiceError.NONE);

        assertThat(settled(followerSync).assignment()).containsExactly(7);
        scheduler.advance(SESSION_MS - 1);
        assertThat(settled(coordinator.heartbeat("billing", leader.memberId(), null, leader.generationId()))).isEqualTo(ServiceError.NONE);
        assertThat(settled(coordinator.describeGroup("billing")).members()).hasSize(2);
        scheduler.advance(1);
        assertThat(settled(coordinator.describeGroup("billing")).members()).as("silent a session after its answer")
                .extracting(GroupCoordinator.MemberSummary::memberId).containsExactly(leader.memberId());
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
     * A new coordinator (the offsets partition's next leader) loads a stable group with its
     * members, generation, leader and assignments from the group's last metadata record: its
     * members heartbeat on without rejoining, and one that stays silent is dropped a session
     * after the load (Kafka's GroupMetadataValue and load).
     */
    @Test
    void aNewCoordinatorLoadsAStableGroupsMembersAndDropsOnlyTheSilentOneASessionAfterTheLoad() {
        CompletableFuture<JoinResult> a = joinAsNewMember();
        CompletableFuture<JoinResult> b = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        sync(a.join());
        sync(b.join());
        String leader = a.join().leaderId();

        scheduler.advance(SESSION_MS / 2);
        GroupCoordinator fresh = reload();
        coordinator.close();
        GroupCoordinator.GroupSummary loaded = settled(fresh.describeGroup("billing"));
        assertThat(loaded.state()).isEqualTo("Stable");
        assertThat(loaded.protocolName()).isEqualTo("range");
        assertThat(loaded.members()).extracting(GroupCoordinator.MemberSummary::memberId)
                .containsExactlyInAnyOrder(a.join().memberId(), b.join().memberId());
        assertThat(loaded.members()).allSatisfy(m -> {
            assertThat(m.assignment()).containsExactly(7);
            assertThat(m.metadata()).containsExactly(1);
            assertThat(m.clientId()).isEqualTo("client");
        });
        assertThat(settled(fresh.syncGroup(new SyncRequest("billing", b.join().memberId(), null, 1, "consumer", "range", Map.of()))).assignment())
                .as("a stable group's member gets its stored assignment").containsExactly(7);

        // Only a heartbeats to the new coordinator; b's session runs from the load, not from its last heartbeat to the old one.
        for (int i = 0; i < 3; i++) {
            scheduler.advance(SESSION_MS / 4);
            assertThat(settled(fresh.heartbeat("billing", a.join().memberId(), null, 1))).isEqualTo(ServiceError.NONE);
        }
        scheduler.advance(SESSION_MS / 4 - 1);
        assertThat(settled(fresh.heartbeat("billing", a.join().memberId(), null, 1))).as("b's session has 1 ms left").isEqualTo(ServiceError.NONE);
        scheduler.advance(1);
        assertThat(settled(fresh.heartbeat("billing", a.join().memberId(), null, 1))).isEqualTo(ServiceError.REBALANCE_IN_PROGRESS);

        JoinResult alone = settled(fresh.joinGroup(new JoinRequest("billing", a.join().memberId(), null, "client", "/127.0.0.1", "consumer",
                Map.of("range", new byte[]{1}), SESSION_MS, REBALANCE_MS, true, true)));
        assertThat(alone.generationId()).as("the generation goes on from the stored one").isEqualTo(2);
        assertThat(alone.leaderId()).isEqualTo(a.join().memberId());
        assertThat(alone.members()).extracting(JoinResult.Member::memberId).containsExactly(a.join().memberId());
        assertThat(leader).isIn(a.join().memberId(), b.join().memberId());
    }

    /**
     * Found in review: a new coordinator started the loaded members' sessions at the load, but
     * refused their heartbeats as loading until the high watermark reached what it replayed
     * (a slow follower holds it until it leaves the in-sync set, up to replica.lag.time.max.ms):
     * every member expired meanwhile and the group rebalanced from scratch. Heartbeats are
     * answered NONE while loading, as Kafka answers them, and the sessions start once it serves.
     */
    @Test
    void membersLoadedByANewCoordinatorKeepTheirSessionsWhileItWaitsForTheHighWatermark() {
        CompletableFuture<JoinResult> joining = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult member = joining.join();
        sync(member);
        var offsets = holdHighWatermark();
        coordinator.commitOffsets("audit", -1, "", null, List.of(new GroupCoordinator.OffsetCommit("orders", 0, 5, -1, "")));
        scheduler.runDue(); // written, not committed: the next coordinator replays past the high watermark

        GroupCoordinator fresh = reload();
        coordinator.close();
        for (int i = 0; i < 6; i++) {
            scheduler.advance(SESSION_MS / 4);
            assertThat(settled(fresh.heartbeat("billing", member.memberId(), null, member.generationId())))
                    .as("answered while loading").isEqualTo(ServiceError.NONE);
        }
        releaseHighWatermark(offsets);
        assertThat(settled(fresh.heartbeat("billing", member.memberId(), null, member.generationId()))).isEqualTo(ServiceError.NONE);

        scheduler.advance(SESSION_MS - 1);
        assertThat(settled(fresh.describeGroup("billing")).state()).as("a session from its last heartbeat").isEqualTo("Stable");
        scheduler.advance(1);
        assertThat(settled(fresh.heartbeat("billing", member.memberId(), null, member.generationId()))).isEqualTo(ServiceError.UNKNOWN_MEMBER_ID);
    }

    /** A shard loaded past the high watermark starts its members' sessions once it serves, even if none of them speaks. */
    @Test
    void aSilentMemberLoadedPastTheHighWatermarkExpiresASessionAfterTheShardServes() {
        CompletableFuture<JoinResult> joining = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult member = joining.join();
        sync(member);
        var offsets = holdHighWatermark();
        coordinator.commitOffsets("audit", -1, "", null, List.of(new GroupCoordinator.OffsetCommit("orders", 0, 5, -1, "")));
        scheduler.runDue();

        GroupCoordinator fresh = reload();
        coordinator.close();
        scheduler.advance(2 * SESSION_MS);
        releaseHighWatermark(offsets);
        scheduler.advance(SESSION_MS - 1);
        assertThat(settled(fresh.describeGroup("billing")).members()).hasSize(1);
        scheduler.advance(1);
        assertThat(settled(fresh.describeGroup("billing")).members()).isEmpty();
    }

    @Test
    void aStaticMemberLoadedByANewCoordinatorIsStillFencedByItsInstanceId() {
        CompletableFuture<JoinResult> joining = coordinator.joinGroup(new JoinRequest("billing", "", "instance-1", "client", "/127.0.0.1",
                "consumer", Map.of("range", new byte[]{1}), SESSION_MS, REBALANCE_MS, true, true));
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult joined = joining.join();
        sync(joined);

        GroupCoordinator fresh = reload();
        coordinator.close();
        assertThat(settled(fresh.heartbeat("billing", joined.memberId(), "instance-1", 1))).isEqualTo(ServiceError.NONE);
        assertThat(settled(fresh.heartbeat("billing", "someone-else", "instance-1", 1))).isEqualTo(ServiceError.FENCED_INSTANCE_ID);
        assertThat(settled(fresh.describeGroup("billing")).members()).singleElement()
                .satisfies(m -> assertThat(m.groupInstanceId()).isEqualTo("instance-1"));
    }

    private CompletableFuture<JoinResult> joinStatic(String memberId, String instanceId) {
        return coordinator.joinGroup(new JoinRequest("billing", memberId, instanceId, "client", "/127.0.0.1", "consumer",
                Map.of("range", new byte[]{1}), SESSION_MS, REBALANCE_MS, true, true));
    }

    /**
     * A restarted copy of a static member takes over its instance id under a new member id. The
     * old incarnation is told it is fenced wherever it shows up, as Kafka tells it: told
     * UNKNOWN_MEMBER_ID, the client would join again with the instance id and take the slot
     * back, and the two would replace each other for ever.
     */
    @Test
    void aStaticMemberReplacedByARestartedCopyIsFencedOnHeartbeatSyncCommitAndJoin() {
        CompletableFuture<JoinResult> first = joinStatic("", "instance-1");
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult old = first.join();
        sync(old);

        JoinResult copy = settled(joinStatic("", "instance-1"));
        assertThat(copy.error()).isEqualTo(ServiceError.NONE);
        assertThat(copy.memberId()).isNotEqualTo(old.memberId());

        assertThat(settled(coordinator.heartbeat("billing", old.memberId(), "instance-1", old.generationId())))
                .isEqualTo(ServiceError.FENCED_INSTANCE_ID);
        assertThat(settled(coordinator.syncGroup(new SyncRequest("billing", old.memberId(), "instance-1", old.generationId(), "consumer",
                "range", Map.of()))).error()).isEqualTo(ServiceError.FENCED_INSTANCE_ID);
        var commit = new GroupCoordinator.OffsetCommit("orders", 0, 5, -1, "");
        assertThat(settled(coordinator.commitOffsets("billing", old.generationId(), old.memberId(), "instance-1", List.of(commit))))
                .containsEntry(commit, ServiceError.FENCED_INSTANCE_ID);
        assertThat(settled(joinStatic(old.memberId(), "instance-1")).error()).isEqualTo(ServiceError.FENCED_INSTANCE_ID);
        assertThat(settled(coordinator.heartbeat("billing", copy.memberId(), "instance-2", copy.generationId())))
                .as("an instance id the group does not know").isEqualTo(ServiceError.UNKNOWN_MEMBER_ID);

        assertThat(settled(coordinator.heartbeat("billing", copy.memberId(), "instance-1", copy.generationId()))).isEqualTo(ServiceError.NONE);
        assertThat(settled(coordinator.describeGroup("billing")).members()).singleElement()
                .satisfies(m -> assertThat(m.memberId()).isEqualTo(copy.memberId()));
    }

    /**
     * Found in review: a static member's restarted copy got its new member id without a rebalance,
     * in memory only. The next coordinator loaded the old id from the log, fenced the running copy
     * (FENCED_INSTANCE_ID stops a Java consumer for good) and took the dead incarnation's
     * heartbeats. The id is stored before the copy is answered, as Kafka does.
     */
    @Test
    void aStaticMembersNewMemberIdIsStoredBeforeItIsAnsweredSoANewCoordinatorKnowsIt() {
        CompletableFuture<JoinResult> first = joinStatic("", "instance-1");
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult old = first.join();
        sync(old);
        JoinResult copy = settled(joinStatic("", "instance-1"));
        assertThat(copy.error()).isEqualTo(ServiceError.NONE);
        assertThat(copy.generationId()).as("no rebalance").isEqualTo(old.generationId());

        GroupCoordinator fresh = reload();
        coordinator.close();
        assertThat(settled(fresh.heartbeat("billing", copy.memberId(), "instance-1", copy.generationId()))).isEqualTo(ServiceError.NONE);
        assertThat(settled(fresh.heartbeat("billing", old.memberId(), "instance-1", old.generationId())))
                .isEqualTo(ServiceError.FENCED_INSTANCE_ID);
        assertThat(settled(fresh.syncGroup(new SyncRequest("billing", copy.memberId(), "instance-1", copy.generationId(), "consumer",
                "range", Map.of()))).assignment()).as("the copy keeps the instance's assignment").containsExactly(7);
    }

    /**
     * The write of a restarted copy's new member id fails (here its subscription is larger than
     * the offsets topic takes): the group goes back to the id the log holds, so the running
     * incarnation is not fenced and a coordinator that loads the group agrees with this one.
     */
    @Test
    void aStaticMembersNewMemberIdThatCannotBeStoredIsUndone() {
        JoinResult old = aStaticLeaderAlone(true);
        byte[] huge = new byte[2 << 20];
        new java.util.Random(2).nextBytes(huge);

        JoinResult copy = settled(joinStatic("instance-1", protocols("range", huge), true));

        assertThat(copy.error()).isNotEqualTo(ServiceError.NONE);
        assertThat(settled(coordinator.heartbeat("billing", old.memberId(), "instance-1", old.generationId())))
                .as("the running incarnation keeps its member id").isEqualTo(ServiceError.NONE);
        var described = settled(coordinator.describeGroup("billing"));
        assertThat(described.state()).isEqualTo("Stable");
        assertThat(described.members()).singleElement().satisfies(m -> {
            assertThat(m.memberId()).isEqualTo(old.memberId());
            assertThat(m.metadata()).as("and its subscription").containsExactly(1);
        });
        scheduler.advance(SESSION_MS - 1);
        assertThat(settled(coordinator.heartbeat("billing", old.memberId(), "instance-1", old.generationId())))
                .as("its session timer still runs for it").isEqualTo(ServiceError.NONE);

        GroupCoordinator fresh = reload();
        coordinator.close();
        assertThat(settled(fresh.heartbeat("billing", old.memberId(), "instance-1", old.generationId()))).isEqualTo(ServiceError.NONE);
        JoinResult leader = settled(fresh.joinGroup(new JoinRequest("billing", old.memberId(), "instance-1", "client", "/127.0.0.1",
                "consumer", protocols("range", new byte[]{1}), SESSION_MS, REBALANCE_MS, true, true)));
        assertThat(leader.error()).isEqualTo(ServiceError.NONE);
        assertThat(leader.leaderId()).as("still the group's leader").isEqualTo(old.memberId());
    }

    /** The copy is answered only once its member id is stored: until then the old incarnation is fenced and the copy waits. */
    @Test
    void aStaticMembersCopyIsAnsweredOnlyOnceItsMemberIdIsCommitted() {
        CompletableFuture<JoinResult> first = joinStatic("", "instance-1");
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult old = first.join();
        sync(old);
        var offsets = holdHighWatermark();

        CompletableFuture<JoinResult> copy = joinStatic("", "instance-1");
        scheduler.runDue();
        assertThat(copy).as("waits for the in-sync replicas").isNotDone();
        assertThat(settled(coordinator.heartbeat("billing", old.memberId(), "instance-1", old.generationId())))
                .isEqualTo(ServiceError.FENCED_INSTANCE_ID);

        releaseHighWatermark(offsets);
        assertThat(copy.join().error()).isEqualTo(ServiceError.NONE);
        scheduler.advance(SESSION_MS - 1);
        assertThat(settled(coordinator.heartbeat("billing", copy.join().memberId(), "instance-1", copy.join().generationId())))
                .as("its session runs from its join").isEqualTo(ServiceError.NONE);
    }

    private CompletableFuture<JoinResult> joinStatic(String instanceId, Map<String, byte[]> protocols, boolean mayskipAssignment) {
        return coordinator.joinGroup(new JoinRequest("billing", "", instanceId, "client", "/127.0.0.1", "consumer", protocols, SESSION_MS,
                REBALANCE_MS, true, mayskipAssignment));
    }

    /** Instance "instance-1" joined alone (range), leads, and synced its assignment; {@code maySkipAssignment}: JoinGroup v9+. */
    private JoinResult aStaticLeaderAlone(boolean maySkipAssignment) {
        CompletableFuture<JoinResult> first = joinStatic("instance-1", protocols("range", new byte[]{1}), maySkipAssignment);
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult leader = first.join();
        assertThat(leader.leaderId()).isEqualTo(leader.memberId());
        sync(leader);
        return leader;
    }

    private static Map<String, byte[]> protocols(Object... nameThenMetadata) {
        Map<String, byte[]> protocols = new java.util.LinkedHashMap<>();
        for (int i = 0; i < nameThenMetadata.length; i += 2) {
            protocols.put((String) nameThenMetadata[i], (byte[]) nameThenMetadata[i + 1]);
        }
        return protocols;
    }

    /**
     * Found in review: a restarted static member rebalanced its group unless its subscription was
     * byte for byte the same, but the Java consumer's carries its generation and owned partitions.
     * As in Kafka, only a change of the protocol the group would select makes it rebalance.
     */
    @Test
    void aRestartedStaticMemberWhoseSubscriptionBytesChangedDoesNotRebalanceUnlessTheSelectedProtocolChanges() {
        CompletableFuture<JoinResult> a = joinStatic("instance-1", protocols("range", new byte[]{1}, "roundrobin", new byte[]{1}), true);
        CompletableFuture<JoinResult> b = joinStatic("instance-2", protocols("range", new byte[]{1}, "roundrobin", new byte[]{1}), true);
        scheduler.advance(INITIAL_DELAY_MS);
        sync(a.join());
        sync(b.join());
        JoinResult follower = a.join().leaderId().equals(a.join().memberId()) ? b.join() : a.join();
        String instance = follower == a.join() ? "instance-1" : "instance-2";

        JoinResult copy = settled(joinStatic(instance, protocols("range", new byte[]{2}, "roundrobin", new byte[]{2}), true));
        assertThat(copy.error()).isEqualTo(ServiceError.NONE);
        assertThat(copy.generationId()).as("no rebalance").isEqualTo(follower.generationId());
        assertThat(settled(coordinator.describeGroup("billing")).state()).isEqualTo("Stable");

        CompletableFuture<JoinResult> again = joinStatic(instance, protocols("roundrobin", new byte[]{2}), true);
        scheduler.runDue();
        assertThat(settled(coordinator.describeGroup("billing")).state()).as("roundrobin is the only protocol in common now")
                .isEqualTo("PreparingRebalance");
        assertThat(again).isNotDone();
    }

    /** Before JoinGroup v9 a restarted static leader is told the leader's id as it was: it syncs as a follower, and nobody rebalances. */
    @Test
    void aRestartedStaticLeaderBelowJoinGroupV9SyncsAsAFollowerWithoutARebalance() {
        JoinResult old = aStaticLeaderAlone(false);

        JoinResult copy = settled(joinStatic("instance-1", protocols("range", new byte[]{2}), false));
        assertThat(copy.error()).isEqualTo(ServiceError.NONE);
        assertThat(copy.generationId()).isEqualTo(old.generationId());
        assertThat(copy.leaderId()).as("the old leader id: not this member").isEqualTo(old.memberId()).isNotEqualTo(copy.memberId());
        assertThat(copy.skipAssignment()).isFalse();
        assertThat(copy.members()).isEmpty();
        assertThat(sync(copy).assignment()).as("its stored share").containsExactly(7);
    }

    /** A member loaded after a failover keeps only the selected protocol; its restart with all its protocols changes nothing. */
    @Test
    void aStaticMemberLoadedAfterAFailoverRestartsWithAllItsProtocolsWithoutARebalance() {
        CompletableFuture<JoinResult> first = joinStatic("instance-1", protocols("range", new byte[]{1}, "roundrobin", new byte[]{1}), true);
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult old = first.join();
        sync(old);
        GroupCoordinator fresh = reload();
        coordinator.close();

        JoinResult copy = settled(fresh.joinGroup(new JoinRequest("billing", "", "instance-1", "client", "/127.0.0.1", "consumer",
                protocols("range", new byte[]{1}, "roundrobin", new byte[]{1}), SESSION_MS, REBALANCE_MS, true, true)));
        assertThat(copy.error()).isEqualTo(ServiceError.NONE);
        assertThat(copy.generationId()).isEqualTo(old.generationId());
        assertThat(copy.skipAssignment()).as("the leader keeps the assignment").isTrue();
        assertThat(settled(fresh.describeGroup("billing")).state()).isEqualTo("Stable");
    }

    @Test
    void aGroupWhoseMembersAllLeftLoadsEmptyAtItsLastGeneration() {
        CompletableFuture<JoinResult> a = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        sync(a.join());
        assertThat(settled(coordinator.leaveGroup("billing", a.join().memberId(), null))).isEqualTo(ServiceError.NONE);
        scheduler.runDue();

        GroupCoordinator fresh = reload();
        coordinator.close();
        GroupCoordinator.GroupSummary loaded = settled(fresh.describeGroup("billing"));
        assertThat(loaded.state()).isEqualTo("Empty");
        assertThat(loaded.members()).isEmpty();
        assertThat(settled(fresh.heartbeat("billing", a.join().memberId(), null, 1))).isEqualTo(ServiceError.UNKNOWN_MEMBER_ID);
        CompletableFuture<JoinResult> again = fresh.joinGroup(new JoinRequest("billing", "", null, "client", "/127.0.0.1", "consumer",
                Map.of("range", new byte[]{1}), SESSION_MS, REBALANCE_MS, false, true));
        scheduler.advance(INITIAL_DELAY_MS);
        assertThat(again.join().generationId()).as("generation 1 formed, generation 2 emptied it").isEqualTo(3);
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

    /**
     * A client handed a member id (MEMBER_ID_REQUIRED) that never joins with it is forgotten a
     * session timeout later, as in Kafka; the rebalance it would otherwise hold open until the
     * rebalance timeout then completes with the members that rejoined.
     */
    @Test
    void aMemberIdHandedOutAndNeverUsedIsDroppedAfterItsSessionTimeoutAndNoLongerHoldsTheRebalance() {
        CompletableFuture<JoinResult> a = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        sync(a.join());

        assertThat(settled(join("")).error()).isEqualTo(ServiceError.MEMBER_ID_REQUIRED); // and never comes back
        CompletableFuture<JoinResult> aAgain = join(a.join().memberId()); // the leader rejoining starts a rebalance
        scheduler.runDue();
        scheduler.advance(SESSION_MS - 1);
        assertThat(aAgain).as("the pending member's session has 1 ms left").isNotDone();
        scheduler.advance(1);

        assertThat(aAgain).as("long before the rebalance timeout").isDone();
        assertThat(aAgain.join().generationId()).isEqualTo(2);
        assertThat(aAgain.join().members()).extracting(JoinResult.Member::memberId).containsExactly(a.join().memberId());
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

    /**
     * Found in review (KIP-211): an empty group's offsets expired a retention after their last
     * commit. Consumers skip committing a partition whose position did not move, so an idle
     * partition's commit may be older than the retention while the group runs; when its consumers
     * restarted (the group empty a moment), the next check tombstoned it and auto.offset.reset
     * skipped or replayed the partition. The retention counts from when the group became empty,
     * and a new coordinator loads that time with the group.
     */
    @Test
    void anEmptyGroupsOffsetsExpireARetentionAfterItBecameEmptyNotAfterTheirLastCommit() {
        coordinator.startOffsetExpiry();
        CompletableFuture<JoinResult> joining = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult member = joining.join();
        sync(member);
        var commit = new GroupCoordinator.OffsetCommit("orders", 0, 42, -1, "");
        assertThat(settled(coordinator.commitOffsets("billing", member.generationId(), member.memberId(), null, List.of(commit))))
                .containsEntry(commit, ServiceError.NONE);
        long committedAt = scheduler.millis();
        while (scheduler.millis() < committedAt + RETENTION_MS + RETENTION_CHECK_MS) {
            scheduler.advance(SESSION_MS / 2);
            assertThat(settled(coordinator.heartbeat("billing", member.memberId(), null, member.generationId()))).isEqualTo(ServiceError.NONE);
        }
        assertThat(settled(coordinator.fetchOffsets("billing"))).as("a group with members keeps its offsets").hasSize(1);

        assertThat(settled(coordinator.leaveGroup("billing", member.memberId(), null))).isEqualTo(ServiceError.NONE);
        long emptySince = scheduler.millis();
        scheduler.advance(RETENTION_CHECK_MS);
        assertThat(settled(coordinator.fetchOffsets("billing"))).as("empty for one check interval only").hasSize(1);

        scheduler.advance(RETENTION_MS / 2);
        GroupCoordinator fresh = reload();
        coordinator.close();
        fresh.startOffsetExpiry();
        scheduler.advance(emptySince + RETENTION_MS - 1 - scheduler.millis());
        assertThat(settled(fresh.fetchOffsets("billing"))).as("the retention has not passed since the group emptied").hasSize(1);
        scheduler.advance(RETENTION_CHECK_MS);
        assertThat(settled(fresh.fetchOffsets("billing"))).as("counted from when it emptied, not from the load").isEmpty();
    }

    /**
     * Static member instance-1 of consumer group billing, subscribed to orders only (its
     * subscription in the consumer protocol's encoding), stable, with offsets committed for
     * orders-0 (5) and payments-0 (9).
     */
    private JoinResult stableOrdersConsumerWithOffsetsOfOrdersAndPayments() throws Exception {
        java.nio.ByteBuffer subscription = org.apache.kafka.clients.consumer.internals.ConsumerProtocol.serializeSubscription(
                new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription(List.of("orders")));
        byte[] metadata = new byte[subscription.remaining()];
        subscription.get(metadata);
        CompletableFuture<JoinResult> joining = coordinator.joinGroup(new JoinRequest("billing", "", "instance-1", "client", "/127.0.0.1",
                "consumer", Map.of("range", metadata), SESSION_MS, REBALANCE_MS, true, true));
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult member = joining.join();
        sync(member);
        var orders = new GroupCoordinator.OffsetCommit("orders", 0, 5, -1, "");
        var payments = new GroupCoordinator.OffsetCommit("payments", 0, 9, -1, "");
        assertThat(settled(coordinator.commitOffsets("billing", member.generationId(), member.memberId(), "instance-1", List.of(orders, payments))))
                .containsValues(ServiceError.NONE, ServiceError.NONE);
        return member;
    }

    /**
     * Found in review: OffsetDelete refused any group with members. As in Kafka, a consumer group's
     * offsets of topics its members do not subscribe to are deleted, and each partition of a
     * subscribed topic is answered GROUP_SUBSCRIBED_TO_TOPIC; a group whose subscriptions cannot be
     * read keeps them all.
     */
    @Test
    void offsetDeleteOnAGroupWithMembersDeletesOnlyTheOffsetsOfTopicsNobodySubscribesTo() throws Exception {
        node.topics.create("payments", 1, (short) 1, Map.of());
        JoinResult member = stableOrdersConsumerWithOffsetsOfOrdersAndPayments();
        var payments = new GroupCoordinator.OffsetCommit("payments", 0, 9, -1, "");
        var orders0 = new GroupCoordinator.TopicPartitionKey("orders", 0);
        var payments0 = new GroupCoordinator.TopicPartitionKey("payments", 0);

        assertThat(settled(coordinator.deleteOffsets("billing", List.of(orders0, payments0))))
                .containsEntry(orders0, ServiceError.GROUP_SUBSCRIBED_TO_TOPIC).containsEntry(payments0, ServiceError.NONE);
        assertThat(settled(coordinator.fetchOffsets("billing"))).containsOnlyKeys(orders0);

        CompletableFuture<JoinResult> opaque = coordinator.joinGroup(new JoinRequest("audit", "", null, "client", "/127.0.0.1", "consumer",
                Map.of("range", new byte[]{1}), SESSION_MS, REBALANCE_MS, false, true));
        scheduler.advance(INITIAL_DELAY_MS);
        settled(coordinator.syncGroup(new SyncRequest("audit", opaque.join().memberId(), null, opaque.join().generationId(), "consumer", "range",
                Map.of(opaque.join().memberId(), new byte[0]))));
        assertThat(settled(coordinator.commitOffsets("audit", opaque.join().generationId(), opaque.join().memberId(), null, List.of(payments))))
                .containsEntry(payments, ServiceError.NONE);
        assertThat(settled(coordinator.deleteOffsets("audit", List.of(payments0)))).as("a subscription that does not read")
                .containsEntry(payments0, ServiceError.GROUP_SUBSCRIBED_TO_TOPIC);
        assertThat(settled(coordinator.fetchOffsets("audit"))).containsOnlyKeys(payments0);
    }

    /** As in Kafka: a stable consumer group's offsets of a topic none of its members subscribes to expire by commit time. */
    @Test
    void aStableConsumerGroupsOffsetsOfATopicItNoLongerSubscribesToExpireByCommitTime() throws Exception {
        coordinator.startOffsetExpiry();
        node.topics.create("payments", 1, (short) 1, Map.of());
        JoinResult member = stableOrdersConsumerWithOffsetsOfOrdersAndPayments();
        var payments = new GroupCoordinator.OffsetCommit("payments", 0, 9, -1, "");

        long committedAt = scheduler.millis();
        while (scheduler.millis() < committedAt + RETENTION_MS + RETENTION_CHECK_MS) {
            scheduler.advance(SESSION_MS / 2);
            assertThat(settled(coordinator.heartbeat("billing", member.memberId(), "instance-1", member.generationId()))).isEqualTo(ServiceError.NONE);
        }
        assertThat(settled(coordinator.fetchOffsets("billing"))).containsOnlyKeys(new GroupCoordinator.TopicPartitionKey("orders", 0));
    }

    private List<String> listedGroups(GroupCoordinator on) {
        return settled(on.listGroups()).stream().map(GroupCoordinator.GroupSummary::groupId).toList();
    }

    /**
     * Like Kafka's offset cleanup, the periodic expiry removes an empty group once it has no
     * committed offsets (at once when it never had any), with a tombstone so that a new
     * coordinator does not load it back; and a refused join leaves no group behind.
     */
    @Test
    void anEmptyGroupIsRemovedOnceItHasNoOffsetsAndARefusedJoinCreatesNoGroup() {
        coordinator.startOffsetExpiry();
        settled(coordinator.commitOffsets("audit", -1, "", null, List.of(new GroupCoordinator.OffsetCommit("orders", 1, 42, -1, ""))));
        CompletableFuture<JoinResult> a = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        sync(a.join());
        assertThat(settled(coordinator.leaveGroup("billing", a.join().memberId(), null))).isEqualTo(ServiceError.NONE);
        assertThat(settled(coordinator.joinGroup(new JoinRequest("ghost", "", null, "client", "/127.0.0.1", "consumer", Map.of(),
                SESSION_MS, REBALANCE_MS, true, true))).error()).isEqualTo(ServiceError.INCONSISTENT_GROUP_PROTOCOL);
        assertThat(listedGroups(coordinator)).containsExactly("audit", "billing");

        scheduler.advance(RETENTION_CHECK_MS);
        assertThat(listedGroups(coordinator)).as("billing never committed an offset").containsExactly("audit");
        scheduler.advance(RETENTION_MS);
        assertThat(listedGroups(coordinator)).as("audit's offsets expired").isEmpty();

        GroupCoordinator fresh = reload();
        coordinator.close();
        assertThat(listedGroups(fresh)).isEmpty();
    }

    // ---------------------------------------------------------------- transactional offsets (KIP-98, KIP-447)

    private static final long PRODUCER = 7;
    private static final short EPOCH = 0;
    private static final int TXN_COORDINATOR_EPOCH = 1;

    private Map<GroupCoordinator.OffsetCommit, ServiceError> txnCommit(long producerId, String group, GroupCoordinator.OffsetCommit commit) {
        return settled(coordinator.txnCommitOffsets("payments-tx", group, producerId, EPOCH, -1, "", null, List.of(commit)));
    }

    private void endTransaction(GroupCoordinator on, long producerId, boolean commit) {
        settled(on.completeTransaction(on.partitionFor("audit"), producerId, EPOCH, TXN_COORDINATOR_EPOCH, commit));
    }

    private Long committed(GroupCoordinator on, GroupCoordinator.TopicPartitionKey partition) {
        CommittedOffset offset = settled(on.fetchOffsets("audit")).get(partition);
        return offset == null ? null : offset.offset();
    }

    /** A second coordinator that loads the offsets partition from its log, as a new leader would. */
    private GroupCoordinator reload() {
        GroupCoordinator fresh = new GroupCoordinator(settings, scheduler, scheduler, node.topics, replicas)
                .readSubscriptionsWith(io.spate.server.handlers.ConsumerSubscriptions::topics);
        reloaded.add(fresh);
        var partition = replicas.partition(GroupCoordinator.OFFSETS_TOPIC, 0);
        fresh.offsetsLeadership().onBecameLeader(partition, partition.leaderEpoch());
        scheduler.runDue();
        return fresh;
    }

    @Test
    void offsetsCommittedInATransactionAreUnstableUntilItsCommitMarkerAndThenCount() {
        var orders1 = new GroupCoordinator.TopicPartitionKey("orders", 1);
        var commit = new GroupCoordinator.OffsetCommit("orders", 1, 42, 3, "from the transaction");
        assertThat(txnCommit(PRODUCER, "audit", commit)).containsEntry(commit, ServiceError.NONE);

        assertThat(settled(coordinator.fetchOffsets("audit"))).as("not committed yet").isEmpty();
        GroupCoordinator.FetchedOffsets stable = settled(coordinator.fetchOffsets("audit", true));
        assertThat(stable.error(orders1)).isEqualTo(ServiceError.UNSTABLE_OFFSET_COMMIT);
        assertThat(settled(coordinator.fetchOffsets("audit", false)).unstable()).as("only when asked for").isEmpty();

        endTransaction(coordinator, PRODUCER, true);
        assertThat(settled(coordinator.fetchOffsets("audit"))).containsEntry(orders1, new CommittedOffset(42, 3, "from the transaction",
                settled(coordinator.fetchOffsets("audit")).get(orders1).commitTimestamp()));
        assertThat(settled(coordinator.fetchOffsets("audit", true)).error(orders1)).isEqualTo(ServiceError.NONE);
    }

    /**
     * Makes the offsets partition wait for a second in-sync replica that never fetches (the node
     * alone commits at once): what the coordinator writes stays past the high watermark, unreplayed,
     * until {@link #releaseHighWatermark}. The same leader epoch, so the shard is not reloaded.
     */
    private io.spate.replication.Partition holdHighWatermark() {
        var offsets = replicas.partition(GroupCoordinator.OFFSETS_TOPIC, 0);
        List<Integer> withAbsentFollower = List.of(StandaloneCore.NODE_ID, StandaloneCore.NODE_ID + 1);
        offsets.becomeLeader(offsets.leaderEpoch(), offsets.partitionEpoch(), withAbsentFollower, withAbsentFollower, scheduler.millis());
        return offsets;
    }

    private void releaseHighWatermark(io.spate.replication.Partition offsets) {
        List<Integer> alone = List.of(StandaloneCore.NODE_ID);
        offsets.becomeLeader(offsets.leaderEpoch(), offsets.partitionEpoch(), alone, alone, scheduler.millis());
        scheduler.runDue();
    }

    /**
     * Found in review: a transactional offset commit counted as pending only once replayed, after
     * the high watermark passed it. Meanwhile a read_committed consumer newly assigned the partition
     * was handed the old offset as stable, and reprocessed what the transaction went on to commit.
     */
    @Test
    void aTransactionalCommitStillBeingWrittenMakesItsPartitionUnstable() {
        var orders1 = new GroupCoordinator.TopicPartitionKey("orders", 1);
        settled(coordinator.commitOffsets("audit", -1, "", null, List.of(new GroupCoordinator.OffsetCommit("orders", 1, 10, -1, ""))));
        var offsets = holdHighWatermark();

        CompletableFuture<Map<GroupCoordinator.OffsetCommit, ServiceError>> writing = coordinator.txnCommitOffsets("payments-tx", "audit",
                PRODUCER, EPOCH, -1, "", null, List.of(new GroupCoordinator.OffsetCommit("orders", 1, 42, -1, "")));
        scheduler.runDue();
        assertThat(writing).as("waits for the in-sync replicas").isNotDone();

        GroupCoordinator.FetchedOffsets stable = settled(coordinator.fetchOffsets("audit", true));
        assertThat(stable.error(orders1)).isEqualTo(ServiceError.UNSTABLE_OFFSET_COMMIT);
        assertThat(stable.committed().get(orders1).offset()).isEqualTo(10);
        assertThat(settled(coordinator.fetchOffsets("audit", false)).unstable()).as("only when asked for").isEmpty();

        releaseHighWatermark(offsets);
        assertThat(writing.join()).containsValue(ServiceError.NONE);
        assertThat(settled(coordinator.fetchOffsets("audit", true)).unstable()).as("pending on its transaction now").containsExactly(orders1);
        endTransaction(coordinator, PRODUCER, false);
        assertThat(settled(coordinator.fetchOffsets("audit", true)).unstable()).isEmpty();
        assertThat(committed(coordinator, orders1)).isEqualTo(10);
    }

    @Test
    void anAbortedTransactionsOffsetsNeverCount() {
        var orders1 = new GroupCoordinator.TopicPartitionKey("orders", 1);
        settled(coordinator.commitOffsets("audit", -1, "", null, List.of(new GroupCoordinator.OffsetCommit("orders", 1, 10, -1, ""))));
        txnCommit(PRODUCER, "audit", new GroupCoordinator.OffsetCommit("orders", 1, 42, -1, ""));

        endTransaction(coordinator, PRODUCER, false);
        assertThat(committed(coordinator, orders1)).isEqualTo(10);
        assertThat(settled(coordinator.fetchOffsets("audit", true)).unstable()).isEmpty();
    }

    @Test
    void aReloadCountsWhatCommittedTransactionsWroteAndKeepsAnOpenTransactionsOffsetsPending() {
        var orders0 = new GroupCoordinator.TopicPartitionKey("orders", 0);
        var orders1 = new GroupCoordinator.TopicPartitionKey("orders", 1);
        txnCommit(PRODUCER, "audit", new GroupCoordinator.OffsetCommit("orders", 0, 5, -1, ""));
        txnCommit(PRODUCER + 1, "audit", new GroupCoordinator.OffsetCommit("orders", 1, 42, -1, ""));
        endTransaction(coordinator, PRODUCER, true);

        GroupCoordinator fresh = reload();
        assertThat(committed(fresh, orders0)).isEqualTo(5);
        assertThat(committed(fresh, orders1)).as("its transaction is still open").isNull();
        assertThat(settled(fresh.fetchOffsets("audit", true)).unstable()).containsExactly(orders1);

        endTransaction(fresh, PRODUCER + 1, true);
        assertThat(committed(fresh, orders1)).isEqualTo(42);
    }

    @Test
    void aTransactionalCommitThatNamesAMemberIsCheckedAgainstTheGroup() {
        CompletableFuture<JoinResult> joining = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult member = joining.join();
        sync(member);
        CompletableFuture<JoinResult> staticJoin = coordinator.joinGroup(new JoinRequest("static-billing", "", "instance-1", "client",
                "/127.0.0.1", "consumer", Map.of("range", new byte[]{1}), SESSION_MS, REBALANCE_MS, true, true));
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult staticMember = staticJoin.join();
        var commit = new GroupCoordinator.OffsetCommit("orders", 0, 5, -1, "");
        var offsetsLog = replicas.partition(GroupCoordinator.OFFSETS_TOPIC, 0).log();
        long endBefore = offsetsLog.logEndOffset();

        assertThat(settled(coordinator.txnCommitOffsets("payments-tx", "billing", PRODUCER, EPOCH, member.generationId() - 1,
                member.memberId(), null, List.of(commit)))).as("a zombie of an earlier generation").containsEntry(commit, ServiceError.ILLEGAL_GENERATION);
        assertThat(settled(coordinator.txnCommitOffsets("payments-tx", "billing", PRODUCER, EPOCH, member.generationId(),
                "gone-member", null, List.of(commit)))).containsEntry(commit, ServiceError.UNKNOWN_MEMBER_ID);
        assertThat(settled(coordinator.txnCommitOffsets("payments-tx", "static-billing", PRODUCER, EPOCH, staticMember.generationId(),
                "an-older-incarnation", "instance-1", List.of(commit)))).containsEntry(commit, ServiceError.FENCED_INSTANCE_ID);
        assertThat(settled(coordinator.txnCommitOffsets("payments-tx", "static-billing", PRODUCER, EPOCH, staticMember.generationId(),
                staticMember.memberId(), "instance-2", List.of(commit)))).containsEntry(commit, ServiceError.UNKNOWN_MEMBER_ID);
        assertThat(settled(coordinator.txnCommitOffsets("payments-tx", "no-such-group", PRODUCER, EPOCH, 4, "m-1", null, List.of(commit))))
                .as("a generation of a group this coordinator does not have").containsEntry(commit, ServiceError.ILLEGAL_GENERATION);
        assertThat(settled(coordinator.txnCommitOffsets("payments-tx", "", PRODUCER, EPOCH, -1, "", null, List.of(commit))))
                .containsEntry(commit, ServiceError.INVALID_GROUP_ID);
        assertThat(offsetsLog.logEndOffset()).as("nothing refused is written").isEqualTo(endBefore);
    }

    @Test
    void aTransactionalCommitFromTheMembersGenerationOrNamingNoMemberIsTaken() {
        CompletableFuture<JoinResult> joining = joinAsNewMember();
        scheduler.advance(INITIAL_DELAY_MS);
        JoinResult member = joining.join();
        sync(member);
        var commit = new GroupCoordinator.OffsetCommit("orders", 0, 5, -1, "");

        assertThat(settled(coordinator.txnCommitOffsets("payments-tx", "billing", PRODUCER, EPOCH, member.generationId(),
                member.memberId(), null, List.of(commit)))).containsEntry(commit, ServiceError.NONE);
        assertThat(settled(coordinator.txnCommitOffsets("payments-tx", "billing", PRODUCER, EPOCH, -1, "", null, List.of(commit))))
                .as("versions before 3 name no member").containsEntry(commit, ServiceError.NONE);
    }

    @Test
    void expiryLeavesAnOffsetAnOpenTransactionHoldsAlone() {
        var orders1 = new GroupCoordinator.TopicPartitionKey("orders", 1);
        coordinator.startOffsetExpiry();
        settled(coordinator.commitOffsets("audit", -1, "", null, List.of(new GroupCoordinator.OffsetCommit("orders", 1, 10, -1, ""))));
        txnCommit(PRODUCER, "audit", new GroupCoordinator.OffsetCommit("orders", 1, 42, -1, ""));

        scheduler.advance(RETENTION_MS + RETENTION_CHECK_MS);
        assertThat(committed(coordinator, orders1)).as("its tombstone would void the transaction's offset").isEqualTo(10);

        endTransaction(coordinator, PRODUCER, false);
        scheduler.advance(RETENTION_CHECK_MS);
        assertThat(committed(coordinator, orders1)).isNull();
    }

    /**
     * A delete while a commit of the group is still being written waits for it (a retriable
     * answer): done at once, the commit got no tombstone, stayed in the log, and a reload after
     * compaction brought the group back with it (found by review on 2026-12-08).
     */
    @Test
    void aDeleteWaitsForTheGroupsCommitStillBeingWritten() {
        settled(coordinator.commitOffsets("audit", -1, "", null, List.of(new GroupCoordinator.OffsetCommit("orders", 0, 5, -1, ""))));
        var offsets = holdHighWatermark();
        CompletableFuture<?> commit = coordinator.commitOffsets("audit", -1, "", null,
                List.of(new GroupCoordinator.OffsetCommit("orders", 1, 10, -1, "")));
        scheduler.runDue();
        assertThat(commit).as("written, not committed").isNotDone();

        assertThat(settled(coordinator.deleteGroup("audit"))).isEqualTo(ServiceError.COORDINATOR_LOAD_IN_PROGRESS);

        releaseHighWatermark(offsets);
        assertThat(commit).isDone();
        assertThat(settled(coordinator.deleteGroup("audit"))).isEqualTo(ServiceError.NONE);
        GroupCoordinator fresh = reload();
        scheduler.runDue();
        assertThat(settled(fresh.fetchOffsets("audit"))).as("every key of the group has its tombstone").isEmpty();
    }

    @Test
    void deletingAGroupVoidsWhatItsOpenTransactionsCommitted() {
        txnCommit(PRODUCER, "audit", new GroupCoordinator.OffsetCommit("orders", 1, 42, -1, ""));
        assertThat(settled(coordinator.deleteGroup("audit"))).isEqualTo(ServiceError.NONE);

        endTransaction(coordinator, PRODUCER, true);
        assertThat(settled(coordinator.fetchOffsets("audit"))).as("the group does not come back with offsets").isEmpty();
    }

    @Test
    void aFencedProducersCommitAndAStaleTransactionCoordinatorsMarkerAreRefusedAsTheLogRefusesThem() {
        var commit = new GroupCoordinator.OffsetCommit("orders", 1, 42, -1, "");
        assertThat(settled(coordinator.txnCommitOffsets("payments-tx", "audit", PRODUCER, (short) 1, -1, "", null, List.of(commit))))
                .containsEntry(commit, ServiceError.NONE);
        settled(coordinator.completeTransaction(coordinator.partitionFor("audit"), PRODUCER, (short) 1, 5, true));

        assertThat(settled(coordinator.txnCommitOffsets("payments-tx", "audit", PRODUCER, (short) 0, -1, "", null, List.of(commit))))
                .as("an epoch the producer has moved past").containsEntry(commit, ServiceError.INVALID_PRODUCER_EPOCH);
        assertThat(settled(coordinator.fetchOffsets("audit", true)).unstable()).as("a write the log refused holds nothing back").isEmpty();
        CompletableFuture<Void> stale = coordinator.completeTransaction(coordinator.partitionFor("audit"), PRODUCER, (short) 1, 4, false);
        scheduler.runDue();
        assertThat(ServiceException.errorOf(stale.handle((ok, failure) -> failure).join(), ServiceError.NONE))
                .isEqualTo(ServiceError.TRANSACTION_COORDINATOR_FENCED);
        assertThat(committed(coordinator, new GroupCoordinator.TopicPartitionKey("orders", 1))).isEqualTo(42);
    }

    @Test
    void aMarkerForAnOffsetsPartitionThisNodeDoesNotLeadIsRefusedAsNotTheCoordinator() {
        CompletableFuture<Void> marker = coordinator.completeTransaction(3, PRODUCER, EPOCH, TXN_COORDINATOR_EPOCH, true);
        scheduler.runDue();
        assertThat(marker).isCompletedExceptionally();
        assertThat(ServiceException.errorOf(marker.handle((ok, failure) -> failure).join(), ServiceError.UNKNOWN))
                .isEqualTo(ServiceError.NOT_COORDINATOR);
    }
}
