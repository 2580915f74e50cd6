package io.spate.testkit.sim;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.NodeInfo;
import io.spate.cluster.PartitionState;
import io.spate.cluster.TopicState;
import io.spate.log.AppendResult;
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
import io.spate.replication.PartitionContext;
import io.spate.testkit.disk.SimDisk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One node: its real logs and {@link Partition}s, one {@link FollowerFetchLogic} per leader it
 * copies from, and, as a model of the node's glue (ReplicaManager, IsrChangeSender, the cluster
 * member), the way it takes roles from images, heartbeats, keeps its lease and asks for in-sync
 * set changes. Every message goes through the {@link SimNetwork} and the {@link EventLoop}.
 */
public final class SimNode {
    static final int FETCH_MAX_BYTES = 64 * 1024;
    /** How long a write waits for the in-sync replicas: the Kafka client's default request timeout. */
    static final long PRODUCE_WAIT_MS = 30_000;
    /** How long a group's commit waits for the in-sync replicas: Kafka's offsets.commit.timeout.ms. */
    static final long COMMIT_WAIT_MS = 5_000;

    private final int id;
    /** This node's machine's disk: survives a kill, loses what was not fsynced in a power loss. */
    private final SimDisk disk;
    private final EventLoop loop;
    private final SimNetwork network;
    private final SimController controller;
    private final Map<Integer, SimNode> peers;
    private final Map<String, String> topicConfig;
    private final long leaseMs;
    private final long lagTimeMaxMs;
    private final Consumer<String> trace;
    private final Consumer<String> violation;
    /** The partitions' node services: fsync in place, this node's lease, deadlines as events of the loop. */
    private final PartitionContext partitionContext;
    /** This process's coordinator runtime (the real one) over the offsets topic; null while the node is down. */
    private CoordinatorRuntime<SimOffsets, SimOffsets.Commit> coordinator;

    private long incarnation;
    private boolean alive;
    private long pausedUntilMs = -1;
    private LogManager logs;
    private final Map<TopicPartition, Partition> partitions = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
    private final Map<Integer, FollowerFetchLogic> fetchers = new TreeMap<>();
    /** Per leader, the request now out to it (0: none). One at a time, as on the fetcher's one connection. */
    private final Map<Integer, Long> fetchInFlight = new HashMap<>();
    private long requests;
    private ClusterImage image = ClusterImage.EMPTY;
    private long leaseUntilMs = -1;
    private boolean selfFenced = true;
    /** A registration of this incarnation was answered: later ones say the shutdown was clean. */
    private boolean registeredOnce;

    SimNode(int id, SimDisk disk, EventLoop loop, SimNetwork network, SimController controller, Map<Integer, SimNode> peers,
            Map<String, String> topicConfig, long leaseMs, long lagTimeMaxMs, Consumer<String> trace, Consumer<String> violation) {
        this.id = id;
        this.disk = disk;
        this.loop = loop;
        this.network = network;
        this.controller = controller;
        this.peers = peers;
        this.topicConfig = topicConfig;
        this.leaseMs = leaseMs;
        this.lagTimeMaxMs = lagTimeMaxMs;
        this.trace = trace;
        this.violation = violation;
        this.partitionContext = new PartitionContext(GroupCommit.IN_PLACE, this::holdsLease, loop, new LeadershipListener() {
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
        });
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
        if (network.reaches(SimNetwork.CONTROLLER, id)) {
            long at = incarnation;
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
        image = ClusterImage.EMPTY;
        leaseUntilMs = -1;
        selfFenced = true;
        try {
            logs = LogManager.openWithoutDuties(disk.root().resolve("data"), Clock.fixed(Instant.ofEpochMilli(loop.nowMs()), ZoneOffset.UTC));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        coordinator = newCoordinator();
        long at = incarnation;
        trace.accept("node " + id + " starts (incarnation " + at + ")");
        registeredOnce = false;
        toController(() -> controller.heard(id, at));
        register();
    }

    /**
     * As the cluster member registers: unclean until a registration of this process has been
     * answered (every start in the simulation follows a kill or a power loss), clean afterwards,
     * since a process that did not stop lost nothing.
     */
    private void register() {
        long at = incarnation;
        boolean clean = registeredOnce;
        toController(() -> {
            CommandResult result = controller.commit(new MetadataCommand.RegisterNode(id, "sim", id, at, clean));
            fromController(() -> {
                if (result.succeeded()) {
                    registeredOnce = true;
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
        partitions.clear();
        fetchers.clear();
        fetchInFlight.clear();
        logs.halt();
        logs = null;
        disk.kill();
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

    /** A heartbeat to the controller; its answer renews the lease from the moment it was sent. */
    void heartbeat() {
        onNode(incarnation, () -> {
            long sentAt = loop.nowMs();
            long at = incarnation;
            toController(() -> {
                // Not registered as this process (its registration was lost), or fenced: it must register (again).
                boolean fenced = !controller.heartbeat(id, at).join().registered();
                fromController(() -> onHeartbeatAnswer(sentAt, fenced));
            });
            checkLease();
        });
    }

    private void onHeartbeatAnswer(long sentAt, boolean fenced) {
        if (fenced) {
            // The controller fenced this incarnation: register again, as the cluster member does.
            register();
            return;
        }
        leaseUntilMs = Math.max(leaseUntilMs, sentAt + leaseMs);
        checkLease();
    }

    private void checkLease() {
        boolean fenced = loop.nowMs() >= leaseUntilMs;
        if (fenced != selfFenced) {
            selfFenced = fenced;
            trace.accept("node " + id + (fenced ? " lost its lease" : " holds its lease again"));
            applyImage(image);
        }
    }

    long imageVersion() {
        return image.version();
    }

    boolean lease() {
        return holdsLease();
    }

    boolean holdsLease() {
        return loop.nowMs() < leaseUntilMs;
    }

    /** The controller delivers its latest image when this node's is older. */
    void catchUpMetadata() {
        ClusterImage latest = controller.image();
        if (alive && image.version() < latest.version()) {
            fromController(() -> {
                if (latest.version() > image.version()) {
                    applyImage(latest);
                }
            });
        }
    }

    /** Retries of unanswered in-sync set changes and shrinks for lagging followers. */
    void checkInSyncSets() {
        onNode(incarnation, () -> {
            for (Partition p : partitions.values()) {
                List<Integer> retry = p.isrChangeToRetry();
                if (retry != null) {
                    propose(p, retry);
                    continue;
                }
                List<Integer> shrunk = p.laggingIsr(loop.nowMs(), lagTimeMaxMs);
                if (shrunk != null) {
                    propose(p, shrunk);
                }
            }
        });
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
        List<FollowerFetchLogic.EpochQuery> queries = logic.epochQueries();
        List<FollowerFetchLogic.FetchPosition> positions = queries.isEmpty() ? logic.fetchPositions() : List.of();
        if (queries.isEmpty() && positions.isEmpty()) {
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
            if (!queries.isEmpty()) {
                List<FollowerFetchLogic.EpochEnd> answers = leader.answerEpochQueries(queries);
                leader.send(id, () -> onAnswer(leaderId, logic, request, () -> logic.onEpochEnds(answers)));
            } else {
                List<FollowerFetchLogic.Fetched> answers = leader.answerFetch(id, positions);
                leader.send(id, () -> onAnswer(leaderId, logic, request, () -> logic.onFetched(answers, loop.nowMs())));
            }
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

    // ---- the leader's side of replication (a model of the node's Fetch and OffsetForLeaderEpoch handling) ----

    private Partition servingLeader(TopicPartition tp, int currentLeaderEpoch) {
        Partition p = partitions.get(tp);
        if (p == null || !p.isLeader() || !holdsLease() || p.leaderEpoch() != currentLeaderEpoch) {
            return null;
        }
        return p;
    }

    List<FollowerFetchLogic.EpochEnd> answerEpochQueries(List<FollowerFetchLogic.EpochQuery> queries) {
        List<FollowerFetchLogic.EpochEnd> answers = new ArrayList<>();
        for (FollowerFetchLogic.EpochQuery q : queries) {
            Partition p = servingLeader(q.partition(), q.currentLeaderEpoch());
            if (p == null) {
                answers.add(new FollowerFetchLogic.EpochEnd(q.partition(), q.currentLeaderEpoch(), false, -1, -1));
            } else {
                long[] end = p.log().endOffsetForEpoch(q.epoch());
                answers.add(new FollowerFetchLogic.EpochEnd(q.partition(), q.currentLeaderEpoch(), true, (int) end[0], end[1]));
            }
        }
        return answers;
    }

    List<FollowerFetchLogic.Fetched> answerFetch(int followerId, List<FollowerFetchLogic.FetchPosition> positions) {
        List<FollowerFetchLogic.Fetched> answers = new ArrayList<>();
        for (FollowerFetchLogic.FetchPosition pos : positions) {
            Partition p = servingLeader(pos.partition(), pos.currentLeaderEpoch());
            if (p == null) {
                answers.add(new FollowerFetchLogic.Fetched(pos.partition(), pos.currentLeaderEpoch(), FollowerFetchLogic.Fetched.Outcome.REFUSED, null, -1, -1));
                continue;
            }
            NodeInfo follower = image.node(followerId);
            boolean mayJoin = follower != null && !follower.fenced();
            List<Integer> proposal = p.onFollowerFetch(followerId, pos.fetchOffset(), loop.nowMs(), "", mayJoin);
            if (proposal != null) {
                if (!mayJoin && !p.isr().contains(followerId) && proposal.contains(followerId)) {
                    // The controller would refuse it, a metadata entry spent for nothing on every fetch (KIP-841).
                    violation.accept("node " + id + " asked for " + followerId + " to join the in-sync set of " + p.topicPartition()
                            + " though its own metadata has that node fenced");
                }
                propose(p, proposal);
            }
            PartitionLog log = p.log();
            LogReadResult read = p.read(pos.fetchOffset(), FETCH_MAX_BYTES, ReadBound.LOG_END, true);
            if (read.error() == LogError.OFFSET_OUT_OF_RANGE) {
                answers.add(new FollowerFetchLogic.Fetched(pos.partition(), pos.currentLeaderEpoch(), FollowerFetchLogic.Fetched.Outcome.OUT_OF_RANGE, null,
                        log.highWatermark(), log.logStartOffset()));
            } else if (read.error() != LogError.NONE) {
                answers.add(new FollowerFetchLogic.Fetched(pos.partition(), pos.currentLeaderEpoch(), FollowerFetchLogic.Fetched.Outcome.REFUSED, null, -1, -1));
            } else {
                try {
                    ByteBuffer bytes = read.slice().size() == 0 ? ByteBuffer.allocate(0) : read.slice().readIntoHeap();
                    read.slice().release();
                    answers.add(new FollowerFetchLogic.Fetched(pos.partition(), pos.currentLeaderEpoch(), FollowerFetchLogic.Fetched.Outcome.RECORDS, bytes,
                            log.highWatermark(), log.logStartOffset()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return answers;
    }

    // ---- in-sync set changes (a model of IsrChangeSender) -------------------------------------

    private void propose(Partition p, List<Integer> proposal) {
        if (!p.beginIsrChange(proposal)) {
            return;
        }
        TopicPartition tp = p.topicPartition();
        int basedOn = p.partitionEpoch();
        MetadataCommand.AlterIsr command = new MetadataCommand.AlterIsr(tp.topic(), tp.partition(), id, p.leaderEpoch(), basedOn, List.copyOf(proposal));
        trace.accept("node " + id + " asks " + command);
        boolean[] settled = {false};
        long at = incarnation;
        // No answer within the timeout: the outcome is unknown and the change is asked for again.
        loop.after(1_000, () -> onNode(at, () -> settle(p, proposal, basedOn, Partition.IsrChangeOutcome.UNKNOWN, settled)));
        toController(() -> {
            CommandResult result = controller.commit(command);
            fromController(() -> {
                if (result.succeeded()) {
                    settle(p, proposal, basedOn, Partition.IsrChangeOutcome.COMMITTED, settled);
                } else {
                    // A refusal counts once this node's metadata has caught up with it.
                    awaitVersion(result.version(), () -> settle(p, proposal, basedOn, Partition.IsrChangeOutcome.REFUSED, settled));
                }
            });
        });
    }

    private void awaitVersion(long version, Runnable then) {
        if (image.version() >= version) {
            then.run();
        } else {
            long at = incarnation;
            loop.after(10, () -> onNode(at, () -> awaitVersion(version, then)));
        }
    }

    private void settle(Partition p, List<Integer> proposal, int basedOn, Partition.IsrChangeOutcome outcome, boolean[] settled) {
        if (settled[0] || partitions.get(p.topicPartition()) != p) {
            return;
        }
        settled[0] = true;
        p.endIsrChange(proposal, basedOn, outcome);
    }

    // ---- produce (a model of the produce handler, acks=all) ------------------------------------

    /** A write arriving from a client: handled now, or once this node resumes from a pause. */
    void produceWhenRunning(TopicPartition tp, ByteBuffer batch, java.util.function.LongConsumer answer) {
        onNode(incarnation, () -> produce(tp, batch, answer));
    }

    /** The leader's side of an acks=all write, through the partition's own write path; {@code answer} gets the base offset, or -1. */
    private void produce(TopicPartition tp, ByteBuffer batch, java.util.function.LongConsumer answer) {
        Partition p = partitions.get(tp);
        if (p == null) {
            answer.accept(-1);
            return;
        }
        p.append(batch, Acks.ALL, PRODUCE_WAIT_MS, loop.nowMs()).thenAccept(written -> answer.accept(written.ok() ? written.baseOffset() : -1));
    }

    // ---- the coordinator (the real runtime, on this node's partitions of the offsets topic) ---

    private CoordinatorRuntime<SimOffsets, SimOffsets.Commit> newCoordinator() {
        CoordinatorRuntime.Partitions offsetsPartitions = new CoordinatorRuntime.Partitions() {
            @Override
            public Partition partition(int p) {
                return partitions.get(new TopicPartition(SimOffsets.TOPIC, p));
            }

            @Override
            public boolean leads(Partition partition) {
                return partition.isLeader() && holdsLease();
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

    // ---- roles (a model of ReplicaManager.applyImage) ----------------------------------------

    void applyImage(ClusterImage next) {
        image = next;
        for (TopicState topic : next.topics().values()) {
            for (int i = 0; i < topic.partitions().size(); i++) {
                PartitionState state = topic.partitions().get(i);
                if (!state.replicas().contains(id)) {
                    continue;
                }
                TopicPartition tp = new TopicPartition(topic.name(), i);
                Partition p = partitions.get(tp);
                if (p == null) {
                    PartitionLog log;
                    try {
                        log = logs.getOrCreate(tp, LogConfig.from(topicConfig));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    log.resetHighWatermark(log.checkpointedHighWatermark());
                    p = new Partition(tp, log, id, Partition.Role.FOLLOWER, partitionContext);
                    partitions.put(tp, p);
                }
                applyRole(p, state, next);
            }
        }
    }

    private void applyRole(Partition p, PartitionState state, ClusterImage next) {
        TopicPartition tp = p.topicPartition();
        NodeInfo self = next.node(id);
        boolean registered = self != null && !self.fenced() && self.incarnation() == incarnation;
        if (state.leader() == id && !selfFenced && registered) {
            unfollow(tp);
            if (p.role() != Partition.Role.LEADER || p.leaderEpoch() != state.leaderEpoch()) {
                trace.accept("node " + id + " leads " + tp + " at epoch " + state.leaderEpoch() + " isr " + state.isr());
            }
            p.becomeLeader(state.leaderEpoch(), state.partitionEpoch(), state.replicas(), state.isr(), loop.nowMs());
            return;
        }
        int leader = state.leader() == id ? PartitionState.NO_LEADER : state.leader();
        p.becomeFollower(state.leaderEpoch(), state.partitionEpoch(), leader, state.replicas(), state.isr());
        NodeInfo leaderNode = leader < 0 ? null : next.node(leader);
        if (leaderNode == null || leaderNode.fenced()) {
            unfollow(tp);
            return;
        }
        for (Map.Entry<Integer, FollowerFetchLogic> e : fetchers.entrySet()) {
            if (e.getKey() != leader) {
                e.getValue().unfollow(tp);
            }
        }
        fetchers.computeIfAbsent(leader, FollowerFetchLogic::new).follow(p, state.leaderEpoch());
    }

    private void unfollow(TopicPartition tp) {
        fetchers.values().forEach(f -> f.unfollow(tp));
    }

    // ---- what the checks read ----------------------------------------------------------------

    Map<TopicPartition, Partition> partitions() {
        return partitions;
    }
}
