package io.spate.server.cluster;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.ClusterSettings;
import io.spate.cluster.CommandResult;
import io.spate.cluster.Controller;
import io.spate.cluster.LivenessTracker;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.NodeInfo;
import io.spate.cluster.TopicState;
import io.spate.cluster.local.LocalMetadataLog;
import io.spate.cluster.ratis.RatisMetadataLog;
import io.spate.server.metadata.Base64Ids;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.partition.ReplicaManager;
import io.spate.replication.node.LeaderLease;
import io.spate.replication.node.NodeRoles;
import org.apache.kafka.common.message.BrokerHeartbeatRequestData;
import org.apache.kafka.common.message.BrokerHeartbeatResponseData;
import org.apache.kafka.common.requests.BrokerHeartbeatRequest;
import org.apache.kafka.common.requests.BrokerHeartbeatResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.spate.log.ScheduledTasks;
import io.spate.time.Scheduler;
import io.spate.time.SystemScheduler;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * This node's membership of the cluster: it runs its controller voter (if it is one), registers
 * itself, sends heartbeats, and turns every committed metadata image into local action (topics
 * known to the handlers, partitions led or followed). When it cannot reach the controller for
 * longer than its session timeout it stops leading on its own, since by then the controller
 * has fenced it and another replica leads.
 */
public final class ClusterMember implements AutoCloseable {
    /**
     * Kafka's error codes for NONE and NOT_CONTROLLER, as constants: the first use of
     * kafka-clients' {@code Errors} builds its table of every error (0.2 to 0.35 s of one core
     * cold), and a node's first heartbeat, which its start waits for, needs only these two
     * ({@code ClusterMemberErrorCodesTest} checks they are Kafka's).
     */
    static final short NO_ERROR = 0;
    static final short NOT_CONTROLLER = 41;

    private static final Logger log = LoggerFactory.getLogger(ClusterMember.class);
    /** How soon a heartbeat no controller answered is followed by the next (at most the heartbeat interval). */
    private static final long UNANSWERED_RETRY_MS = 50;

    private final ClusterSettings settings;
    private final MetadataLog metadata;
    private final Controller controller;
    private final LivenessTracker liveness;
    /** Heartbeats block on a socket: they get a scheduler (a thread) of their own so nothing else waits behind them. */
    private final SystemScheduler heartbeats;
    private ControllerConnection controllerConnection;
    private final HeartbeatTarget heartbeatTarget;
    /** The clock every liveness, lease and pause decision here reads (the liveness tracker's, so the controller agrees). */
    private final io.spate.time.Time time;
    private final long incarnation;
    /** The in-sync set checks of the partitions this node leads. */
    private final SystemScheduler checks;
    private volatile boolean closed;
    /** The registration sent after the controller fenced this node, until it is committed; null otherwise. */
    private volatile Reregistration reregistration;
    private TopicRegistry registry;
    private ReplicaManager replicas;
    /** The decisions on this node's lease, self-fencing and registrations (the replica manager's). */
    private NodeRoles roles;
    private String host;
    private int port;
    /** Where this node's tables take messages from other nodes, advertised in its registration. */
    private volatile int tablesPort = io.spate.cluster.NodeInfo.NO_TABLES_PORT;
    private final LeaderLease lease;
    private final PauseWatch pauseWatch;
    private volatile String heartbeatClientId;
    /**
     * This node is its own, only controller voter, with no other node (a standalone node): nobody
     * can fence it or take its leaderships, so it neither loses its lease nor fences itself when
     * its heartbeats run late (a collection pause or a starved machine must not stop it serving).
     */
    private final boolean alone;
    /** The other nodes' copies of the metadata, as their heartbeats to this node's controller report them (DescribeQuorum's observers). */
    private final io.spate.cluster.CatchUpTracker observers = new io.spate.cluster.CatchUpTracker();
    /** The client id of a DescribeQuorum one node passes on to the controller's: the receiver answers it itself or refuses it, never passes it on. */
    public static final String FORWARDED_CLIENT_ID = "spate-forwarded";

    private ClusterMember(ClusterSettings settings, MetadataLog metadata, Controller controller, LivenessTracker liveness, boolean alone) {
        this.settings = settings;
        this.heartbeatTarget = new HeartbeatTarget(settings.voters().stream().map(ClusterSettings.Voter::id).toList(), settings.isVoter());
        this.alone = alone;
        this.time = liveness.time();
        this.incarnation = time.millis();
        this.lease = alone ? LeaderLease.withoutExpiry() : LeaderLease.forSession(settings.sessionTimeoutMs());
        // A gap of an election timeout: followers wait at least that long without hearing from their
        // leader before they elect another, so shorter pauses cannot have let another voter win (half
        // of it made a busy five-node test cluster refuse heartbeats for scheduling hiccups).
        this.pauseWatch = new PauseWatch(settings.electionTimeoutMs() * 1_000_000L, 100_000_000L, time.nanos());
        this.metadata = metadata;
        this.controller = controller;
        this.liveness = liveness;
        this.heartbeats = new SystemScheduler("spate-heartbeat");
        this.checks = new SystemScheduler("spate-cluster-member");
    }

    /** Starts the metadata log (and this node's voter and controller duties, if it is a voter). */
    public static ClusterMember start(ClusterSettings settings) throws IOException {
        return start(settings, io.spate.cluster.NodeCredentials.forCluster("", settings.voters()));
    }

    /** As above; {@code credentials} sign this node's heartbeats. */
    public static ClusterMember start(ClusterSettings settings, io.spate.cluster.NodeCredentials credentials) throws IOException {
        return start(settings, credentials, io.spate.time.Time.SYSTEM);
    }

    /** As above, on {@code time}: heartbeats, fencing, the lease and the pause watch all read it. */
    public static ClusterMember start(ClusterSettings settings, io.spate.cluster.NodeCredentials credentials, io.spate.time.Time time) throws IOException {
        LivenessTracker liveness = new LivenessTracker(settings.sessionTimeoutMs(), time);
        return start(settings, credentials, liveness, RatisMetadataLog.start(settings, liveness), false);
    }

    /**
     * A node that is its own, only controller voter (a standalone node): the same membership, over a
     * metadata log in a local file ({@link LocalMetadataLog}, in the settings' metadata directory)
     * instead of a Raft quorum.
     */
    public static ClusterMember startAlone(ClusterSettings settings, io.spate.time.Time time) throws IOException {
        if (settings.voters().size() != 1 || !settings.isVoter()) {
            throw new IllegalArgumentException("a node alone must be the only controller voter, not one of " + settings.voters());
        }
        LivenessTracker liveness = new LivenessTracker(settings.sessionTimeoutMs(), time);
        return start(settings, io.spate.cluster.NodeCredentials.none(), liveness, LocalMetadataLog.open(settings.metadataDir(), settings.nodeId()), true);
    }

    private static ClusterMember start(ClusterSettings settings, io.spate.cluster.NodeCredentials credentials, LivenessTracker liveness,
                                       MetadataLog metadata, boolean alone) {
        Controller controller = settings.isVoter() ? new Controller(metadata, liveness, settings) : null;
        if (controller != null) {
            controller.start();
        }
        ClusterMember member = new ClusterMember(settings, metadata, controller, liveness, alone);
        Thread.ofPlatform().name("spate-pause-watch").daemon().start(member::watchForPauses);
        member.heartbeatClientId = "spate-node-" + settings.nodeId() + credentials.token(settings.nodeId());
        return member;
    }

    public MetadataLog metadata() {
        return metadata;
    }

    public int nodeId() {
        return settings.nodeId();
    }

    /** This run's broker epoch: the incarnation its registrations carry, larger with every start. */
    public long incarnation() {
        return incarnation;
    }

    /** Advertises the tables' listener port in this node's registrations; called before {@link #join}. */
    public void advertiseTablesPort(int port) {
        this.tablesPort = port;
    }

    /** A cluster id every node derives alike from the controller quorum. */
    public String clusterId() {
        String voters = settings.voters().toString();
        java.util.UUID uuid = java.util.UUID.nameUUIDFromBytes(("spate-cluster:" + voters).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return Base64Ids.toText(uuid);
    }

    /**
     * Joins: follows metadata into {@code registry} and {@code replicas}, registers under the
     * listener's address, and waits (up to {@code timeoutMs}) until the registration is committed.
     */
    public void join(TopicRegistry topicRegistry, ReplicaManager replicaManager, String listenerHost, int listenerPort, long timeoutMs) throws IOException {
        this.registry = topicRegistry;
        this.replicas = replicaManager;
        this.roles = replicaManager.roles();
        roles.join(incarnation, lease, settings.sessionTimeoutMs(), settings.heartbeatTimeoutMs(), alone);
        this.host = listenerHost;
        this.port = listenerPort;
        metadata.subscribe(this::apply);
        scheduleHeartbeats();
        repeat(checks, "in-sync replica check", 1000, 1000, replicas::checkLaggingFollowers);
        long deadline = time.nanos() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        try {
            CommandResult result = registerBefore(deadline);
            metadata.awaitVersion(result.version()).get(Math.max(1, deadline - time.nanos()), TimeUnit.NANOSECONDS);
            // One heartbeat answered before the node reports itself started, so that it leads what
            // it should at once instead of a heartbeat interval later (a standalone node answers
            // its first request then).
            java.util.concurrent.CompletableFuture<Void> heartbeatAnswered = new java.util.concurrent.CompletableFuture<>();
            heartbeats.schedule(0, () -> {
                try {
                    heartbeat();
                } finally {
                    heartbeatAnswered.complete(null);
                }
            });
            try {
                heartbeatAnswered.get(Math.max(settings.heartbeatTimeoutMs() * 1_000_000L, deadline - time.nanos()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException late) {
                // Registered all the same: the node leads once a later heartbeat is answered.
                log.info("registered, but no heartbeat answered yet; leading once one is");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while joining the cluster", e);
        } catch (Exception e) {
            throw new IOException("could not register with the controller quorum " + settings.voters() + " within " + timeoutMs
                    + " ms (are a majority of the controllers running?): " + e.getMessage(), e);
        }
    }

    /**
     * Registers, trying again until {@code deadline} (nanoseconds on the member's clock) when a request fails: one
     * failed request (the quorum still electing, or busy) must not stop the node from starting
     * while the join timeout still has time left. One attempt waits a few election timeouts at
     * most: a request sent before this node knew the quorum's leader may have gone to a voter that
     * is down or paused and waits out the client's timeout there, while a new one goes to the
     * leader known by then. Registering twice under one incarnation changes nothing.
     */
    private long registrationAttemptNanos() {
        return TimeUnit.MILLISECONDS.toNanos(Math.max(1_000, 4 * settings.electionTimeoutMs()));
    }

    private CommandResult registerBefore(long deadline) throws Exception {
        long started = time.nanos();
        long attemptNanos = registrationAttemptNanos();
        for (int attempt = 1; ; attempt++) {
            long left = deadline - time.nanos();
            try {
                CommandResult result = register().get(Math.max(1, Math.min(left, attemptNanos)), TimeUnit.NANOSECONDS);
                log.info("registered with the controller quorum in {} ms ({} attempt(s))",
                        TimeUnit.NANOSECONDS.toMillis(time.nanos() - started), attempt);
                return result;
            } catch (java.util.concurrent.ExecutionException e) {
                if (deadline - time.nanos() <= 0) {
                    throw e;
                }
                log.info("registering with the controller quorum failed ({}); trying again", e.getCause().toString());
                Thread.sleep(100);
            } catch (java.util.concurrent.TimeoutException e) {
                if (deadline - time.nanos() <= 0) {
                    throw e;
                }
                log.info("no answer to registration attempt {} within {} ms (controller leader now {}); asking again",
                        attempt, TimeUnit.NANOSECONDS.toMillis(attemptNanos), metadata.controllerLeader());
            }
        }
    }

    private java.util.concurrent.CompletableFuture<CommandResult> register() {
        // Clean when this process's logs were closed cleanly last time, or when it registers again
        // without having stopped (nothing unflushed was lost in between).
        boolean clean = roles.registersClean(replicas.logManager().wasCleanShutdown());
        return metadata.submit(new MetadataCommand.RegisterNode(settings.nodeId(), host, port, incarnation, clean, replicas.rack(), tablesPort)).whenComplete((r, e) -> {
            if (e == null && r.succeeded()) {
                roles.onRegistered(r.version());
            }
        });
    }

    /**
     * Heartbeats every {@code heartbeatMs}, and sooner after one that no controller answered: when
     * the controller's node dies, the quorum elects another in about a session here, and a node
     * that waited a whole interval to ask again found it only after its lease had lapsed.
     */
    private void scheduleHeartbeats() {
        repeat(heartbeats, "heartbeat", 0, settings.heartbeatMs(),
                () -> heartbeat() ? settings.heartbeatMs() : Math.min(settings.heartbeatMs(), UNANSWERED_RETRY_MS));
    }

    /** False when a heartbeat went out and no controller answered it (fenced or not): ask again soon. */
    private boolean heartbeat() {
        try {
            long now = time.nanos();
            if (!roles.beforeHeartbeat(now, replicas.logManager().offlineReason())) {
                return true;
            }
            followUpReregistration(now);
            BrokerHeartbeatResponseData reply = sendHeartbeat();
            if (reply == null) {
                return false;
            }
            NodeRoles.AfterAnswer next = roles.onHeartbeatAnswer(now, reply.isFenced(), reply.isCaughtUp(), metadata.image().version());
            if (!reply.isCaughtUp()) {
                // A node that is not a voter learns images only by asking; a voter's are on their way
                // unless its replica is stuck, which refresh() watches for.
                metadata.refresh();
            }
            if (next == NodeRoles.AfterAnswer.REGISTER_AGAIN) {
                reregistration = new Reregistration(now, now, metadata.controllerLeader(), register(), 1);
            }
            return true;
        } catch (RuntimeException e) {
            log.debug("heartbeat failed", e);
            return false;
        }
    }

    /**
     * Sends the registration again when its answer is overdue or the quorum's leader changed since
     * it was sent: the request waits out the client's timeout (seconds) at a leader that is paused
     * or cut off, while this node stays fenced and out of every in-sync set (the fault campaigns
     * saw a node fenced during a controller failover register five seconds late, seed 3026).
     * Registering twice under one incarnation changes nothing.
     */
    private void followUpReregistration(long now) {
        Reregistration pending = reregistration;
        if (pending == null) {
            if (roles.registeringAgain() && !roles.leaving()) {
                // Asked for, but the request was never made (it threw): make it now.
                reregistration = new Reregistration(now, now, metadata.controllerLeader(), register(), 1);
            }
            return;
        }
        if (roles.leaving()) {
            // Stopping: registering again would let the node back in (and lead) as it closes.
            reregistration = null;
            return;
        }
        var answer = pending.answer();
        if (answer.isDone() && !answer.isCompletedExceptionally() && answer.join().succeeded()) {
            log.info("registered again {} ms after the controller fenced this node ({} attempt(s))",
                    TimeUnit.NANOSECONDS.toMillis(now - pending.firstSentNanos()), pending.attempt());
            reregistration = null;
            return;
        }
        // Sent again to a new leader, or after a failed answer; a request merely overdue at the same
        // leader waits in the same client's queue, so it is sent again only once an attempt's time passed.
        int leader = metadata.controllerLeader();
        boolean leaderMoved = leader >= 0 && leader != pending.controllerLeader();
        if (answer.isDone() || leaderMoved || now - pending.sentNanos() > registrationAttemptNanos()) {
            reregistration = new Reregistration(pending.firstSentNanos(), now, leader, register(), pending.attempt() + 1);
        }
    }

    private record Reregistration(long firstSentNanos, long sentNanos, int controllerLeader,
                                  java.util.concurrent.CompletableFuture<CommandResult> answer, int attempt) {
    }

    /**
     * One heartbeat to the node this node believes leads the controller quorum (or, not knowing,
     * to the next voter in turn); null when none answered as controller within the timeout.
     */
    private BrokerHeartbeatResponseData sendHeartbeat() {
        int target = heartbeatTarget.next(metadata.controllerLeader());
        if (target == settings.nodeId()) {
            // This node's own voter leads: asked directly, not through a socket to itself.
            BrokerHeartbeatResponseData own = onHeartbeat(settings.nodeId(), incarnation, metadata.appliedVersion());
            if (own.errorCode() != NO_ERROR) {
                return null;
            }
            heartbeatTarget.answered(target);
            return own;
        }
        NodeInfo node = metadata.image().node(target);
        if (node == null) {
            // Its address is not in this node's image yet: ask the next voter next time, and catch up.
            heartbeatTarget.failed(target);
            metadata.refresh();
            return null;
        }
        try {
            if (controllerConnection == null || controllerConnection.nodeId() != target) {
                closeControllerConnection();
                controllerConnection = new ControllerConnection(target, node.host(), node.port(), (int) settings.heartbeatTimeoutMs());
            }
            BrokerHeartbeatRequestData data = new BrokerHeartbeatRequestData().setBrokerId(settings.nodeId())
                    .setBrokerEpoch(incarnation).setCurrentMetadataOffset(metadata.appliedVersion());
            BrokerHeartbeatResponse response = (BrokerHeartbeatResponse) controllerConnection.send(
                    new BrokerHeartbeatRequest(data, (short) 0), heartbeatClientId);
            if (response.data().errorCode() != NO_ERROR) {
                if (heartbeatTarget.refused(target, metadata.controllerLeader())) {
                    metadata.refresh(); // the quorum client learns who leads from the answer
                }
                return null;
            }
            heartbeatTarget.answered(target);
            return response.data();
        } catch (IOException | RuntimeException e) {
            closeControllerConnection();
            heartbeatTarget.failed(target);
            return null;
        }
    }

    private void closeControllerConnection() {
        if (controllerConnection != null) {
            controllerConnection.close();
            controllerConnection = null;
        }
    }

    /** The controller's side of a heartbeat (see {@code BrokerHeartbeatHandler}). */
    public BrokerHeartbeatResponseData onHeartbeat(int nodeId, long nodeIncarnation, long nodeMetadataVersion) {
        if (!metadata.isControllerLeader()) {
            return new BrokerHeartbeatResponseData().setErrorCode(NOT_CONTROLLER).setIsFenced(true);
        }
        // Heard, even if refused below: refusing must never make this controller fence the node later.
        liveness.heard(metadata.image(), nodeId, nodeIncarnation, time.nanos());
        observers.observe(0, nodeId, nodeMetadataVersion, metadata.image().version(), time.millis());
        long contactAgeMs = metadata.quorumContactAgeMs();
        if (!alone && (contactAgeMs >= settings.electionTimeoutMs() || pauseWatch.mayBeStale(contactAgeMs * 1_000_000L, time.nanos()))) {
            // "Not fenced" renews the node's lease for most of a session from when it sent the
            // heartbeat. A controller paused while the other voters elected a successor still
            // believes it leads, and the successor fences nodes a session after its election, so
            // only a leader that heard from a majority within the election timeout (the time the
            // others wait before electing), and since it last stopped running, may promise that;
            // a live leader hears from them every half of it. A node alone has nobody to be deposed by.
            return new BrokerHeartbeatResponseData().setErrorCode(NOT_CONTROLLER).setIsFenced(true);
        }
        ClusterImage image = metadata.image();
        NodeInfo node = image.node(nodeId);
        boolean fenced = node == null || node.fenced() || node.incarnation() != nodeIncarnation;
        return new BrokerHeartbeatResponseData().setErrorCode(NO_ERROR)
                .setIsFenced(fenced).setIsCaughtUp(nodeMetadataVersion >= image.version());
    }

    /**
     * The controller quorum as this node sees it while its voter leads (Kafka's DescribeQuorum):
     * the voters from Raft, and as observers every other registered node with the metadata version
     * and time of its last heartbeat here. Empty on a node that does not lead.
     */
    public java.util.Optional<QuorumReport> quorumReport() {
        return metadata.leaderQuorumState(time.millis()).map(state -> {
            List<io.spate.cluster.QuorumState.ReplicaProgress> others = new ArrayList<>();
            for (NodeInfo node : metadata.image().nodes().values()) {
                if (settings.voters().stream().noneMatch(v -> v.id() == node.id())) {
                    others.add(observers.last(node.id()));
                }
            }
            others.sort(java.util.Comparator.comparingInt(io.spate.cluster.QuorumState.ReplicaProgress::nodeId));
            return new QuorumReport(state, others, settings.voters());
        });
    }

    /** See {@link #quorumReport}; {@code voters} gives each voter's Raft address. */
    public record QuorumReport(io.spate.cluster.QuorumState state, List<io.spate.cluster.QuorumState.ReplicaProgress> observers,
                               List<ClusterSettings.Voter> voters) {
    }

    /**
     * Sends {@code request} to the node whose voter leads the controller quorum and completes with
     * its answer (as Kafka's brokers forward DescribeQuorum to the active controller), on a thread
     * of its own; fails when no leader is known or it cannot be reached.
     */
    public java.util.concurrent.CompletableFuture<org.apache.kafka.common.requests.AbstractResponse> forwardToController(
            org.apache.kafka.common.requests.AbstractRequest request) {
        int target = metadata.controllerLeader();
        NodeInfo node = target < 0 || target == settings.nodeId() ? null : metadata.image().node(target);
        if (node == null) {
            return java.util.concurrent.CompletableFuture.failedFuture(new IOException(
                    target < 0 ? "the controller quorum has no leader" : "no address known for the controller leader, node " + target));
        }
        java.util.concurrent.CompletableFuture<org.apache.kafka.common.requests.AbstractResponse> answer = new java.util.concurrent.CompletableFuture<>();
        int timeoutMs = (int) Math.max(settings.heartbeatTimeoutMs(), 2_000);
        Thread.ofVirtual().name("spate-forward-to-controller").start(() -> {
            try (ControllerConnection connection = new ControllerConnection(target, node.host(), node.port(), timeoutMs)) {
                answer.complete(connection.send(request, FORWARDED_CLIENT_ID + "-" + settings.nodeId()));
            } catch (IOException | RuntimeException e) {
                answer.completeExceptionally(e);
            }
        });
        return answer;
    }

    /** Runs on the metadata thread for every new image. */
    private void apply(ClusterImage image) {
        List<TopicInfo> topics = new ArrayList<>();
        for (TopicState t : image.topics().values()) {
            topics.add(new TopicInfo(t.name(), t.id(),
                    t.partitions().size(), (short) t.replicationFactor(), t.overrides()));
        }
        registry.replaceAll(topics);
        for (TopicInfo topic : topics) {
            replicas.applyConfig(topic);
        }
        replicas.applyImage(image);
    }

    /**
     * A planned stop: hand leadership to in-sync followers first (by fencing this node through
     * the controller), so that clients move over without errors.
     */
    public void leaveGracefully(long timeoutMs) {
        if (roles == null || !roles.registered()) {
            return;
        }
        roles.leave();
        try {
            CommandResult result = metadata.submit(new MetadataCommand.FenceNode(settings.nodeId(), incarnation)).get(timeoutMs, TimeUnit.MILLISECONDS);
            if (result.succeeded()) {
                metadata.awaitVersion(result.version()).get(timeoutMs, TimeUnit.MILLISECONDS);
                log.info("moved leadership away before stopping");
            }
        } catch (Exception e) {
            log.warn("could not move leadership away before stopping: {}", e.toString());
        }
        // The controller's lead too, while this node still answers the quorum's calls.
        metadata.handOverLeadership(Math.min(timeoutMs, 3_000));
    }

    /** Runs {@code task} on {@code scheduler} after {@code firstMs}, then {@code periodMs} after each run ends, until close. */
    private void repeat(Scheduler scheduler, String name, long firstMs, long periodMs, Runnable task) {
        repeat(scheduler, name, firstMs, periodMs, () -> {
            task.run();
            return periodMs;
        });
    }

    /** As above, {@code task} naming the delay before its next run ({@code periodMs} after a run that threw). */
    private void repeat(Scheduler scheduler, String name, long firstMs, long periodMs, java.util.function.LongSupplier task) {
        long[] nextMs = {periodMs};
        Runnable logged = ScheduledTasks.logged(name, () -> nextMs[0] = task.getAsLong());
        scheduler.schedule(firstMs, new Runnable() {
            @Override
            public void run() {
                if (closed) {
                    return;
                }
                nextMs[0] = periodMs;
                logged.run();
                if (!closed) {
                    scheduler.schedule(nextMs[0], this);
                }
            }
        });
    }

    private void watchForPauses() {
        while (!closed) {
            pauseWatch.tick(time.nanos());
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        heartbeats.close();
        checks.close();
        if (controller != null) {
            controller.close();
        }
        metadata.close();
    }
}
