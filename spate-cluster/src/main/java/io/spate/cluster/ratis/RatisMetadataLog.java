package io.spate.cluster.ratis;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.ClusterSettings;
import io.spate.cluster.ImageDelivery;
import io.spate.cluster.CommandResult;
import io.spate.cluster.LivenessTracker;
import io.spate.cluster.MetadataCodec;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.MetadataLog;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.retry.RequestTypeDependentRetryPolicy;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto.TypeCase;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The metadata log on Apache Ratis: one Raft group whose voters are the configured controllers.
 * A voter runs a Ratis server with the {@link MetadataStateMachine} and learns every image as it
 * applies it; a node that is not a voter learns images by asking the leader for the current one
 * whenever a heartbeat tells it a newer one exists.
 */
public final class RatisMetadataLog implements MetadataLog {
    private static final Logger log = LoggerFactory.getLogger(RatisMetadataLog.class);
    /** Fixed, so that every node of every Spate cluster names the metadata group alike. */
    private static final RaftGroupId GROUP_ID = RaftGroupId.valueOf(UUID.nameUUIDFromBytes("spate-metadata".getBytes(StandardCharsets.UTF_8)));

    private final ClusterSettings settings;
    private final RaftGroup group;
    /** This voter's Raft server and its state machine (null on a node that is not a voter); replaced by {@link #restartVoter}. */
    private volatile RaftServer server;
    private volatile MetadataStateMachine stateMachine;
    private final boolean voter;
    private final LivenessTracker liveness;
    private final RaftProperties serverProperties;
    private final Object voterLock = new Object();
    /** Guarded by itself. */
    private final VoterLagWatch lagWatch;
    private final RaftMetaGuard raftMetaGuard;
    private static final long BRIDGE_AFTER_S = 2;
    private static final long RESTART_AFTER_S = 8;
    private static final long START_GRACE_S = 30;
    private static final long VOTER_CLOSE_TIMEOUT_S = 15;
    /** How long a command from this node is retried (over leader changes and timeouts) before its outcome counts as unknown. */
    public static final long SUBMIT_DEADLINE_MS = 10_000;
    /** The pause before a command refused during a leader's hand-over is sent again. */
    private static final long RESEND_PAUSE_MS = 100;
    /** How often a voter without a leader hastens its reconnections: well inside one election timeout. */
    private static final long RECONNECT_CHECK_MS = 100;
    /** How often the leading voter notes which voters hold all of its log (for DescribeQuorum's last caught-up times). */
    private static final long CATCH_UP_SAMPLE_MS = 250;
    private final io.spate.cluster.CatchUpTracker voterCatchUp = new io.spate.cluster.CatchUpTracker();
    /** Ratis' retry syntax: sleep, count, ...; see {@link #properties}. Visible for its test. */
    static final String APPENDER_RETRY_POLICY = "1ms,500, 100ms,100, 1s,100000";
    private final CompletableFuture<Throwable> localLogFailure = new CompletableFuture<>();
    private int probeFailures; // the probe thread's own
    /**
     * Commands from this node, sent with the blocking API (see {@link #submit}); replaced by one
     * aimed at the leader this node's voter knows, when that changes.
     */
    private volatile RaftClient client;
    private final RaftProperties clientProperties;
    private final Object clientLock = new Object();
    private volatile boolean closed;
    /** The controller's own commands go to this node's voter directly (null on a node that is not a voter). */
    /** Who the controller's own submissions come from, and their call ids (Ratis' retry cache keys on both). */
    private final ClientId controllerClientId = ClientId.randomId();
    private final java.util.concurrent.atomic.AtomicLong controllerCallIds = new java.util.concurrent.atomic.AtomicLong();
    /** Heartbeats get a client of their own with a short timeout, so a dead or paused leader is left quickly. */
    private final RaftClient heartbeatClient;
    private final ExecutorService controllerSubmitter = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("spate-controller-submit").daemon().unstarted(r));
    /**
     * Runs the blocking submissions. A thread per request in flight, not a fixed few: a request
     * waiting out a dead controller must not queue the next one behind it. Each request ends
     * within {@link #SUBMIT_DEADLINE_MS} plus one attempt, which bounds the threads to what a
     * node sends in that time.
     */
    private final ExecutorService submitter = Executors.newCachedThreadPool(
            Thread.ofPlatform().name("spate-metadata-submit-", 0).daemon().factory());
    private final java.util.concurrent.ScheduledExecutorService reconnector =
            Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("spate-metadata-reconnect").daemon().unstarted(r));
    private final java.util.concurrent.ScheduledExecutorService storageProbe =
            Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("spate-metadata-storage-probe").daemon().unstarted(r));
    private volatile ClusterImage image = ClusterImage.EMPTY;
    private final ImageDelivery delivery = new ImageDelivery("spate-metadata-listener", () -> image);
    /** What this node fetched of the metadata from the leader (a node that is not a voter learns only so). */
    private final java.util.concurrent.atomic.LongAdder wholeImagesFetched = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder entryUpdatesFetched = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder bytesFetched = new java.util.concurrent.atomic.LongAdder();
    private final ImageFetchGate fetchGate;
    /** A fetch unanswered this long (a leader that died with it) no longer holds the next one back. */
    private static final long REFRESH_TIMEOUT_MS = 3_000;
    private final long refreshTimeoutMs;

    private RatisMetadataLog(ClusterSettings settings, LivenessTracker liveness, long startGraceNanos, long refreshTimeoutMs) throws IOException {
        this.settings = settings;
        this.refreshTimeoutMs = refreshTimeoutMs;
        RaftPeer[] peers = settings.voters().stream()
                .map(v -> RaftPeer.newBuilder().setId(peerId(v.id())).setAddress(v.address()).build())
                .toArray(RaftPeer[]::new);
        this.group = RaftGroup.valueOf(GROUP_ID, peers);
        RaftProperties properties = properties(settings);
        this.voter = settings.isVoter();
        this.liveness = liveness;
        this.fetchGate = new ImageFetchGate(voter, TimeUnit.MILLISECONDS.toNanos(settings.electionTimeoutMs()));
        this.serverProperties = properties;
        long heartbeatNanos = TimeUnit.MILLISECONDS.toNanos(settings.heartbeatMs());
        this.lagWatch = new VoterLagWatch(TimeUnit.SECONDS.toNanos(BRIDGE_AFTER_S), TimeUnit.SECONDS.toNanos(RESTART_AFTER_S),
                Math.max(TimeUnit.SECONDS.toNanos(1), 4 * heartbeatNanos), TimeUnit.SECONDS.toNanos(30), startGraceNanos);
        this.raftMetaGuard = new RaftMetaGuard(settings.metadataDir().resolveSibling("metadata-reserve"));
        if (voter) {
            Files.createDirectories(settings.metadataDir());
            boolean fresh = isEmpty(settings.metadataDir());
            this.stateMachine = newStateMachine();
            this.server = newServer(stateMachine, fresh ? RaftStorage.StartupOption.FORMAT : RaftStorage.StartupOption.RECOVER);
        }
        this.clientProperties = properties;
        this.client = newClient();
        RaftProperties heartbeatProperties = properties(settings);
        org.apache.ratis.client.RaftClientConfigKeys.Rpc.setRequestTimeout(heartbeatProperties,
                TimeDuration.valueOf(settings.heartbeatTimeoutMs(), TimeUnit.MILLISECONDS));
        ClientId heartbeatClientId = ClientId.randomId();
        this.heartbeatClient = RaftClient.newBuilder()
                .setClientId(heartbeatClientId)
                .setClientRpc(new BackgroundResetClientRpc(heartbeatClientId, heartbeatProperties))
                .setProperties(heartbeatProperties)
                .setRaftGroup(group)
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(5, TimeDuration.valueOf(20, TimeUnit.MILLISECONDS)))
                .build();
    }

    private MetadataStateMachine newStateMachine() {
        return new MetadataStateMachine(liveness, this::offer, this::reportLocalLogFailure);
    }

    private RaftServer newServer(MetadataStateMachine machine, RaftStorage.StartupOption option) throws IOException {
        return RaftServer.newBuilder()
                .setServerId(peerId(settings.nodeId()))
                .setGroup(group)
                .setStateMachine(machine)
                .setProperties(serverProperties)
                .setParameters(serverParameters())
                .setOption(option)
                .build();
    }

    /** What Ratis takes as objects rather than properties: the voter's own gRPC services (see {@link OneAppendAtATime}). */
    private static org.apache.ratis.conf.Parameters serverParameters() {
        org.apache.ratis.conf.Parameters parameters = new org.apache.ratis.conf.Parameters();
        GrpcConfigKeys.Server.setServicesCustomizer(parameters, new OneAppendAtATime());
        return parameters;
    }

    private RaftClient newClient() {
        return newClient(null);
    }

    /** The client for submissions; {@code leader}, when known, is where its first request goes. */
    private RaftClient newClient(RaftPeerId leader) {
        ClientId clientId = ClientId.randomId();
        RaftClient.Builder builder = RaftClient.newBuilder()
                .setClientId(clientId)
                .setClientRpc(new BackgroundResetClientRpc(clientId, clientProperties))
                .setProperties(clientProperties)
                .setRaftGroup(group)
                .setRetryPolicy(RequestTypeDependentRetryPolicy.newBuilder()
                        // Commands: retried over leader changes until the deadline, then unknown.
                        .setRetryPolicy(TypeCase.WRITE, RetryPolicies.retryForeverWithSleep(TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
                        .setTimeout(TypeCase.WRITE, TimeDuration.valueOf(SUBMIT_DEADLINE_MS, TimeUnit.MILLISECONDS))
                        // Reads of the image (a node that is not a voter): a type left unset would retry without pause.
                        .setRetryPolicy(TypeCase.READ, RetryPolicies.retryUpToMaximumCountWithFixedSleep(50, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
                        .build());
        if (leader != null) {
            builder.setLeaderId(leader);
        }
        return builder.build();
    }

    /**
     * The client, pointed at the leader this node's own voter knows. A client keeps sending to
     * the leader it last heard of and fails over only after a request timeout (3 s): an in-sync
     * set change sent to a leader that had just been cut off then waited out that timeout while
     * its partition could not advance (found by the fault campaigns, seed 1000). The replaced
     * client is closed later, once the requests still on it have had their time.
     */
    private final List<RaftClient> retiredClients = new CopyOnWriteArrayList<>();

    private RaftClient clientForKnownLeader() {
        RaftPeerId known = knownLeader();
        RaftClient current = client;
        if (known == null || known.equals(current.getLeaderId())) {
            return current;
        }
        RaftClient replaced;
        synchronized (clientLock) {
            if (closed || client != current) {
                return client;
            }
            replaced = current;
            client = newClient(known);
            current = client;
        }
        retiredClients.add(replaced);
        try {
            storageProbe.schedule(() -> {
                if (retiredClients.remove(replaced)) {
                    closeQuietly(replaced);
                }
            }, 30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
            // close() closes whatever is still retired
        }
        return current;
    }

    private static void closeQuietly(RaftClient client) {
        try {
            client.close();
        } catch (IOException | RuntimeException e) {
            log.debug("closing a replaced metadata client", e);
        }
    }

    /** Starts the voter (if this node is one) and the client; returns without waiting for a leader. */
    public static RatisMetadataLog start(ClusterSettings settings, LivenessTracker liveness) throws IOException {
        return start(settings, liveness, java.time.Duration.ofSeconds(START_GRACE_S));
    }

    /**
     * As above, with another start grace (30 s above): how long after its Raft server starts a voter
     * whose replica stopped applying may not yet be restarted. For a test that waits for such a
     * restart; a node always runs with the 30 s.
     */
    public static RatisMetadataLog start(ClusterSettings settings, LivenessTracker liveness, java.time.Duration voterRestartGrace)
            throws IOException {
        return start(settings, liveness, voterRestartGrace, java.time.Duration.ofMillis(REFRESH_TIMEOUT_MS));
    }

    /**
     * As above, with another timeout for a metadata fetch (3 s above). For a test that must tell
     * a fetch passed over from one waited out; a node always runs with the 3 s.
     */
    public static RatisMetadataLog start(ClusterSettings settings, LivenessTracker liveness, java.time.Duration voterRestartGrace,
                                         java.time.Duration refreshTimeout) throws IOException {
        RatisMetadataLog metadataLog = new RatisMetadataLog(settings, liveness, voterRestartGrace.toNanos(), refreshTimeout.toMillis());
        if (metadataLog.server != null) {
            LeaderClassPreloader.startOnce();
            metadataLog.serverStarting();
            metadataLog.restoreRaftMeta();
            metadataLog.server.start();
            metadataLog.storageProbe.scheduleWithFixedDelay(metadataLog::probeStorage, 1, 1, TimeUnit.SECONDS);
            metadataLog.reconnector.scheduleWithFixedDelay(metadataLog::hastenReconnectsWhileLeaderless,
                    RECONNECT_CHECK_MS, RECONNECT_CHECK_MS, TimeUnit.MILLISECONDS);
            // Samples between DescribeQuorum requests, so that a voter behind now still shows when it last was not.
            metadataLog.reconnector.scheduleWithFixedDelay(metadataLog::sampleQuorum, CATCH_UP_SAMPLE_MS, CATCH_UP_SAMPLE_MS,
                    TimeUnit.MILLISECONDS);
        }
        return metadataLog;
    }

    /**
     * Lets an election reach the voters it needs as soon as they can be reached. gRPC waits out an
     * exponential backoff (1 s, then 1.6 times longer each time, up to minutes) before it connects
     * again to a peer it could not reach, and fails every request to it meanwhile. Ratis resets that
     * backoff for a leader's appends but not for votes: after a cut-off healed, a voter's
     * (pre-)votes to the voter that came back failed at once for 3.5 s while a quorum was up
     * (seed 3035), because it had tried to reach it during the cut. While this voter knows no
     * leader, every peer connection is told to try again now (a no-op for one that is up).
     */
    private void hastenReconnectsWhileLeaderless() {
        RaftServer current = server;
        if (current == null || closed || RESET_CONNECT_BACKOFF == null) {
            return;
        }
        org.apache.ratis.server.RaftServerRpcWithProxy<?, ?> rpc;
        try {
            if (current.getDivision(GROUP_ID).getInfo().getLeaderId() != null
                    || !(current.getServerRpc() instanceof org.apache.ratis.server.RaftServerRpcWithProxy<?, ?> withProxy)) {
                return;
            }
            rpc = withProxy;
        } catch (IOException | RuntimeException closing) {
            return;
        }
        for (RaftPeer peer : group.getPeers()) {
            if (peer.getId().equals(peerId(settings.nodeId()))) {
                continue;
            }
            try {
                RESET_CONNECT_BACKOFF.invoke(rpc.getProxies().getProxy(peer.getId()));
            } catch (Throwable e) {
                log.debug("could not hasten the reconnection to voter {}", peer.getId(), e);
            }
        }
    }

    /**
     * Ratis' {@code GrpcServerProtocolClient.resetConnectBackoff()}: public, on a class Ratis keeps
     * package-private, so it is looked up once here; null if a Ratis upgrade dropped it (elections
     * then wait for gRPC's own reconnection, and {@code ReconnectBackoffTest} fails). Takes a peer
     * proxy (a {@link java.io.Closeable}).
     */
    static final java.lang.invoke.MethodHandle RESET_CONNECT_BACKOFF = resetConnectBackoff();

    private static java.lang.invoke.MethodHandle resetConnectBackoff() {
        try {
            java.lang.reflect.Method m = Class.forName("org.apache.ratis.grpc.server.GrpcServerProtocolClient")
                    .getMethod("resetConnectBackoff");
            m.setAccessible(true);
            return java.lang.invoke.MethodHandles.lookup().unreflect(m)
                    .asType(java.lang.invoke.MethodType.methodType(void.class, java.io.Closeable.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("Ratis offers no way to reset a peer connection's backoff here; elections wait for gRPC's own reconnections", e);
            return null;
        }
    }

    private static boolean isEmpty(java.nio.file.Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static RaftPeerId peerId(int nodeId) {
        return RaftPeerId.valueOf("n" + nodeId);
    }

    /** The node a voter's peer id names ({@link #peerId}'s inverse). */
    static int nodeId(RaftPeerId peer) {
        return Integer.parseInt(peer.toString().substring(1));
    }

    static RaftProperties properties(ClusterSettings settings) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(settings.metadataDir().toFile()));
        if (settings.isVoter()) {
            GrpcConfigKeys.Server.setPort(p, settings.self().port());
            GrpcConfigKeys.Server.setHost(p, settings.self().host());
        }
        // Ratis' defaults (150-300 ms) trip on a GC pause or a busy 2-core machine; these still
        // elect a new controller well inside the 2 s failover budget.
        long election = settings.electionTimeoutMs();
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(election, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(election * 2, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(Math.max(3000, election * 4), TimeUnit.MILLISECONDS));
        // A leader that steps down for want of a majority's answers stands for election again only
        // after this; Ratis' default is 10 s. On a busy machine two voters (the third down) can
        // both step down that way within a second, and then neither stands: the fault campaigns
        // saw the quorum without a leader for 8 s, every partition stalled (seed 2016). Pre-vote
        // already keeps a voter that was cut off from disrupting the others, so a short wait does.
        // Ratis also makes a leader step down after a pause of the JVM longer than this, so not
        // shorter than a second: by then the other voters have stood for election (an election
        // timeout is at most 2 x election), and a leader that was gone so long has no lead left
        // to keep. It was 2 s, and that cost a whole second more in campaign 10 (seed 3201): a
        // voter back from kill -9 won an election but, busy starting, sent its first heartbeat
        // after Ratis' grace (counted from the election, not from the first send), stepped down
        // at once, and, the only voter whose log could win, refused to stand again for 2 s.
        RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(p, TimeDuration.valueOf(Math.max(1_000, election * 2), TimeUnit.MILLISECONDS));
        // Heartbeats are read-only queries served by the leader only (Ratis' default read option:
        // a follower answers NotLeader), so liveness is recorded where the controller runs. A leader
        // that stops hearing from a majority steps down within an election timeout, after which
        // heartbeats fail and a node cut off from the quorum stops leading on its own.
        // How a leader paces its appends to a follower that answers "inconsistent": Ratis counts
        // each such answer as an error and, by default, waits 1 s after the tenth and 5 s after
        // the thirtieth, while it walks back one index per answer to where the logs agree. A voter
        // that had led while cut off holds dozens of entries the others never saw; the fault
        // campaigns saw one take over 75 s to rejoin (campaign 4, seed 3004: 37 entries), the
        // quorum one failure from stopping meanwhile. Walking back is a round trip per entry:
        // these pauses keep a follower that is down from costing CPU without slowing that walk.
        RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, APPENDER_RETRY_POLICY);
        // One thread for a voter's own work on requests (Ratis' default pool grows without bound).
        // A follower appends each appendEntries request in a task of its own on this pool; with
        // two threads, two requests' appends ran at once, Ratis' log refused one ("Already running
        // a method by Thread ...") after its in-memory state had moved, and a stale entry of an
        // old term stayed on disk below newer ones. Replayed after a restart, it gave that voter
        // another history: it fenced a healthy node, led every partition alone and served a log
        // thousands of acknowledged writes short (the fault campaigns, seed 3032, after a cut-off
        // leader's appender had queued thousands of requests). One thread makes them sequential.
        RaftServerConfigKeys.ThreadPool.setServerCached(p, false);
        RaftServerConfigKeys.ThreadPool.setServerSize(p, 1);
        // A follower checks an appendEntries request against its log and, with "compose" on (Ratis
        // 3.3's default), also against the entries it has queued but not yet written. A heartbeat
        // naming a queued entry as its previous one then passes and raises the commit index to it,
        // while the log still holds the old entry at that index, to be replaced only when the
        // queued append runs: the state machine applies the old one. The fault campaigns saw it
        // (seed 3387): a voter that had led term 6, restarted, applied its own term-6 decision
        // (fence two nodes, move every leadership to the third) that the quorum had replaced, and
        // from then on named leaders and epochs no other node had. Without compose, a request is
        // checked against the log as it is, and appends still run one at a time (above).
        RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, 10_000);
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("8MB"));
        return p;
    }

    /**
     * Ratis reports a failed log write to the state machine only for some of its tasks: when the
     * vote file or a new segment cannot be written, the log fails for good and says nothing (every
     * later append is refused). So the voter also checks, once a second, that its directory still
     * takes a write; a directory that does not is the same failure, seen first.
     */
    private void probeStorage() {
        guardRaftMeta(true);
        // Beside Ratis' directory, not in it: Ratis reads every entry there as a group. A new
        // file each time: rewriting blocks already allocated would succeed on a full disk.
        java.nio.file.Path probe = settings.metadataDir().resolveSibling("metadata-write-probe");
        try {
            Files.deleteIfExists(probe);
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(probe,
                    java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
                java.nio.ByteBuffer page = java.nio.ByteBuffer.allocate(4096);
                while (page.hasRemaining()) {
                    ch.write(page);
                }
            }
            Files.deleteIfExists(probe);
            probeFailures = 0;
        } catch (IOException e) {
            // Three seconds in a row, not one refusal: a passing shortage must not stop a voter.
            if (++probeFailures >= 3) {
                reportLocalLogFailure(e);
            } else if (probeFailures == 1 && isControllerLeader()) {
                // But a leader that cannot append commits nothing, while its heartbeats keep the
                // others from electing one that can: the fault campaigns saw the controller's disk
                // fill and every change of the cluster wait 3.3 s for this probe to stop the node
                // (seed 3121). It hands the lead over at the first refusal; a shortage that passes
                // costs one election.
                log.warn("this node's metadata directory refused a write ({}) while it leads the controller quorum:"
                        + " handing the lead over", e.toString());
                Thread.ofPlatform().name("spate-controller-hand-over").daemon().start(() -> handOverLeadership(2_000));
            }
        } catch (RuntimeException e) {
            log.debug("metadata storage probe", e);
        }
    }

    /**
     * This voter's copy of the log can no longer be written: the node will stop. Its raft-meta is
     * checked first, while the voter's term is still in memory: the failed write that stopped the
     * log may have emptied it a moment ago, and the once-a-second guard would not run again before
     * the process halts. A node stopped with an empty raft-meta cannot start again (seed 3099: the
     * log failed on a full disk 0.1 s after Ratis' write emptied the file; every restart refused).
     * Public for tests, which stand in for a disk that fails.
     */
    public void reportLocalLogFailure(Throwable cause) {
        prepareForAbruptStop();
        localLogFailure.complete(cause);
    }

    /** See {@link RaftMetaGuard#restoreAtStart}: before Ratis reads raft-meta. */
    private void restoreRaftMeta() throws IOException {
        Path raftMeta = settings.metadataDir().resolve(GROUP_ID.getUuid().toString()).resolve("current").resolve(RaftMetaGuard.FILE_NAME);
        synchronized (raftMetaGuard) {
            raftMetaGuard.restoreAtStart(raftMeta);
        }
    }

    /** See {@link RaftMetaGuard}: an emptied raft-meta is rewritten now, not at the guard's next round. */
    @Override
    public void prepareForAbruptStop() {
        if (voter && server != null) {
            guardRaftMeta(false);
        }
    }

    /** See {@link RaftMetaGuard}: runs before the write probe, so a repair comes before the node gives up on its disk. */
    private void guardRaftMeta(boolean keepReserve) {
        // One at a time: the probe's thread, Ratis' log worker (a failure) and a restart may all
        // get here, and two repairs would share one temporary file.
        synchronized (raftMetaGuard) {
            try {
                raftMetaGuard.check(server.getDivision(GROUP_ID));
                if (keepReserve) {
                    raftMetaGuard.keepReserve();
                }
            } catch (IOException | RuntimeException e) {
                // The division is restarting or closed, or the repair could not be written: the next second tries again.
                log.debug("checking raft-meta", e);
            }
        }
    }

    @Override
    public CompletableFuture<Throwable> localLogFailure() {
        return localLogFailure;
    }

    /**
     * A committed image, from this voter's state machine (on Ratis' apply thread) or fetched from
     * the leader. Only a newer one is kept: a restarted voter replays images the node has already
     * fetched. Listeners run on our own thread.
     */
    private void offer(ClusterImage next) {
        synchronized (this) {
            if (image != ClusterImage.EMPTY && next.version() <= image.version()) {
                return;
            }
            image = next;
        }
        delivery.offered();
    }

    @Override
    public ClusterImage image() {
        return image;
    }

    /**
     * Sends {@code command} on a thread of the submitter pool with Ratis' blocking API, so that
     * every request stands on its own. Ratis' ordered async client (used here before) hands
     * replies back in the order it sent the requests and blocks the caller once 100 are
     * unanswered: one request left without an answer after a controller moved held back every
     * later one, and then blocked the thread sending in-sync set changes, so no partition could
     * grow its in-sync set again (seed 3061: writes stopped for good). Metadata commands need no
     * order between them on the client: each carries the epochs it was decided on, and the Raft
     * log orders them. A request gives up after {@link #SUBMIT_DEADLINE_MS}; its outcome is then
     * unknown and the caller asks again or reads the metadata.
     */
    @Override
    public CompletableFuture<CommandResult> submit(MetadataCommand command) {
        Message message = Message.valueOf(ByteString.copyFrom(MetadataCodec.encode(command)));
        long deadline = liveness.time().nanos() + TimeUnit.MILLISECONDS.toNanos(SUBMIT_DEADLINE_MS);
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    RaftClientReply reply = sendUntil(message, deadline);
                    requireSuccess(reply);
                    return MetadataCodec.decodeResult(reply.getMessage().getContent().toByteArray());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, submitter);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            return CompletableFuture.failedFuture(new IllegalStateException("the metadata log is closed"));
        }
    }

    /**
     * Sends until answered or {@code deadline}. Ratis' blocking client gives up at once, without
     * its retry policy, when the leader is stepping down or handing its lead over (every SIGTERM of
     * the controller's node, fix 20) and when its client was closed (replaced by one aimed at a new
     * leader); those requests were refused before anything was appended, so they are sent again,
     * on the client for the leader known by then.
     */
    private RaftClientReply sendUntil(Message message, long deadline) throws IOException {
        while (true) {
            try {
                return clientForKnownLeader().io().send(message);
            } catch (org.apache.ratis.protocol.exceptions.LeaderSteppingDownException
                     | org.apache.ratis.protocol.exceptions.TransferLeadershipException
                     | org.apache.ratis.protocol.exceptions.AlreadyClosedException refusedBeforeAppend) {
                if (closed || liveness.time().nanos() - deadline > 0) {
                    throw refusedBeforeAppend;
                }
                try {
                    Thread.sleep(RESEND_PAUSE_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("closing");
                }
            }
        }
    }

    @Override
    public CompletableFuture<CommandResult> submitAsLeader(MetadataCommand command) {
        if (server == null || !isControllerLeader()) {
            return CompletableFuture.failedFuture(new IllegalStateException("this node does not lead the controller quorum"));
        }
        try {
            return submitDecidedIn(currentTerm(), command);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e); // a thrown decision would stay "pending" at the controller for good
        }
    }

    /** This voter's current Raft term (-1 on a node that is not a voter). */
    public long currentTerm() {
        try {
            return server == null ? -1 : server.getDivision(GROUP_ID).getInfo().getCurrentTerm();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Submits {@code command} as decided by the controller of {@code term}: applied only if the
     * entry is committed in that term (visible for tests, which play a deposed controller).
     */
    public CompletableFuture<CommandResult> submitDecidedIn(long term, MetadataCommand command) {
        Message message = Message.valueOf(ByteString.copyFrom(MetadataCodec.encodeDecidedIn(term, command)));
        // Handed to this voter's own Raft server, not through a client: a client follows the
        // leader its answers named, and the controller's had learned of another voter while this
        // one did not lead. Leading again, it sent the fencing of a dead node to a voter just back
        // from a pause, waited out the 3 s request timeout there, and every partition of the dead
        // node waited with it (the fault campaigns, seed 3341). A voter that no longer leads
        // answers NotLeader here, and the controller decides again at its next tick.
        if (server == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("this node is not a controller voter"));
        }
        RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(controllerClientId)
                .setServerId(peerId(settings.nodeId()))
                .setGroupId(GROUP_ID)
                .setCallId(controllerCallIds.incrementAndGet())
                .setMessage(message)
                .setType(RaftClientRequest.writeRequestType())
                .build();
        RaftServer voter = server;
        // On the submitter's thread: Ratis hands the request over synchronously, under its server's
        // lock, and the controller's tick must not wait on that.
        CompletableFuture<RaftClientReply> sent = CompletableFuture.supplyAsync(() -> {
            try {
                return voter.submitClientRequestAsync(request);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, controllerSubmitter).thenCompose(reply -> reply);
        return sent.orTimeout(SUBMIT_DEADLINE_MS, TimeUnit.MILLISECONDS).thenApplyAsync(reply -> {
            requireSuccess(reply);
            return MetadataCodec.decodeResult(reply.getMessage().getContent().toByteArray());
        }, controllerSubmitter);
    }

    @Override
    public void subscribe(Consumer<ClusterImage> listener) {
        delivery.subscribe(listener);
    }

    @Override
    public CompletableFuture<ClusterImage> awaitVersion(long version) {
        CompletableFuture<ClusterImage> future = delivery.awaitVersion(version);
        if (!voter) {
            refreshImage();
        }
        return future;
    }

    @Override
    public CompletableFuture<HeartbeatReply> heartbeat(int nodeId, long incarnation) {
        ByteBuffer request = ByteBuffer.allocate(13).put(MetadataStateMachine.QUERY_HEARTBEAT).putInt(nodeId).putLong(incarnation).flip();
        // Unordered: one heartbeat lost to a dead leader must not hold up the next. A voter sends
        // straight to the leader its own Raft server knows, which it learns as soon as one is elected.
        Message message = Message.valueOf(ByteString.copyFrom(request));
        RaftPeerId knownLeader = knownLeader();
        CompletableFuture<RaftClientReply> sent = knownLeader == null
                ? heartbeatClient.async().sendReadOnlyUnordered(message)
                : heartbeatClient.async().sendReadOnlyUnordered(message, knownLeader);
        return sent.thenApply(reply -> {
            requireSuccess(reply);
            ByteBuffer in = reply.getMessage().getContent().asReadOnlyByteBuffer();
            HeartbeatReply answer = new HeartbeatReply(in.get() == 1, in.getLong());
            fetchGate.heartbeatAnsweredBy(reply.getServerId());
            if (!voter && answer.imageVersion() > image.version()) {
                refreshImage();
            }
            return answer;
        });
    }

    private RaftPeerId knownLeader() {
        if (server == null) {
            return null;
        }
        try {
            return server.getDivision(GROUP_ID).getInfo().getLeaderId();
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void refresh() {
        if (!voter) {
            refreshImage();
            return;
        }
        // The controller says this node is behind. A voter's own replica normally catches up by
        // itself within a heartbeat or two; one that applies nothing for long is bridged, then restarted.
        VoterLagWatch.Action action;
        long applied = appliedIndex();
        synchronized (lagWatch) {
            action = lagWatch.behind(liveness.time().nanos(), applied);
        }
        switch (action) {
            case NONE -> { }
            case FETCH_IMAGE -> refreshImage();
            case RESTART_VOTER -> {
                refreshImage();
                try {
                    storageProbe.execute(() -> restartVoterIfStillBehind(applied));
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    // closed meanwhile
                }
            }
        }
    }

    private void serverStarting() {
        synchronized (lagWatch) {
            lagWatch.serverStarted(liveness.time().nanos());
        }
    }

    /** How far this node's own copy of the log has applied (a voter's replica; otherwise the image fetched). */
    @Override
    public long appliedVersion() {
        MetadataStateMachine machine = stateMachine;
        return machine == null ? image.version() : machine.image().version();
    }

    /**
     * The last log index this voter's state machine applied: the watch's sign of progress. Not the
     * image version, which Raft's own entries (a new leader's first entry, configurations) leave
     * alone: a voter starting on a busy machine applied those for seconds and looked stuck.
     */
    private long appliedIndex() {
        MetadataStateMachine machine = stateMachine;
        org.apache.ratis.server.protocol.TermIndex last = machine == null ? null : machine.getLastAppliedTermIndex();
        return last == null ? -1 : last.getIndex();
    }

    private void restartVoterIfStillBehind(long appliedWhenDecided) {
        if (closed || isControllerLeader() || appliedIndex() != appliedWhenDecided) {
            return; // closing, leading, or applying again since the decision: nothing to repair
        }
        log.warn("this node's metadata voter has applied no entry past log index {} (image version {}) for {} s while the"
                + " quorum moved on (node image at {}): restarting its Raft server", appliedIndex(), appliedVersion(), RESTART_AFTER_S, image.version());
        try {
            restartVoter();
        } catch (IOException | RuntimeException e) {
            log.error("restarting the metadata voter failed; the node keeps fetching committed images from the leader", e);
        }
    }

    /**
     * Closes this voter's Raft server and starts a new one on the same storage: the log and the
     * latest snapshot are read back from disk, and the leader catches the voter up from there.
     * Visible for tests, which wedge a voter from outside.
     */
    public void restartVoter() throws IOException {
        if (!voter) {
            return;
        }
        synchronized (voterLock) {
            if (closed) {
                return;
            }
            RaftServer old = server;
            // Bounded: a second server must not open the storage while threads of the first may
            // still write to it. A close that does not finish, or a start that fails, leaves this
            // node without a working voter: that is the failure a restart of the process repairs.
            Thread closing = Thread.ofPlatform().name("spate-metadata-voter-close").daemon().start(() -> {
                try {
                    old.close();
                } catch (IOException | RuntimeException e) {
                    log.warn("closing the metadata voter for its restart", e);
                }
            });
            try {
                if (!closing.join(java.time.Duration.ofSeconds(VOTER_CLOSE_TIMEOUT_S))) {
                    reportLocalLogFailure(new IOException("the metadata voter did not close within "
                            + VOTER_CLOSE_TIMEOUT_S + " s for its restart"));
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            try {
                MetadataStateMachine machine = newStateMachine();
                RaftServer fresh = newServer(machine, RaftStorage.StartupOption.RECOVER);
                stateMachine = machine;
                server = fresh;
                serverStarting();
                restoreRaftMeta();
                fresh.start();
            } catch (IOException | RuntimeException e) {
                reportLocalLogFailure(new IOException("the metadata voter could not start again: " + e, e));
                throw e;
            }
        }
        log.info("metadata voter restarted");
    }

    /**
     * Fetches what the leader committed past this node's image: how a node that is not a voter
     * learns, and a stuck voter's bridge. The leader answers with the entries this node missed,
     * which it applies as the voters did, or with the whole image when it no longer holds them all.
     */
    private void refreshImage() {
        send(fetchGate.ask(liveness.time().nanos())); // see ImageFetchGate: one at a time, to which voter
    }

    private void send(ImageFetchGate.Fetch fetch) {
        if (fetch == null) {
            return;
        }
        if (closed) {
            fetchGate.notSent(fetch.generation());
            return;
        }
        long base = image.version();
        ByteBuffer request = ByteBuffer.allocate(9).put(MetadataStateMachine.QUERY_IMAGE_SINCE).putLong(base).flip();
        Message message = Message.valueOf(ByteString.copyFrom(request));
        CompletableFuture<RaftClientReply> sent;
        try {
            sent = fetch.target() == null
                    ? client.async().sendReadOnlyUnordered(message)
                    : client.async().sendReadOnlyUnordered(message, fetch.target());
        } catch (RuntimeException closing) {
            fetchGate.notSent(fetch.generation()); // never sent: the next one may go
            log.debug("metadata refresh not sent", closing);
            return;
        }
        sent.orTimeout(refreshTimeoutMs, TimeUnit.MILLISECONDS).whenComplete((reply, error) -> {
            try {
                if (error == null) {
                    takeUpdate(reply, base);
                }
            } finally {
                send(fetchGate.ended(fetch.generation(), liveness.time().nanos()));
            }
        });
    }

    private void takeUpdate(RaftClientReply reply, long base) {
        if (!reply.isSuccess()) {
            return;
        }
        ByteString content = reply.getMessage().getContent();
        bytesFetched.add(content.size());
        ImageUpdate update;
        try {
            update = ImageUpdate.decode(content.asReadOnlyByteBuffer());
        } catch (RuntimeException unreadable) {
            log.warn("unreadable metadata update from the controller leader ({} bytes)", content.size(), unreadable);
            return;
        }
        if (update.isWholeImage()) {
            wholeImagesFetched.increment();
            offer(update.image());
        } else {
            entryUpdatesFetched.increment();
            applyFetched(update, base);
        }
    }

    /** Brings this node's image forward by fetched entries, which start right after {@code base}. */
    private void applyFetched(ImageUpdate update, long base) {
        ClusterImage next;
        synchronized (this) {
            ClusterImage current = image;
            if (current.version() >= update.version()) {
                return; // another answer or the node's own voter got there first
            }
            next = current.version() < base ? null : update.applyTo(current);
            if (next == null || next.version() != update.version()) {
                // Neither can happen (an image only moves forward; the transitions are the leader's own): take the leader's image.
                log.warn("metadata entries past version {} applied to version {} gave {}, not the leader's {}: fetching the whole image",
                        base, current.version(), next == null ? "nothing" : next.version(), update.version());
                next = null;
            } else {
                image = next;
            }
        }
        if (next == null) {
            fetchWholeImage();
        } else {
            delivery.offered();
        }
    }

    private void fetchWholeImage() {
        Message request = Message.valueOf(ByteString.copyFrom(new byte[]{MetadataStateMachine.QUERY_IMAGE}));
        client.async().sendReadOnlyUnordered(request).thenAccept(reply -> {
            if (reply.isSuccess()) {
                bytesFetched.add(reply.getMessage().getContent().size());
                wholeImagesFetched.increment();
                offer(MetadataCodec.decodeImage(reply.getMessage().getContent().toByteArray()));
            }
        });
    }

    @Override
    public Fetched fetched() {
        return new Fetched(wholeImagesFetched.sum(), entryUpdatesFetched.sum(), bytesFetched.sum(), fetchGate.passedOver());
    }

    private static void requireSuccess(RaftClientReply reply) {
        if (!reply.isSuccess()) {
            throw new IllegalStateException("metadata quorum refused the request: " + reply.getException());
        }
    }

    @Override
    public int controllerLeader() {
        try {
            if (server != null) {
                RaftPeerId leader = server.getDivision(GROUP_ID).getInfo().getLeaderId();
                return leader == null ? -1 : nodeId(leader);
            }
            RaftPeerId leader = client.getLeaderId();
            return leader == null ? -1 : nodeId(leader);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    @Override
    public boolean isControllerLeader() {
        try {
            return server != null && server.getDivision(GROUP_ID).getInfo().isLeaderReady();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Asks Ratis to move the lead to the voter that answered last (it then catches that voter up
     * and has it stand at once), trying the others in turn. Without it a stopping controller left
     * the quorum leaderless for an election timeout after its close, and every node's lease ran
     * out meanwhile: the fault campaigns saw writes stop for two seconds at each SIGTERM of the
     * controller's node (seed 3027).
     */
    @Override
    public void handOverLeadership(long timeoutMs) {
        if (server == null || !isControllerLeader()) {
            return;
        }
        long deadline = liveness.time().nanos() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        List<RaftPeerId> candidates;
        try {
            org.apache.ratis.proto.RaftProtos.RoleInfoProto role = server.getDivision(GROUP_ID).getInfo().getRoleInfoProto();
            candidates = role.getLeaderInfo().getFollowerInfoList().stream()
                    .sorted(java.util.Comparator.comparingLong(org.apache.ratis.proto.RaftProtos.ServerRpcProto::getLastRpcElapsedTimeMs))
                    .map(f -> RaftPeerId.valueOf(f.getId().getId()))
                    .toList();
        } catch (IOException | RuntimeException e) {
            log.info("could not list the other voters to hand the controller lead to: {}", e.toString());
            return;
        }
        for (RaftPeerId candidate : candidates) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - liveness.time().nanos());
            if (left <= 0) {
                break;
            }
            try {
                // A voter that answers a leader's appends takes the lead within an election or two:
                // one that does not in 1.5 s is paused or cut off, and the next is asked.
                // Through this voter's own server, as the controller's decisions go (not a client that may follow another).
                long wait = Math.min(left, 1_500);
                RaftClientReply reply = server.transferLeadershipAsync(new org.apache.ratis.protocol.TransferLeadershipRequest(
                                controllerClientId, peerId(settings.nodeId()), GROUP_ID, controllerCallIds.incrementAndGet(), candidate, wait))
                        .get(wait + 500, TimeUnit.MILLISECONDS);
                if (reply.isSuccess()) {
                    log.info("handed the controller lead to {}", candidate);
                    return;
                }
                log.info("{} did not take the controller lead: {}", candidate, reply.getException());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException | RuntimeException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                log.info("{} did not take the controller lead: {}", candidate, e.toString());
            }
        }
    }

    private void sampleQuorum() {
        try {
            leaderQuorumState(liveness.time().millis());
        } catch (RuntimeException e) {
            log.debug("sampling the quorum's progress", e); // the next sample tries again; a throw would end the schedule
        }
    }

    /**
     * From this voter's Raft server while it leads: its term, commit index and last index, and each
     * follower's match index and time since its last answer (Ratis' own view of its appenders).
     */
    @Override
    public java.util.Optional<io.spate.cluster.QuorumState> leaderQuorumState(long nowMs) {
        RaftServer current = server;
        if (current == null || closed) {
            return java.util.Optional.empty();
        }
        try {
            RaftServer.Division division = current.getDivision(GROUP_ID);
            org.apache.ratis.server.DivisionInfo info = division.getInfo();
            if (!info.isLeader()) {
                return java.util.Optional.empty();
            }
            long term = info.getCurrentTerm();
            long[] matchIndices = info.getFollowerMatchIndices();
            org.apache.ratis.proto.RaftProtos.RoleInfoProto role = info.getRoleInfoProto();
            List<org.apache.ratis.proto.RaftProtos.ServerRpcProto> followers = role.getLeaderInfo().getFollowerInfoList();
            long leaderEnd = division.getRaftLog().getNextIndex() - 1;
            long committed = division.getRaftLog().getLastCommittedIndex();
            List<io.spate.cluster.QuorumState.ReplicaProgress> voters = new ArrayList<>();
            voters.add(voterCatchUp.observe(term, settings.nodeId(), leaderEnd, leaderEnd, nowMs));
            // Both lists come from the leader's appenders in the same order; a membership change between the two reads leaves the index unknown.
            boolean aligned = matchIndices.length == followers.size();
            for (int i = 0; i < followers.size(); i++) {
                org.apache.ratis.proto.RaftProtos.ServerRpcProto follower = followers.get(i);
                int id = nodeId(RaftPeerId.valueOf(follower.getId().getId()));
                long contactMs = nowMs - follower.getLastRpcElapsedTimeMs();
                voters.add(voterCatchUp.observe(term, id, aligned ? matchIndices[i] : -1, leaderEnd, contactMs));
            }
            for (ClusterSettings.Voter v : settings.voters()) {
                if (voters.stream().noneMatch(r -> r.nodeId() == v.id())) {
                    voters.add(new io.spate.cluster.QuorumState.ReplicaProgress(v.id(), -1, -1, -1));
                }
            }
            voters.sort(java.util.Comparator.comparingInt(io.spate.cluster.QuorumState.ReplicaProgress::nodeId));
            return java.util.Optional.of(new io.spate.cluster.QuorumState(settings.nodeId(), term, committed, voters));
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    @Override
    public long quorumContactAgeMs() {
        try {
            org.apache.ratis.server.DivisionInfo info = server == null ? null : server.getDivision(GROUP_ID).getInfo();
            if (info == null || !info.isLeader()) {
                return Long.MAX_VALUE;
            }
            org.apache.ratis.proto.RaftProtos.RoleInfoProto role = info.getRoleInfoProto();
            if (!role.hasLeaderInfo()) {
                return Long.MAX_VALUE;
            }
            // Ratis reports, per follower, the time since its last answer to this leader.
            long[] ages = role.getLeaderInfo().getFollowerInfoList().stream()
                    .mapToLong(org.apache.ratis.proto.RaftProtos.ServerRpcProto::getLastRpcElapsedTimeMs).sorted().toArray();
            int othersNeeded = (ages.length + 1) / 2;
            return othersNeeded == 0 ? 0 : ages[othersNeeded - 1];
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public void close() {
        synchronized (clientLock) {
            closed = true;
        }
        submitter.shutdownNow();
        try {
            client.close();
            heartbeatClient.close();
        } catch (IOException e) {
            log.debug("closing the metadata client", e);
        }
        synchronized (voterLock) {
            // After a restart in progress (if any): closed is set, so no other will start.
            if (server != null) {
                try {
                    server.close();
                } catch (IOException e) {
                    log.warn("closing the metadata server", e);
                }
            }
        }
        storageProbe.shutdownNow();
        reconnector.shutdownNow();
        retiredClients.forEach(RatisMetadataLog::closeQuietly);
        retiredClients.clear();
        delivery.close();
        controllerSubmitter.shutdownNow();
    }
}
