package io.spate.replication.node;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.NodeInfo;
import io.spate.cluster.local.LocalMetadataLog;
import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import io.spate.replication.GroupCommit;
import io.spate.replication.LeadershipListener;
import io.spate.replication.Partition;
import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node's decisions on its lease, self-fencing and registrations, driven by heartbeat answers on
 * a manual clock, over real logs and real metadata images (from a node's own metadata log): the
 * rules the cluster member and the simulation both run.
 */
class NodeRolesTest {
    private static final long SESSION_MS = 1_000;
    private static final long INCARNATION = 7;
    private static final TopicPartition TP = new TopicPartition("t", 0);

    @TempDir
    Path dir;

    private final ManualScheduler clock = new ManualScheduler();
    private final List<String> followed = new ArrayList<>();
    private final List<String> events = new ArrayList<>();
    private LocalMetadataLog metadata;
    private LogManager logs;
    private NodeRoles roles;

    @BeforeEach
    void start() throws Exception {
        metadata = LocalMetadataLog.open(dir.resolve("meta"), 1);
        logs = LogManager.open(dir.resolve("data"), Clock.systemUTC(), 300_000);
        NodeRoles.Followers followers = followers();
        IsrChanges isrChanges = new IsrChanges(IsrChanges.Controller.of(metadata), 1, 15_000, clock);
        roles = new NodeRoles(1, logs, topic -> LogConfig.defaultConfig(), followers, isrChanges, GroupCommit.IN_PLACE, clock,
                LeadershipListener.NONE, 10_000, recordingEvents(), clock);
    }

    @AfterEach
    void stop() {
        logs.close();
        metadata.close();
    }

    private NodeRoles.Events recordingEvents() {
        return new NodeRoles.Events() {
            @Override
            public void leading(TopicPartition tp, int leaderEpoch, List<Integer> isr) {
                events.add("lead " + tp + "@" + leaderEpoch);
            }

            @Override
            public void following(TopicPartition tp, int leader, int leaderEpoch) {
                events.add("follow " + tp + "@" + leaderEpoch);
            }

            @Override
            public void selfFencing(boolean fenced, boolean before) {
                events.add(fenced ? "fenced" : before ? "unfenced again" : "unfenced");
            }

            @Override
            public void askingToGrow(TopicPartition tp, int follower, long fetchOffset, List<Integer> proposal) {
            }

            @Override
            public void askingToShrink(TopicPartition tp, List<Integer> dropped, List<Integer> proposal) {
            }

            @Override
            public void registeringAgain() {
                events.add("register again");
            }

            @Override
            public void resigning(TopicPartition tp, String offlineReason, List<Integer> proposal) {
                events.add("resign " + tp + " to " + proposal);
            }

            @Override
            public void couldNotTakeRole(TopicPartition tp, Exception e) {
                events.add("failed " + tp + ": " + e);
            }
        };
    }

    private CommandResult commit(MetadataCommand command) throws Exception {
        CommandResult result = metadata.submit(command).get(10, TimeUnit.SECONDS);
        assertThat(result.succeeded()).as("%s: %s", command, result).isTrue();
        return result;
    }

    /** This node registered as {@link #INCARNATION}, and a topic it leads; the image applied. */
    private ClusterImage registeredAndLeading() throws Exception {
        return registeredAndLeading(0);
    }

    /** As above, giving roles up only a heartbeat attempt of {@code attemptMs} after the session. */
    private ClusterImage registeredAndLeading(long attemptMs) throws Exception {
        roles.join(INCARNATION, LeaderLease.forSession(SESSION_MS), SESSION_MS, attemptMs, false);
        CommandResult registered = commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION, true));
        roles.onRegistered(registered.version());
        CommandResult created = commit(new MetadataCommand.CreateTopic("t", UUID.randomUUID(), List.of(List.of(1)), Map.of()));
        ClusterImage image = metadata.awaitVersion(created.version()).get(10, TimeUnit.SECONDS);
        roles.applyImage(image);
        return image;
    }

    /** The image once {@code command} is committed. */
    private ClusterImage imageAfter(MetadataCommand command) throws Exception {
        return metadata.awaitVersion(commit(command).version()).get(10, TimeUnit.SECONDS);
    }

    private long nanos() {
        return clock.nanos();
    }

    @Test
    void theListenerHearsAnImageAppliedOnlyAfterEveryLeadershipItGives() throws Exception {
        // Processing starts a task once the image is applied: its input's leadership and its
        // outputs' come in one image, and a task started on the first alone wrote with transactions.
        List<String> told = new ArrayList<>();
        LeadershipListener recording = new LeadershipListener() {
            @Override
            public void onBecameLeader(Partition partition, int leaderEpoch) {
                told.add("lead " + partition.topicPartition());
            }

            @Override
            public void onResigned(Partition partition, int leaderEpoch) {
                told.add("resign " + partition.topicPartition());
            }

            @Override
            public void onRolesApplied() {
                told.add("applied");
            }
        };
        roles = new NodeRoles(1, logs, topic -> LogConfig.defaultConfig(), followers(), new IsrChanges(IsrChanges.Controller.of(metadata), 1, 15_000, clock),
                GroupCommit.IN_PLACE, clock, recording, 10_000, recordingEvents(), clock);
        roles.join(INCARNATION, LeaderLease.forSession(SESSION_MS), SESSION_MS, 0, false);
        roles.onRegistered(commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION, true)).version());
        commit(new MetadataCommand.CreateTopic("clicks", UUID.randomUUID(), List.of(List.of(1)), Map.of()));
        ClusterImage both = imageAfter(new MetadataCommand.CreateTopic("tagged", UUID.randomUUID(), List.of(List.of(1)),
                Map.of("spate.colocate.with", "clicks")));
        roles.applyImage(both);
        told.clear();

        // The controller answers: the node unfences and takes both leaderships of the image it holds.
        roles.onHeartbeatAnswer(nanos(), false, true, both.version());

        assertThat(told).hasSize(3).endsWith("applied");
        assertThat(told.subList(0, 2)).containsExactlyInAnyOrder("lead clicks-0", "lead tagged-0");
        told.clear();
        roles.applyImage(both);
        assertThat(told).as("an image that changes nothing is told applied all the same").containsExactly("applied");
    }

    @Test
    void aNodeLeadsOnlyOnceTheControllerAnsweredAHeartbeatOfThisProcess() throws Exception {
        ClusterImage image = registeredAndLeading();
        assertThat(roles.partition(TP).role()).as("started fenced").isNotEqualTo(Partition.Role.LEADER);
        assertThat(roles.holdsLease()).isFalse();

        assertThat(roles.onHeartbeatAnswer(nanos(), false, true, image.version())).isEqualTo(NodeRoles.AfterAnswer.NOTHING);
        assertThat(roles.partition(TP).role()).isEqualTo(Partition.Role.LEADER);
        assertThat(roles.holdsLease()).isTrue();
        Partition led = roles.partition(TP);
        assertThat(roles.leaderCheck(led, led.leaderEpoch())).isEqualTo(NodeRoles.LeaderCheck.SERVES);
        assertThat(roles.leaderCheck(led, -1)).as("a request that names no epoch").isEqualTo(NodeRoles.LeaderCheck.SERVES);
        assertThat(roles.leaderCheck(led, led.leaderEpoch() + 1)).isEqualTo(NodeRoles.LeaderCheck.UNKNOWN_EPOCH);
        assertThat(events).containsExactly("unfenced", "lead t-0@" + image.partition("t", 0).leaderEpoch());
    }

    @Test
    void aNodeBehindTheControllerLeadsOnceItsImageIsAsNewAsItsRegistration() throws Exception {
        ClusterImage image = registeredAndLeading();
        roles.onHeartbeatAnswer(nanos(), false, false, image.version() - 2);
        assertThat(roles.selfFenced()).as("older than its own registration").isTrue();
        roles.onHeartbeatAnswer(nanos(), false, false, image.version());
        assertThat(roles.selfFenced()).as("not caught up, but past its registration (KRaft's rule)").isFalse();
    }

    @Test
    void theLeaseRunsFromTheHeartbeatsSendTimeNotFromItsAnswer() throws Exception {
        ClusterImage image = registeredAndLeading();
        long sent = nanos();
        // The answer waited in a socket while the node was paused for most of a session.
        clock.advance(950);
        roles.onHeartbeatAnswer(sent, false, true, image.version());
        assertThat(roles.holdsLease()).as("90% of the session from the send has passed").isFalse();
        assertThat(roles.leaderCheck(roles.partition(TP), -1)).isEqualTo(NodeRoles.LeaderCheck.NOT_LEADER);
    }

    @Test
    void aSessionWithoutAnAnswerStopsTheNodeLeadingOnItsOwn() throws Exception {
        ClusterImage image = registeredAndLeading();
        roles.onHeartbeatAnswer(nanos(), false, true, image.version());
        clock.advance(SESSION_MS);
        assertThat(roles.beforeHeartbeat(nanos(), null)).isTrue();
        assertThat(roles.selfFenced()).as("a whole session is not more than a session").isFalse();
        clock.advance(1);
        roles.beforeHeartbeat(nanos(), null);
        assertThat(roles.selfFenced()).isTrue();
        assertThat(roles.partition(TP).role()).isNotEqualTo(Partition.Role.LEADER);
    }

    @Test
    void aControllerFoundWithinOneMoreAttemptAfterTheSessionKeepsTheRolesWithoutServingMeanwhile() throws Exception {
        long attemptMs = 300;
        ClusterImage image = registeredAndLeading(attemptMs);
        roles.onHeartbeatAnswer(nanos(), false, true, image.version());
        assertThat(roles.selfFenced()).isFalse();
        events.clear();

        // The controller's node died just after answering; its successor is elected as the session lapses.
        clock.advance(SESSION_MS + attemptMs / 2);
        assertThat(roles.beforeHeartbeat(nanos(), null)).isTrue();
        assertThat(roles.selfFenced()).as("one more attempt is allowed").isFalse();
        assertThat(roles.partition(TP).role()).isEqualTo(Partition.Role.LEADER);
        assertThat(roles.leaderCheck(roles.partition(TP), -1)).as("but the lease stopped it serving")
                .isEqualTo(NodeRoles.LeaderCheck.NOT_LEADER);

        roles.onHeartbeatAnswer(nanos(), false, true, image.version());
        assertThat(roles.leaderCheck(roles.partition(TP), -1)).isEqualTo(NodeRoles.LeaderCheck.SERVES);
        assertThat(events).as("no role was given up and taken again").isEmpty();

        // Unanswered for the session and the attempt: the roles go.
        clock.advance(SESSION_MS + attemptMs + 1);
        roles.beforeHeartbeat(nanos(), null);
        assertThat(roles.selfFenced()).isTrue();
        assertThat(roles.partition(TP).role()).isNotEqualTo(Partition.Role.LEADER);
    }

    @Test
    void aLateAnswerToAnOlderHeartbeatDoesNotShortenTheSession() throws Exception {
        ClusterImage image = registeredAndLeading();
        long first = nanos();
        clock.advance(400);
        long second = nanos();
        roles.onHeartbeatAnswer(second, false, true, image.version());
        roles.onHeartbeatAnswer(first, false, true, image.version());
        clock.advance(SESSION_MS);
        roles.beforeHeartbeat(nanos(), null);
        assertThat(roles.selfFenced()).as("the session counts from the newer send").isFalse();
    }

    @Test
    void aNodeAloneNeverFencesItselfForSilence() throws Exception {
        roles.join(INCARNATION, LeaderLease.withoutExpiry(), SESSION_MS, 0, true);
        CommandResult registered = commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION, true));
        roles.onRegistered(registered.version());
        roles.onHeartbeatAnswer(nanos(), false, true, registered.version());
        clock.advance(60_000);
        roles.beforeHeartbeat(nanos(), null);
        assertThat(roles.selfFenced()).isFalse();
        assertThat(roles.holdsLease()).isTrue();
    }

    @Test
    void aFencedAnswerEndsTheLeaseAtOnceAndAsksForOneRegistration() throws Exception {
        ClusterImage image = registeredAndLeading();
        roles.onHeartbeatAnswer(nanos(), false, true, image.version());
        assertThat(roles.holdsLease()).isTrue();

        assertThat(roles.onHeartbeatAnswer(nanos(), true, true, image.version())).isEqualTo(NodeRoles.AfterAnswer.REGISTER_AGAIN);
        assertThat(roles.holdsLease()).isFalse();
        assertThat(roles.selfFenced()).isTrue();
        assertThat(roles.onHeartbeatAnswer(nanos(), true, true, image.version()))
                .as("one registration is on its way already").isEqualTo(NodeRoles.AfterAnswer.NOTHING);

        CommandResult again = commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION, roles.registersClean(false)));
        assertThat(roles.registersClean(false)).as("this process registered before: it lost nothing").isTrue();
        roles.onRegistered(again.version());
        assertThat(roles.registeringAgain()).isFalse();
        roles.onHeartbeatAnswer(nanos(), false, false, again.version());
        assertThat(roles.selfFenced()).isFalse();
        assertThat(roles.onHeartbeatAnswer(nanos(), true, true, again.version())).isEqualTo(NodeRoles.AfterAnswer.REGISTER_AGAIN);
    }

    @Test
    void aFencedAnswerToAHeartbeatSentBeforeTheRegistrationCommittedAsksForNoOther() throws Exception {
        ClusterImage image = registeredAndLeading();
        roles.onHeartbeatAnswer(nanos(), false, true, image.version());
        assertThat(roles.onHeartbeatAnswer(nanos(), true, true, image.version())).isEqualTo(NodeRoles.AfterAnswer.REGISTER_AGAIN);
        clock.advance(10);
        long sentBefore = nanos();
        clock.advance(10);
        CommandResult again = commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION, true));
        roles.onRegistered(again.version());
        // The heartbeat sent before the registration committed was answered "fenced" after it.
        assertThat(roles.onHeartbeatAnswer(sentBefore, true, false, again.version())).isEqualTo(NodeRoles.AfterAnswer.NOTHING);
        roles.onHeartbeatAnswer(nanos(), false, false, again.version());
        assertThat(roles.selfFenced()).as("the registration's version was kept").isFalse();
    }

    @Test
    void aNodeThatIsLeavingDoesNotRegisterAgain() throws Exception {
        ClusterImage image = registeredAndLeading();
        roles.onHeartbeatAnswer(nanos(), false, true, image.version());
        roles.leave();
        assertThat(roles.onHeartbeatAnswer(nanos(), true, true, image.version())).isEqualTo(NodeRoles.AfterAnswer.NOTHING);
        assertThat(roles.holdsLease()).isFalse();
    }

    @Test
    void aNodeWhoseStorageIsDownGoesSilent() throws Exception {
        ClusterImage image = registeredAndLeading();
        roles.onHeartbeatAnswer(nanos(), false, true, image.version());
        assertThat(roles.beforeHeartbeat(nanos(), "disk gone")).as("no heartbeat").isFalse();
        assertThat(roles.selfFenced()).isTrue();
        assertThat(roles.holdsLease()).isFalse();
    }

    @Test
    void anImageOfAnEarlierIncarnationIsNotLedFrom() throws Exception {
        roles.join(INCARNATION + 1, LeaderLease.forSession(SESSION_MS), SESSION_MS, 0, false);
        commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION, true));
        CommandResult created = commit(new MetadataCommand.CreateTopic("t", UUID.randomUUID(), List.of(List.of(1)), Map.of()));
        ClusterImage image = metadata.awaitVersion(created.version()).get(10, TimeUnit.SECONDS);
        roles.applyImage(image);
        roles.onHeartbeatAnswer(nanos(), false, true, image.version());
        assertThat(roles.selfFenced()).isFalse();
        assertThat(roles.partition(TP).role()).as("the image names incarnation " + INCARNATION).isNotEqualTo(Partition.Role.LEADER);
    }

    /** Logs left on disk by replicas moved away or topics deleted while the node was down go; assigned and hosted ones stay. */
    /**
     * A leader whose log loads offline (a bit flipped below its recovery point, found after an
     * unclean stop) hands the partition to the other in-sync replicas, and once another node
     * leads, sets the damaged data aside and follows. Before, it kept leading a partition it could
     * not serve, and a replica offline under a follower role stayed so until the next restart.
     */
    @Test
    void aLeaderWhoseLogIsOfflineResignsThenSetsTheDamageAsideAndFollows() throws Exception {
        roles.join(INCARNATION, LeaderLease.forSession(SESSION_MS), SESSION_MS, 0, false);
        CommandResult registered = commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION, true));
        commit(new MetadataCommand.RegisterNode(2, "127.0.0.1", 9093, 1, true));
        commit(new MetadataCommand.RegisterNode(3, "127.0.0.1", 9094, 1, true));
        ClusterImage image = imageAfter(new MetadataCommand.CreateTopic("t", UUID.randomUUID(), List.of(List.of(1, 2, 3)), Map.of()));
        assertThat(image.partition("t", 0).leader()).isEqualTo(1);
        roles.onRegistered(registered.version());
        roles.applyImage(image);
        roles.onHeartbeatAnswer(nanos(), false, true, image.version());
        for (int i = 0; i < 3; i++) {
            org.apache.kafka.common.record.internal.SimpleRecord record =
                    new org.apache.kafka.common.record.internal.SimpleRecord(1_000, null, ("value " + i).getBytes());
            logs.log(TP).appendAsLeader(org.apache.kafka.common.record.internal.MemoryRecords.withRecords(
                    org.apache.kafka.common.compress.Compression.NONE, record, record).buffer(), 0, 1_000);
        }
        logs.close();
        Path data = dir.resolve("data");
        java.nio.file.Files.delete(data.resolve(".spate-clean-shutdown"));
        flipABitInTheSecondBatch(data.resolve(TP.dirName()).resolve("00000000000000000000.log"));

        // The node starts again on that disk, with the image that names it leader.
        logs = LogManager.open(data, Clock.systemUTC(), 300_000);
        roles = new NodeRoles(1, logs, topic -> LogConfig.defaultConfig(), followers(),
                new IsrChanges(IsrChanges.Controller.of(metadata), 1, 15_000, clock), GroupCommit.IN_PLACE, clock,
                LeadershipListener.NONE, 10_000, recordingEvents(), clock);
        roles.join(INCARNATION, LeaderLease.forSession(SESSION_MS), SESSION_MS, 0, false);
        roles.onRegistered(registered.version());
        roles.applyImage(image);
        roles.onHeartbeatAnswer(nanos(), false, true, image.version());
        assertThat(roles.partition(TP).isLeader()).isTrue();
        assertThat(roles.partition(TP).log().isOffline()).isTrue();
        clock.advance(0);   // the in-sync set change goes out

        ClusterImage resigned = metadata.awaitVersion(image.version() + 1).get(10, TimeUnit.SECONDS);
        assertThat(resigned.partition("t", 0).leader()).isEqualTo(2);
        assertThat(resigned.partition("t", 0).isr()).containsExactly(2, 3);
        assertThat(events).contains("resign t-0 to [2, 3]");

        roles.applyImage(resigned);
        Partition following = roles.partition(TP);
        assertThat(following.role()).isEqualTo(Partition.Role.FOLLOWER);
        assertThat(following.leaderId()).isEqualTo(2);
        assertThat(following.log().isOffline()).isFalse();
        assertThat(following.log().logEndOffset()).as("the first batch, before the damage").isEqualTo(2);
        assertThat(followed).contains("t-0<-2");
        try (java.util.stream.Stream<Path> quarantined = java.nio.file.Files.list(data.resolve("quarantine"))) {
            assertThat(quarantined.toList()).hasSize(1);
        }
        assertThat(events).noneMatch(e -> e.startsWith("failed"));
    }

    private NodeRoles.Followers followers() {
        return new NodeRoles.Followers() {
            @Override
            public void follow(Partition partition, NodeInfo leader, int leaderEpoch) {
                followed.add(partition.topicPartition() + "<-" + leader.id());
            }

            @Override
            public void unfollow(TopicPartition tp) {
            }
        };
    }

    private static void flipABitInTheSecondBatch(Path segment) throws Exception {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(segment,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer header = java.nio.ByteBuffer.allocate(12);
            channel.read(header, 0);
            long position = 12 + header.getInt(8) + 70;
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            channel.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x10)).rewind();
            channel.write(one, position);
        }
    }

    @Test
    void strayLogsOnDiskAreDeletedAndAssignedOnesKept() throws Exception {
        ClusterImage image = registeredAndLeading();
        commit(new MetadataCommand.RegisterNode(2, "127.0.0.1", 9093, 1, true));
        CommandResult moved = commit(new MetadataCommand.CreateTopic("moved", UUID.randomUUID(), List.of(List.of(2)), Map.of()));
        CommandResult kept = commit(new MetadataCommand.CreateTopic("kept", UUID.randomUUID(), List.of(List.of(1)), Map.of()));
        ClusterImage latest = metadata.awaitVersion(Math.max(moved.version(), kept.version())).get(10, TimeUnit.SECONDS);
        // An open log no partition uses, and one a restart finds on disk without opening it.
        for (String topic : List.of("moved", "kept")) {
            logs.getOrCreate(new TopicPartition(topic, 0), LogConfig.defaultConfig());
        }
        Path data = dir.resolve("data");
        java.nio.file.Files.createDirectories(data.resolve("gone-0"));
        java.nio.file.Files.write(data.resolve("gone-0").resolve("00000000000000000000.log"), new byte[0]);
        java.nio.file.Files.createDirectories(data.resolve("not-a-partition"));

        assertThat(roles.removeStrayLogs(latest)).containsExactlyInAnyOrder(new TopicPartition("moved", 0), new TopicPartition("gone", 0));
        assertThat(data.resolve("moved-0")).doesNotExist();
        assertThat(data.resolve("gone-0")).doesNotExist();
        assertThat(data.resolve("kept-0")).as("assigned here: the next image hosts it").isDirectory();
        assertThat(data.resolve(TP.dirName())).as("hosted").isDirectory();
        assertThat(data.resolve("not-a-partition")).isDirectory();
        assertThat(roles.partition(TP)).isNotNull();
        assertThat(image.version()).isLessThan(latest.version());
    }
    /**
     * A node that hosts a partition from an image older than the topic's deletion and creation
     * under the same name (a restart replays its own stale metadata first) drops the old topic's
     * log when the newer image comes, rather than serving it as the new topic's.
     */
    @Test
    void aTopicCreatedAgainUnderItsNameReplacesTheLogHostedForTheOldOne() throws Exception {
        ClusterImage image = registeredAndLeading();
        UUID oldId = image.topics().get("t").id();
        org.apache.kafka.common.record.internal.SimpleRecord record = new org.apache.kafka.common.record.internal.SimpleRecord(1_000, null, "old".getBytes());
        logs.log(TP).appendAsLeader(org.apache.kafka.common.record.internal.MemoryRecords.withRecords(
                org.apache.kafka.common.compress.Compression.NONE, record, record).buffer(), 0, 1_000);
        Partition hostedForOld = roles.partition(TP);
        assertThat(logs.topicId(TP)).isEqualTo(oldId);

        commit(new MetadataCommand.DeleteTopic("t"));
        UUID newId = UUID.randomUUID();
        CommandResult created = commit(new MetadataCommand.CreateTopic("t", newId, List.of(List.of(1)), Map.of()));
        // Only the latest image reaches the node: it never saw the topic go.
        roles.applyImage(metadata.awaitVersion(created.version()).get(10, TimeUnit.SECONDS));

        assertThat(roles.partition(TP)).isNotSameAs(hostedForOld);
        assertThat(logs.topicId(TP)).isEqualTo(newId);
        assertThat(logs.log(TP).logEndOffset()).as("none of the old topic's records").isZero();
        assertThat(io.spate.log.PartitionMetadataFile.read(dir.resolve("data").resolve(TP.dirName()))).isEqualTo(newId);
        assertThat(events).noneMatch(e -> e.startsWith("failed"));
    }

    /** The same for a log a restart finds on disk without hosting it yet. */
    @Test
    void aStoredLogOfAnEarlierTopicOfTheSameNameIsNotTakenForTheNewOne() throws Exception {
        roles.join(INCARNATION, LeaderLease.forSession(SESSION_MS), SESSION_MS, 0, false);
        CommandResult registered = commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION, true));
        roles.onRegistered(registered.version());
        UUID oldId = UUID.randomUUID();
        org.apache.kafka.common.record.internal.SimpleRecord record = new org.apache.kafka.common.record.internal.SimpleRecord(1_000, null, "old".getBytes());
        logs.getOrCreate(TP, LogConfig.defaultConfig(), oldId).appendAsLeader(org.apache.kafka.common.record.internal.MemoryRecords.withRecords(
                org.apache.kafka.common.compress.Compression.NONE, record).buffer(), 0, 1_000);
        logs.close();
        logs = LogManager.open(dir.resolve("data"), Clock.systemUTC(), 300_000);
        IsrChanges isrChanges = new IsrChanges(IsrChanges.Controller.of(metadata), 1, 15_000, clock);
        roles = new NodeRoles(1, logs, topic -> LogConfig.defaultConfig(), new NodeRoles.Followers() {
            @Override
            public void follow(Partition partition, NodeInfo leader, int leaderEpoch) {
            }

            @Override
            public void unfollow(TopicPartition tp) {
            }
        }, isrChanges, GroupCommit.IN_PLACE, clock, LeadershipListener.NONE, 10_000, recordingEvents(), clock);
        roles.join(INCARNATION, LeaderLease.forSession(SESSION_MS), SESSION_MS, 0, false);
        roles.onRegistered(registered.version());

        CommandResult created = commit(new MetadataCommand.CreateTopic("t", UUID.randomUUID(), List.of(List.of(1)), Map.of()));
        ClusterImage latest = metadata.awaitVersion(created.version()).get(10, TimeUnit.SECONDS);
        assertThat(roles.removeStrayLogs(latest)).as("assigned here: hosting it decides").isEmpty();
        roles.applyImage(latest);
        assertThat(logs.log(TP).logEndOffset()).isZero();
        assertThat(logs.topicId(TP)).isEqualTo(latest.topics().get("t").id());
    }
    /**
     * Fix 40: an image older than this incarnation's registration (replayed at a restart) may name
     * the node a replica of a partition moved away and back meanwhile; copying by it would get a
     * log counted in sync that the moves not yet applied delete. The node follows once its image
     * holds its registration.
     */
    @Test
    void aNodeFollowsOnlyByAnImageAsNewAsItsRegistration() throws Exception {
        roles.join(INCARNATION, LeaderLease.forSession(SESSION_MS), SESSION_MS, 0, false);
        commit(new MetadataCommand.RegisterNode(2, "127.0.0.1", 9093, 1, true));
        commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION - 1, true)); // this node's previous process
        CommandResult created = commit(new MetadataCommand.CreateTopic("t", UUID.randomUUID(), List.of(List.of(2, 1)), Map.of()));
        roles.applyImage(metadata.awaitVersion(created.version()).get(10, TimeUnit.SECONDS));
        assertThat(followed).as("not registered: the image may be stale").isEmpty();

        CommandResult registered = commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION, true));
        roles.applyImage(metadata.awaitVersion(registered.version()).get(10, TimeUnit.SECONDS));
        assertThat(followed).as("the registration is not known to be committed yet").isEmpty();
        roles.onRegistered(registered.version());
        assertThat(followed).as("the image applied already holds it").containsExactly("t-0<-2");
    }

    /**
     * An image older than this incarnation's registration (a restart replaying its metadata in
     * order) that moves a partition away from the node closes its log but keeps the files: a
     * later image may give it back, and this node may hold the only copy (the simulation with
     * moves: after a power loss of the whole cluster, the restarted last in-sync replica replayed
     * a move away, deleted its log, and led the partition empty). Only a current image deletes.
     */
    @Test
    void onlyAnImageAsNewAsTheRegistrationDeletesTheLogOfAReplicaMovedAway() throws Exception {
        roles.join(INCARNATION, LeaderLease.forSession(SESSION_MS), SESSION_MS, 0, false);
        commit(new MetadataCommand.RegisterNode(2, "127.0.0.1", 9093, 1, true));
        commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION - 1, true)); // this node's previous process
        roles.applyImage(imageAfter(new MetadataCommand.CreateTopic("t", UUID.randomUUID(), List.of(List.of(1, 2)), Map.of())));
        org.apache.kafka.common.record.internal.SimpleRecord record = new org.apache.kafka.common.record.internal.SimpleRecord(1_000, null, "kept".getBytes());
        logs.log(TP).appendAsLeader(org.apache.kafka.common.record.internal.MemoryRecords.withRecords(
                org.apache.kafka.common.compress.Compression.NONE, record, record).buffer(), 0, 1_000);
        Path partitionDir = dir.resolve("data").resolve(TP.dirName());

        // Replayed: the partition moved to node 2 alone, then back.
        roles.applyImage(imageAfter(new MetadataCommand.ReassignPartition("t", 0, List.of(2))));
        assertThat(roles.partition(TP)).as("not served by an image that leaves it out").isNull();
        assertThat(logs.log(TP)).isNull();
        assertThat(partitionDir).as("kept: the image is older than the registration").isDirectory();
        roles.applyImage(imageAfter(new MetadataCommand.ReassignPartition("t", 0, List.of(2, 1))));
        assertThat(roles.partition(TP)).isNotNull();
        assertThat(logs.log(TP).logEndOffset()).as("hosted again with what it held").isEqualTo(2);

        // Replayed again: moved away; this time the current image does not give it back.
        roles.applyImage(imageAfter(new MetadataCommand.ReassignPartition("t", 0, List.of(2))));
        assertThat(partitionDir).isDirectory();
        CommandResult registered = commit(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9092, INCARNATION, true));
        roles.onRegistered(registered.version());
        roles.applyImage(metadata.awaitVersion(registered.version()).get(10, TimeUnit.SECONDS));
        assertThat(partitionDir).as("a current image leaves it out: deleted").doesNotExist();
        assertThat(events).noneMatch(e -> e.startsWith("failed"));
    }
}
