package io.spate.testkit.sim;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.NodeInfo;
import io.spate.log.LogConfig;
import io.spate.log.LogError;
import io.spate.log.LogManager;
import io.spate.log.LogReadResult;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import io.spate.coordinator.CoordinatorRuntime;
import io.spate.replication.FollowerFetchLogic;
import io.spate.replication.LeadershipListener;
import io.spate.replication.Acks;
import io.spate.replication.GroupCommit;
import io.spate.replication.Partition;
import io.spate.replication.ReadBound;
import io.spate.replication.Written;
import io.spate.replication.node.IsrChanges;
import io.spate.replication.node.LeaderLease;
import io.spate.replication.node.NodeRoles;
import io.spate.testkit.disk.SimDisk;
import io.spate.time.Scheduler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One node: its real logs and {@link Partition}s, one {@link FollowerFetchLogic} per leader it
 * copies from, and the node's own decisions on roles, its lease, self-fencing, registering again
 * and in-sync set changes ({@link NodeRoles} and {@link IsrChanges}, as a node runs them). What
 * stays a model here is the wire: heartbeats, registrations, fetches and metadata go through the
 * {@link SimNetwork} and the {@link EventLoop}.
 */
public final class SimNode {
    static final int FETCH_MAX_BYTES = 64 * 1024;
    /** How long a write waits for the in-sync replicas: the Kafka client's default request timeout. */
    static final long PRODUCE_WAIT_MS = 30_000;
    /** How long a group's commit waits for the in-sync replicas: Kafka's offsets.commit.timeout.ms. */
    static final long COMMIT_WAIT_MS = 5_000;
    /**
     * How long an in-sync set change may go unanswered before it counts as unknown and is sent
     * again: a node waits 15 s, compressed here as the session is, so that the unknown outcome
     * of a lost answer is met and settled within a fault phase.
     */
    static final long ISR_ANSWER_TIMEOUT_MS = 1_000;
    /** As a node's (its heartbeat timeout): a heartbeat unanswered this long no longer holds up the next. */
    static final long HEARTBEAT_TIMEOUT_MS = 200;
    /** As a node's registration attempts: one unanswered this long is sent again. */
    static final long REGISTRATION_ATTEMPT_MS = 1_000;

    private final int id;
    /** This node's machine's disk: survives a kill, loses what was not fsynced in a power loss. */
    private final SimDisk disk;
    private final EventLoop loop;
    private final SimNetwork network;
    private final SimController controller;
    private final Map<Integer, SimNode> peers;
    /** Replaced when the simulation switches the topics' policy; logs opened later take the new one. */
    private volatile Map<String, String> topicConfig;
    private final long sessionMs;
    private final long lagTimeMaxMs;
    private final Consumer<String> trace;
    private final Consumer<String> violation;
    /** This process's coordinator runtime (the real one) over the offsets topic; null while the node is down. */
    private CoordinatorRuntime<SimOffsets, SimOffsets.Commit> coordinator;
    /** This process's log cleaner (its progress per log dies with the process, as a node's does). */
    private io.spate.log.compaction.LogCompactor compactor;

    private long incarnation;
    private boolean alive;
    private long pausedUntilMs = -1;
    private LogManager logs;
    /** This process's decisions (null while the node is down). */
    private NodeRoles roles;
    private final Map<Integer, FollowerFetchLogic> fetchers = new TreeMap<>();
    /** Per leader, the request now out to it (0: none). One at a time, as on the fetcher's one connection. */
    private final Map<Integer, Long> fetchInFlight = new HashMap<>();
    private long requests;
    /** Futures waiting for this node's metadata to reach a version (in-sync set refusals wait for it). */
    private final TreeMap<Long, List<java.util.concurrent.CompletableFuture<ClusterImage>>> versionWaiters = new TreeMap<>();
    /** When the last heartbeat went out, while it is unanswered (-1: none out). One at a time, as a node sends them. */
    private long heartbeatOutSinceMs = -1;
    /** When the last registration went out (-1: none yet this incarnation). */
    private long registrationSentMs = -1;

    SimNode(int id, SimDisk disk, EventLoop loop, SimNetwork network, SimController controller, Map<Integer, SimNode> peers,
            Map<String, String> topicConfig, long sessionMs, long lagTimeMaxMs, Consumer<String> trace, Consumer<String> violation) {
        this.id = id;
        this.disk = disk;
        this.loop = loop;
        this.network = network;
        this.controller = controller;
        this.peers = peers;
        this.topicConfig = topicConfig;
        this.sessionMs = sessionMs;
        this.lagTimeMaxMs = lagTimeMaxMs;
        this.trace = trace;
        this.violation = violation;
    }

    /** A fresh process's decisions, over its logs, with this node's wire: fetchers, the controller link, the event loop. */
    private NodeRoles newRoles(long at) {
        NodeRoles.Followers followers = new NodeRoles.Followers() {
            @Override
            public void follow(Partition partition, NodeInfo leader, int leaderEpoch) {
                TopicPartition tp = partition.topicPartition();
                for (Map.Entry<Integer, FollowerFetchLogic> e : fetchers.entrySet()) {
                    if (e.getKey() != leader.id()) {
                        e.getValue().unfollow(tp);
                    }
                }
                fetchers.computeIfAbsent(leader.id(), FollowerFetchLogic::new).follow(partition, leaderEpoch);
            }

            @Override
            public void unfollow(TopicPartition tp) {
                fetchers.values().forEach(f -> f.unfollow(tp));
            }
        };
        // This process's timers: they fire only while it runs (a paused process runs them on resuming).
        Scheduler processTimers = new Scheduler() {
            @Override
            public io.spate.time.Time time() {
                return loop;
            }

            @Override
            public Timer schedule(long delayMs, Runnable task) {
                return loop.schedule(delayMs, () -> onNode(at, task));
            }
        };
        IsrChanges isrChanges = new IsrChanges(new IsrChanges.Controller() {
            @Override
            public java.util.concurrent.CompletableFuture<CommandResult> submit(MetadataCommand command) {
                trace.accept("node " + id + " asks " + command);
                java.util.concurrent.CompletableFuture<CommandResult> answer = new java.util.concurrent.CompletableFuture<>();
                toController(() -> {
                    CommandResult result = controller.commit(command);
                    fromController(at, () -> answer.complete(result));
                });
                return answer;
            }

            @Override
            public java.util.concurrent.CompletableFuture<?> awaitVersion(long version) {
                java.util.concurrent.CompletableFuture<ClusterImage> reached = new java.util.concurrent.CompletableFuture<>();
                versionWaiters.computeIfAbsent(version, v -> new ArrayList<>()).add(reached);
                completeVersionWaiters();
                return reached;
            }
        }, id, ISR_ANSWER_TIMEOUT_MS, processTimers);
        LeadershipListener leadership = new LeadershipListener() {
            @Override
            public void onBecameLeader(Partition partition, int leaderEpoch) {
                if (coordinator != null) {
                    coordinator.leadership().onBecameLeader(partition, leaderEpoch);
                }
            }

            @Override
            public void onResigned(Partition partition, int leaderEpoch) {
                if (coordinator != null) {
                    coordinator.leadership().onResigned(partition, leaderEpoch);
                }
            }
        };
        return new NodeRoles(id, logs, topic -> LogConfig.from(topicConfig), followers, isrChanges, GroupCommit.IN_PLACE, loop,
                leadership, lagTimeMaxMs, new TracedEvents(), loop);
    }

    /** The decisions' events in the run's trace; a request the controller would refuse for a reason the node could see is a violation. */
    private final class TracedEvents implements NodeRoles.Events {
        @Override
        public void leading(TopicPartition tp, int leaderEpoch, List<Integer> isr) {
            Partition held = roles == null ? null : roles.partitionsByName().get(tp);
            trace.accept("node " + id + " leads " + tp + " at epoch " + leaderEpoch + " isr " + isr
                    + (held == null ? "" : " with log [" + held.log().logStartOffset() + ", " + held.log().logEndOffset() + ")"));
        }

        @Override
        public void following(TopicPartition tp, int leader, int leaderEpoch) {
            trace.accept("node " + id + " follows " + leader + " for " + tp + " at epoch " + leaderEpoch);
        }

        @Override
        public void selfFencing(boolean fenced, boolean before) {
            trace.accept("node " + id + (fenced ? " stops leading on its own" : " takes the roles its metadata gives"));
        }

        @Override
        public void askingToGrow(TopicPartition tp, int follower, long fetchOffset, List<Integer> proposal) {
            NodeInfo node = roles.lastImage().node(follower);
            if (node == null || node.fenced()) {
                // The controller would refuse it, a metadata entry spent for nothing on every fetch (KIP-841).
                violation.accept("node " + id + " asked for " + follower + " to join the in-sync set of " + tp
                        + " though its own metadata has that node fenced");
            }
        }

        @Override
        public void askingToShrink(TopicPartition tp, List<Integer> dropped, List<Integer> proposal) {
        }

        @Override
        public void registeringAgain() {
            trace.accept("node " + id + " was fenced: registers again");
        }

        @Override
        public void resigning(TopicPartition tp, String offlineReason, List<Integer> proposal) {
            trace.accept("node " + id + " leads " + tp + " with its log offline (" + offlineReason + "): asks to hand it to " + proposal);
        }

        @Override
        public void couldNotTakeRole(TopicPartition tp, Exception e) {
            violation.accept("node " + id + " could not take the role of " + tp + ": " + e);
        }
    }

    public int id() {
        return id;
    }

    public boolean alive() {
        return alive;
    }

    public long incarnation() {
        return incarnation;
    }

    boolean paused() {
        return loop.nowMs() < pausedUntilMs;
    }

    /** Runs {@code action} as this node, now or, while it is paused, as soon as it resumes; never for another incarnation. */
    private void onNode(long forIncarnation, Runnable action) {
        if (!alive || incarnation != forIncarnation) {
            return;
        }
        if (paused()) {
            loop.after(pausedUntilMs - loop.nowMs(), () -> onNode(forIncarnation, action));
            return;
        }
        action.run();
    }

    /** Sends {@code action} to {@code to} (run there as that node) when the link is up; lost otherwise. */
    private void send(int to, Runnable action) {
        if (!network.reaches(id, to)) {
            return;
        }
        SimNode peer = peers.get(to);
        long peerIncarnation = peer.incarnation;
        loop.after(network.delayMs(), () -> peer.onNode(peerIncarnation, action));
        if (network.duplicates(id, to)) {
            loop.after(network.delayMs(), () -> peer.onNode(peerIncarnation, action));
        }
    }

    /** As {@link #send}, for a message to the controller, which is always up. */
    private void toController(Runnable action) {
        if (network.reaches(id, SimNetwork.CONTROLLER)) {
            loop.after(network.delayMs(), action);
            if (network.duplicates(id, SimNetwork.CONTROLLER)) {
                loop.after(network.delayMs(), action);
            }
        }
    }

    /** As {@link #send}, from the controller to this node. */
    void fromController(Runnable action) {
        fromController(incarnation, action);
    }

    /** An answer to a request the process of incarnation {@code at} sent: lost if the node restarted since. */
    private void fromController(long at, Runnable action) {
        if (network.reaches(SimNetwork.CONTROLLER, id)) {
            loop.after(network.delayMs(), () -> onNode(at, action));
            if (network.duplicates(SimNetwork.CONTROLLER, id)) {
                loop.after(network.delayMs(), () -> onNode(at, action));
            }
        }
    }

    // ---- life ---------------------------------------------------------------------------------

    /** Starts the process; nothing when it runs already (the final heal may come before a scheduled restart). */
    void start() {
        if (alive) {
            return;
        }
        incarnation++;
        alive = true;
        pausedUntilMs = -1;
        heartbeatOutSinceMs = -1;
        registrationSentMs = -1;
        versionWaiters.clear();
        try {
            logs = LogManager.openWithoutDuties(disk.root().resolve("data"), Clock.fixed(Instant.ofEpochMilli(loop.nowMs()), ZoneOffset.UTC));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        coordinator = newCoordinator();
        compactor = new io.spate.log.compaction.LogCompactor(new LoopClock(loop), 1 << 20, null);
        long at = incarnation;
        roles = newRoles(at);
        roles.join(at, LeaderLease.forSession(sessionMs), sessionMs, HEARTBEAT_TIMEOUT_MS, false);
        trace.accept("node " + id + " starts (incarnation " + at + ")");
        toController(() -> controller.heard(id, at));
        register();
    }

    /**
     * As the cluster member registers: unclean unless a registration of this process was
     * committed before (every start in the simulation follows a kill or a power loss), and sent
     * again when its answer is overdue.
     */
    private void register() {
        long at = incarnation;
        boolean clean = roles.registersClean(false);
        registrationSentMs = loop.nowMs();
        toController(() -> {
            CommandResult result = controller.commit(new MetadataCommand.RegisterNode(id, "sim", id, at, clean));
            fromController(at, () -> {
                if (result.succeeded()) {
                    roles.onRegistered(result.version());
                }
            });
        });
    }

    /**
     * kill -9: the process is gone, with no fsync, checkpoint or clean-shutdown marker; what it
     * wrote stays as written (the operating system still holds it).
     */
    void crash() {
        trace.accept("node " + id + " is killed");
        die();
    }

    /** The machine loses power: the process dies, and the disk keeps only part of what was not fsynced. */
    void losePower(java.util.Random random) {
        trace.accept("node " + id + " loses power");
        die();
        disk.losePower(random);
    }

    private void die() {
        alive = false;
        coordinator.close();
        coordinator = null;
        roles = null;
        versionWaiters.clear();
        fetchers.clear();
        fetchInFlight.clear();
        logs.halt();
        logs = null;
        disk.kill();
    }

    /** The log cleaner's round: compacts this process's compacted logs whose dirty share is due, as a node's cleaner thread does. */
    void compactDue() {
        onNode(incarnation, () -> compactor.compactDue(logs.logs()));
    }

    /** An operator's config change, as a node applies it from the metadata: every open log takes it now. */
    void switchTopicConfig(Map<String, String> config) {
        topicConfig = config;
        if (logs != null) {
            LogConfig next = LogConfig.from(config);
            for (PartitionLog log : logs.logs()) {
                log.updateConfig(next);
            }
        }
    }

    /** The retention duty's round: each of this process's logs deletes its oldest segments past its retention, below its high watermark. */
    void applyRetention() {
        onNode(incarnation, () -> {
            for (PartitionLog log : logs.logs()) {
                try {
                    log.applyRetention(loop.nowMs());
                } catch (IOException e) {
                    trace.accept("node " + id + ": retention of " + log.topicPartition() + " failed: " + e);
                }
            }
        });
    }

    /** The simulated time as a {@link Clock} (the compactor stamps and checks delete horizons with it). */
    private static final class LoopClock extends Clock {
        private final EventLoop loop;

        LoopClock(EventLoop loop) {
            this.loop = loop;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(loop.nowMs());
        }

        @Override
        public long millis() {
            return loop.nowMs();
        }
    }

    /** The log manager's background duties, in simulated time: roll flushes, then the checkpoints. */
    void runLogDuties() {
        onNode(incarnation, () -> {
            logs.flushRolledLogs();
            logs.writeCheckpoints();
        });
    }

    SimDisk disk() {
        return disk;
    }

    void pause(long ms) {
        trace.accept("node " + id + " paused for " + ms + " ms");
        pausedUntilMs = loop.nowMs() + ms;
    }

    void resume() {
        pausedUntilMs = -1;
    }

    void close() {
        if (logs != null) {
            logs.close();
            logs = null;
        }
    }

    // ---- periodic duties ----------------------------------------------------------------------

    /**
     * A heartbeat to the controller, one at a time as a node sends them; the node's own decisions
     * take its answer. A registration not yet answered (or one after a fence) is sent again when
     * overdue, as the cluster member does.
     */
    void heartbeat() {
        onNode(incarnation, () -> {
            long now = loop.nowMs();
            if (heartbeatOutSinceMs >= 0 && now - heartbeatOutSinceMs < HEARTBEAT_TIMEOUT_MS) {
                return;
            }
            if (!roles.beforeHeartbeat(loop.nanos(), null)) {
                return;
            }
            if ((!roles.registered() || roles.registeringAgain()) && now - registrationSentMs > REGISTRATION_ATTEMPT_MS) {
                register();
            }
            long sentAtNanos = loop.nanos();
            long sentVersion = roles.lastImage().version();
            long at = incarnation;
            heartbeatOutSinceMs = now;
            toController(() -> {
                // Not registered as this process (its registration was lost), or fenced.
                var reply = controller.heartbeat(id, at).join();
                boolean caughtUp = sentVersion >= reply.imageVersion();
                fromController(at, () -> onHeartbeatAnswer(now, sentAtNanos, !reply.registered(), caughtUp));
            });
        });
    }

    private void onHeartbeatAnswer(long sentAtMs, long sentAtNanos, boolean fenced, boolean caughtUp) {
        if (heartbeatOutSinceMs == sentAtMs) {
            // The one out now (a late answer to an earlier one, or a duplicate, frees nothing).
            heartbeatOutSinceMs = -1;
        }
        if (roles.onHeartbeatAnswer(sentAtNanos, fenced, caughtUp, roles.lastImage().version()) == NodeRoles.AfterAnswer.REGISTER_AGAIN) {
            register();
        }
    }

    long imageVersion() {
        return roles == null ? -1 : roles.lastImage().version();
    }

    boolean holdsLease() {
        return roles != null && roles.holdsLease();
    }

    /** The controller delivers its latest image when this node's is older. */
    void catchUpMetadata() {
        List<ClusterImage> missing = alive ? controller.imagesAfter(imageVersion()) : List.of();
        if (!missing.isEmpty()) {
            fromController(() -> {
                for (ClusterImage next : missing) {
                    if (next.version() > imageVersion()) {
                        applyImage(next);
                    }
                }
            });
        }
    }

    /** Retries of unanswered in-sync set changes and shrinks for lagging followers. */
    void checkInSyncSets() {
        onNode(incarnation, () -> roles.checkLaggingFollowers());
    }

    /** One fetch round per leader this node copies from, unless the previous one is still out. */
    void fetch() {
        onNode(incarnation, () -> {
            for (Map.Entry<Integer, FollowerFetchLogic> e : fetchers.entrySet()) {
                int leaderId = e.getKey();
                if (fetchInFlight.getOrDefault(leaderId, 0L) == 0L && !e.getValue().isIdle()) {
                    fetchFrom(leaderId, e.getValue());
                }
            }
        });
    }

    private void fetchFrom(int leaderId, FollowerFetchLogic logic) {
        List<FollowerFetchLogic.FetchPosition> positions = logic.fetchPositions();
        if (positions.isEmpty()) {
            return;
        }
        long request = ++requests;
        fetchInFlight.put(leaderId, request);
        long at = incarnation;
        // No answer within the socket timeout: the connection is dropped, and with it any late answer.
        loop.after(500, () -> {
            if (incarnation == at) {
                fetchInFlight.remove(leaderId, request);
            }
        });
        SimNode leader = peers.get(leaderId);
        send(leaderId, () -> {
            List<FollowerFetchLogic.Fetched> answers = leader.answerFetch(id, positions);
            leader.send(id, () -> onAnswer(leaderId, logic, request, () -> logic.onFetched(answers, loop.nowMs())));
        });
    }

    private interface Io {
        void run() throws IOException;
    }

    private void onAnswer(int leaderId, FollowerFetchLogic logic, long request, Io apply) {
        if (fetchers.get(leaderId) != logic || !fetchInFlight.remove(leaderId, request)) {
            return;
        }
        try {
            apply.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- the leader's side of replication (a model of the node's Fetch handling) ----

    private Partition servingLeader(TopicPartition tp, int currentLeaderEpoch) {
        Partition p = roles.partition(tp);
        return p != null && roles.leaderCheck(p, currentLeaderEpoch) == NodeRoles.LeaderCheck.SERVES ? p : null;
    }

    List<FollowerFetchLogic.Fetched> answerFetch(int followerId, List<FollowerFetchLogic.FetchPosition> positions) {
        List<FollowerFetchLogic.Fetched> answers = new ArrayList<>();
        for (FollowerFetchLogic.FetchPosition pos : positions) {
            Partition p = servingLeader(pos.partition(), pos.currentLeaderEpoch());
            if (p != null && pos.topicId() != null && !pos.topicId().equals(p.log().topicId())) {
                p = null; // an earlier topic's log under this name: refused, as INCONSISTENT_TOPIC_ID is on the wire
            }
            if (p == null) {
                answers.add(new FollowerFetchLogic.Fetched(pos.partition(), pos.currentLeaderEpoch(), FollowerFetchLogic.Fetched.Outcome.REFUSED, null, -1, -1, pos.topicId()));
                continue;
            }
            PartitionLog log = p.log();
            long[] diverging = log.divergingEpoch(pos.lastFetchedEpoch(), pos.fetchOffset());
            if (diverging != null) {
                // As the fetch handler: the follower is told where its history parts, and its offset counts for nothing yet.
                answers.add(FollowerFetchLogic.Fetched.diverging(pos.partition(), pos.currentLeaderEpoch(), log.highWatermark(),
                        log.logStartOffset(), pos.topicId(), (int) diverging[0], diverging[1]));
                continue;
            }
            roles.onFollowerFetch(p, followerId, pos.fetchOffset(), pos.logStartOffset(), "");
            LogReadResult read = p.read(pos.fetchOffset(), FETCH_MAX_BYTES, ReadBound.LOG_END, true);
            if (read.error() == LogError.OFFSET_OUT_OF_RANGE) {
                answers.add(new FollowerFetchLogic.Fetched(pos.partition(), pos.currentLeaderEpoch(), FollowerFetchLogic.Fetched.Outcome.OUT_OF_RANGE, null,
                        log.highWatermark(), log.logStartOffset(), pos.topicId()));
            } else if (read.error() != LogError.NONE) {
                answers.add(new FollowerFetchLogic.Fetched(pos.partition(), pos.currentLeaderEpoch(), FollowerFetchLogic.Fetched.Outcome.REFUSED, null, -1, -1, pos.topicId()));
            } else {
                try {
                    ByteBuffer bytes = read.slice().size() == 0 ? ByteBuffer.allocate(0) : read.slice().readIntoHeap();
                    read.slice().release();
                    answers.add(new FollowerFetchLogic.Fetched(pos.partition(), pos.currentLeaderEpoch(), FollowerFetchLogic.Fetched.Outcome.RECORDS, bytes,
                            log.highWatermark(), log.logStartOffset(), pos.topicId()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return answers;
    }

    // ---- produce (a model of the produce handler, acks=all) ------------------------------------

    /** A write arriving from a client: handled now, or once this node resumes from a pause. */
    void produceWhenRunning(TopicPartition tp, ByteBuffer batch, Consumer<Written> answer) {
        onNode(incarnation, () -> produce(tp, batch, answer));
    }

    /** The leader's side of an acks=all write, through the partition's own write path; {@code answer} gets what it did. */
    private void produce(TopicPartition tp, ByteBuffer batch, Consumer<Written> answer) {
        Partition p = roles.partition(tp);
        if (p == null) {
            answer.accept(NOT_HOSTED);
            return;
        }
        // A retry sends the same bytes again: the log must not see a buffer an earlier attempt consumed.
        p.append(batch.duplicate(), Acks.ALL, PRODUCE_WAIT_MS, loop.nowMs()).thenAccept(answer);
    }

    /** The answer to a write for a partition this node does not host. */
    private static final Written NOT_HOSTED = new Written(io.spate.replication.WriteError.NOT_LEADER, LogError.NONE,
            "not hosted here", -1, -1, -1);

    /**
     * DeleteRecords arriving from an admin client, as {@code PartitionAdmin} serves it: only a
     * serving leader moves its log start (never past its high watermark), and the move is made
     * durable before {@code answer} gets the new log start (-1 when refused).
     */
    void deleteRecordsWhenRunning(TopicPartition tp, long offset, java.util.function.LongConsumer answer) {
        onNode(incarnation, () -> {
            Partition p = roles.partition(tp);
            if (p == null || !roles.servesAsLeader(p)) {
                answer.accept(-1);
                return;
            }
            try {
                long start = p.log().deleteRecordsBefore(offset);
                logs.writeCheckpoints();
                answer.accept(start);
            } catch (IllegalArgumentException | java.io.IOException e) {
                answer.accept(-1);
            }
        });
    }

    // ---- the coordinator (the real runtime, on this node's partitions of the offsets topic) ---

    private CoordinatorRuntime<SimOffsets, SimOffsets.Commit> newCoordinator() {
        CoordinatorRuntime.Partitions offsetsPartitions = new CoordinatorRuntime.Partitions() {
            @Override
            public Partition partition(int p) {
                return roles == null ? null : roles.partition(new TopicPartition(SimOffsets.TOPIC, p));
            }

            @Override
            public boolean leads(Partition partition) {
                return roles != null && roles.servesAsLeader(partition);
            }
        };
        return new CoordinatorRuntime<>(SimOffsets.TOPIC, loop, loop, offsetsPartitions, context -> new SimOffsets(), SimOffsets.SERDE,
                COMMIT_WAIT_MS);
    }

    /** A group's commit arriving from a client; {@code answer} gets whether it was acknowledged. */
    void commitWhenRunning(String group, long offset, Consumer<Boolean> answer) {
        onNode(incarnation, () -> coordinator.write(0, shard -> shard.commit(group, offset))
                .whenComplete((committed, failure) -> answer.accept(failure == null)));
    }

    /** A fetch of a group's committed offset; answered only when this node coordinates the group (loaded, leading). */
    void fetchCommittedWhenRunning(String group, java.util.function.LongConsumer answer) {
        onNode(incarnation, () -> coordinator.read(0, shard -> shard.committed(group)).thenAccept(answer::accept));
    }

    // ---- metadata -------------------------------------------------------------------------------

    void applyImage(ClusterImage next) {
        roles.applyImage(next);
        completeVersionWaiters();
    }

    private void completeVersionWaiters() {
        ClusterImage image = roles.lastImage();
        var due = versionWaiters.headMap(image.version(), true);
        List<java.util.concurrent.CompletableFuture<ClusterImage>> reached = new ArrayList<>();
        due.values().forEach(reached::addAll);
        due.clear();
        reached.forEach(f -> f.complete(image));
    }

    // ---- what the checks read ----------------------------------------------------------------

    /** This process's partitions (none while it is down): a view, read after every event. */
    Map<TopicPartition, Partition> partitions() {
        return roles == null ? Map.of() : roles.partitionsByName();
    }
}
