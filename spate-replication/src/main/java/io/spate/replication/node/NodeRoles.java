package io.spate.replication.node;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.NodeInfo;
import io.spate.cluster.PartitionState;
import io.spate.cluster.TopicState;
import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import io.spate.replication.GroupCommit;
import io.spate.replication.LeadershipListener;
import io.spate.replication.Partition;
import io.spate.replication.PartitionContext;
import io.spate.time.Scheduler;
import io.spate.time.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What a node decides about its partitions' roles, in one place for the node and the simulation:
 * which partitions it hosts and whether it leads or follows each (from the metadata image), when
 * it may act as a leader at all (its lease and self-fencing, from the answers to its heartbeats),
 * when it must register again, and which in-sync set changes it asks for. It starts no thread and
 * reads time only from the clock it is given; sockets, the Raft client and the fetchers' threads
 * stay with its callers.
 *
 * <p>Thread-safe: images apply under this object's lock; the heartbeat's decisions do not take it
 * unless a role must change, since a heartbeat must not wait behind an image that opens hundreds
 * of logs (the node would miss its session and be fenced).
 */
public final class NodeRoles {
    private static final Logger log = LoggerFactory.getLogger(NodeRoles.class);

    /** Where the partitions this node follows copy from (the fetchers). */
    public interface Followers {
        void follow(Partition partition, NodeInfo leader, int leaderEpoch);

        void unfollow(TopicPartition tp);
    }

    /** What the decisions did, for the node's log or the simulation's trace. */
    public interface Events {
        void leading(TopicPartition tp, int leaderEpoch, List<Integer> isr);

        void following(TopicPartition tp, int leader, int leaderEpoch);

        /** {@code fenced}: stopped leading on its own; otherwise leads again, {@code before}: not for the first time. */
        void selfFencing(boolean fenced, boolean before);

        void askingToGrow(TopicPartition tp, int follower, long fetchOffset, List<Integer> proposal);

        void askingToShrink(TopicPartition tp, List<Integer> dropped, List<Integer> proposal);

        /**
         * The metadata changed the in-sync set of a partition this node leads, at the same leader
         * epoch: a change this node asked for, or one the controller made (a fenced node dropped).
         */
        default void isrChanged(TopicPartition tp, List<Integer> before, List<Integer> after) {
        }

        void registeringAgain();

        /** A partition led here has an offline log: this node asks to leave its in-sync set so that {@code proposal} takes over. */
        default void resigning(TopicPartition tp, String offlineReason, List<Integer> proposal) {
            log.warn("{}: this leader's log is offline ({}); asking to hand the partition to the in-sync replicas {}",
                    tp, offlineReason, proposal);
        }

        /** A partition's log could not be opened (or its role taken); the others go on. */
        void couldNotTakeRole(TopicPartition tp, Exception e);

        /** The node's log, as it has always read. */
        Events LOGGED = new Events() {
            @Override
            public void leading(TopicPartition tp, int leaderEpoch, List<Integer> isr) {
                log.info("{}: leading at epoch {} with in-sync replicas {}", tp, leaderEpoch, isr);
            }

            @Override
            public void following(TopicPartition tp, int leader, int leaderEpoch) {
                log.info("{}: following node {} at epoch {}", tp, leader, leaderEpoch);
            }

            @Override
            public void selfFencing(boolean fenced, boolean before) {
                if (fenced) {
                    log.warn("lost the controller for longer than the session timeout: no longer leading any partition");
                } else if (before) {
                    log.warn("back in touch with the controller: taking the roles the metadata gives");
                } else {
                    log.info("the controller answered: taking the roles the metadata gives");
                }
            }

            @Override
            public void askingToGrow(TopicPartition tp, int follower, long fetchOffset, List<Integer> proposal) {
                log.info("{}: follower {} caught up at offset {}; asking to grow the in-sync set to {}", tp, follower, fetchOffset, proposal);
            }

            @Override
            public void askingToShrink(TopicPartition tp, List<Integer> dropped, List<Integer> proposal) {
                log.info("{}: followers {} fell behind; asking to shrink the in-sync set to {}", tp, dropped, proposal);
            }

            @Override
            public void registeringAgain() {
                log.warn("the controller had fenced this node; registering again");
            }

            @Override
            public void couldNotTakeRole(TopicPartition tp, Exception e) {
                log.error("{}: could not take the role the metadata assigns", tp, e);
            }
        };
    }

    /** What a heartbeat's answer asks of the caller. */
    public enum AfterAnswer { NOTHING, REGISTER_AGAIN }

    private final int localId;
    private final LogManager logs;
    private final Function<TopicState, LogConfig> configs;
    private final Followers followers;
    private final IsrChanges isrChanges;
    private final long lagTimeMaxMs;
    private final Events events;
    private final Time time;
    private final PartitionContext partitionContext;
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    private volatile ClusterImage lastImage = ClusterImage.EMPTY;

    // Membership: set by join, then moved by heartbeat answers and registrations.
    private volatile long incarnation = Long.MIN_VALUE;
    private volatile LeaderLease lease;
    /**
     * Silence after which this node gives its roles up: its session plus the time one heartbeat
     * attempt may take. The lease has stopped it serving before then; the roles wait for one more
     * attempt so that a controller elected just as the session lapses (a failover takes about one
     * session here) is reached before every partition, task and coordinator on the node is torn
     * down and set up again.
     */
    private volatile long resignAfterNanos = Long.MAX_VALUE;
    private volatile boolean alone;
    /**
     * A node starts fenced: the image it replays from its own disk may be long stale (the quorum
     * moved on while it was down, or has no leader yet), and leading from it would acknowledge
     * writes the cluster later truncates. It leads once the controller has answered a heartbeat
     * of this incarnation, unfenced and caught up.
     */
    private volatile boolean selfFenced = true;
    /** Whether this process has led before (its first unfencing is start-up, not a recovery worth a warning). */
    private boolean unfencedBefore;
    private volatile long lastHeartbeatAckNanos;
    private volatile boolean registered;
    private volatile boolean registeredOnce;
    /** The metadata version at which this incarnation's registration was committed (-1: not yet). */
    private volatile long registeredAtVersion = -1;
    /** Partitions an image older than the registration left out: closed, their logs kept until a current image decides (guarded by this). */
    private final Set<TopicPartition> keptUnassigned = new HashSet<>();
    /** When the last registration was heard committed (this node's clock). */
    private volatile long registeredAtNanos = Long.MIN_VALUE;
    private volatile boolean registeringAgain;
    private volatile boolean leaving;

    /**
     * @param configs   the log settings of a topic the image names
     * @param deadlines where the partitions' write and read deadlines run
     */
    public NodeRoles(int localId, LogManager logs, Function<TopicState, LogConfig> configs, Followers followers, IsrChanges isrChanges,
                     GroupCommit groupCommit, Scheduler deadlines, LeadershipListener leadership, long lagTimeMaxMs, Events events, Time time) {
        this.localId = localId;
        this.logs = logs;
        this.configs = configs;
        this.followers = followers;
        this.isrChanges = isrChanges;
        this.lagTimeMaxMs = lagTimeMaxMs;
        this.events = events;
        this.time = time;
        this.lastHeartbeatAckNanos = time.nanos();
        this.partitionContext = new PartitionContext(groupCommit, this::holdsLease, deadlines, leadership);
    }

    public int localId() {
        return localId;
    }

    // ---- images and roles -------------------------------------------------------------------

    /**
     * Makes this node's partitions match {@code image}: opens logs for new assignments, takes
     * the leader or follower role each partition now has, and deletes logs no longer assigned.
     *
     * <p>Only an image at least as new as this node's registration deletes data. An older one
     * (replayed at a restart, or held while the node was fenced) may come from before a partition
     * moved away from this node and back: deleting by it threw away the only copy of an offline
     * partition whose last in-sync replica this node was (found by the simulation with moves: a
     * power loss of the whole cluster, then the restarted node replayed the move away, deleted its
     * log, and led the partition empty). Such an image only closes the log and keeps its files;
     * the first current image deletes it unless it assigns it here again.
     */
    public synchronized void applyImage(ClusterImage image) {
        try {
            applyRoles(image);
        } finally {
            partitionContext.leadership().onRolesApplied();
        }
    }

    private void applyRoles(ClusterImage image) {
        lastImage = image;
        long now = time.millis();
        boolean current = followsFrom(image);
        Set<TopicPartition> assigned = new HashSet<>();
        for (TopicState topic : image.topics().values()) {
            for (int p = 0; p < topic.partitions().size(); p++) {
                PartitionState state = topic.partitions().get(p);
                if (!state.replicas().contains(localId)) {
                    continue;
                }
                TopicPartition tp = new TopicPartition(topic.name(), p);
                assigned.add(tp);
                try {
                    Partition partition = partitions.get(tp);
                    UUID stored = partition != null ? logs.topicId(tp) : current ? null : logs.storedTopicId(tp);
                    if (stored != null && !stored.equals(topic.id())) {
                        if (!current) {
                            // Which of the two topics is the newer only a current image can say.
                            closeKeepingLog(tp);
                            continue;
                        }
                        // Hosted from an older image: the topic was deleted and created again
                        // under its name, and this log holds the old topic's records.
                        log.warn("{}: hosted for an earlier topic of this name (id {}); topic id {} replaces it: deleting the old log",
                                tp, stored, topic.id());
                        removePartition(tp);
                        partition = null;
                    }
                    if (partition != null && partition.log().isOffline() && ledElsewhere(state) && logs.offlineReason() == null) {
                        // Hosted offline while this node led it (the image replayed at a restart,
                        // or its own log failed while leading): another replica leads now, so the
                        // damaged data can be set aside and copied again, as host() does for a
                        // replica first hosted as a follower. Kept as it was, the replica failed
                        // every fetch and stayed out of the in-sync set until the next restart.
                        stopHosting(tp);
                        partition = null;
                    }
                    if (partition == null) {
                        partition = host(tp, topic, state);
                        keptUnassigned.remove(tp);
                    }
                    applyRole(partition, state, image, now);
                } catch (IOException | RuntimeException e) {
                    events.couldNotTakeRole(tp, e);
                }
            }
        }
        for (TopicPartition tp : Set.copyOf(partitions.keySet())) {
            if (!assigned.contains(tp)) {
                try {
                    if (current) {
                        log.info("{}: no longer assigned to this node; deleting its log", tp);
                        removePartition(tp);
                    } else {
                        closeKeepingLog(tp);
                    }
                } catch (IOException e) {
                    log.error("{}: could not delete the log of an unassigned partition", tp, e);
                }
            }
        }
        if (current && !keptUnassigned.isEmpty()) {
            for (TopicPartition tp : List.copyOf(keptUnassigned)) {
                if (!partitions.containsKey(tp)) {
                    try {
                        log.info("{}: not assigned to this node by the current metadata; deleting the log kept since an older image", tp);
                        logs.deleteStored(tp);
                    } catch (IOException e) {
                        log.error("{}: could not delete the log of an unassigned partition", tp, e);
                    }
                }
            }
            keptUnassigned.clear();
        }
    }

    /** Stops serving {@code tp} by an image older than this node's registration: its log stays on disk until a current image decides. */
    private void closeKeepingLog(TopicPartition tp) {
        if (keptUnassigned.add(tp)) {
            log.info("{}: not assigned here by metadata older than this node's registration; closing its log and keeping it", tp);
        }
        stopHosting(tp);
        logs.closeKeeping(tp);
    }

    private Partition host(TopicPartition tp, TopicState topic, PartitionState state) throws IOException {
        LogConfig config = configs.apply(topic);
        PartitionLog partitionLog = logs.getOrCreate(tp, config, topic.id());
        if (partitionLog.isOffline() && ledElsewhere(state) && logs.offlineReason() == null) {
            // Another replica leads and holds the data: set the damaged part aside (kept in
            // quarantine/) and copy it again from the leader.
            log.warn("{}: corrupt local replica ({}); setting the damaged data aside and copying it again from node {}",
                    tp, partitionLog.offlineReason(), state.leader());
            partitionLog = logs.setAsideCorruptData(tp, config);
        }
        // Beyond the high watermark checkpointed here, what this replica holds is unknown until
        // the leader says: hide it.
        partitionLog.resetHighWatermark(partitionLog.checkpointedHighWatermark());
        Partition partition = new Partition(tp, partitionLog, localId, Partition.Role.FOLLOWER, partitionContext);
        partitions.put(tp, partition);
        return partition;
    }

    private boolean ledElsewhere(PartitionState state) {
        return state.leader() >= 0 && state.leader() != localId;
    }

    private void applyRole(Partition partition, PartitionState state, ClusterImage image, long now) {
        TopicPartition tp = partition.topicPartition();
        if (state.leader() == localId && !selfFenced && registeredAsThisProcess(image)) {
            followers.unfollow(tp);
            if (partition.role() != Partition.Role.LEADER || partition.leaderEpoch() != state.leaderEpoch()) {
                events.leading(tp, state.leaderEpoch(), state.isr());
            } else if (!new java.util.HashSet<>(partition.isr()).equals(new java.util.HashSet<>(state.isr()))) {
                events.isrChanged(tp, partition.isr(), state.isr());
            }
            partition.becomeLeader(state.leaderEpoch(), state.partitionEpoch(), state.replicas(), state.isr(), now);
            resignIfOffline(partition);
            return;
        }
        int leader = state.leader() == localId ? PartitionState.NO_LEADER : state.leader();
        boolean changed = partition.role() == Partition.Role.LEADER || partition.leaderId() != leader || partition.leaderEpoch() != state.leaderEpoch();
        partition.becomeFollower(state.leaderEpoch(), state.partitionEpoch(), leader, state.replicas(), state.isr());
        NodeInfo leaderNode = leader < 0 ? null : image.node(leader);
        if (leaderNode == null || leaderNode.fenced() || !followsFrom(image)) {
            followers.unfollow(tp);
            return;
        }
        if (changed) {
            events.following(tp, leader, state.leaderEpoch());
        }
        followers.follow(partition, leaderNode, state.leaderEpoch());
    }

    /**
     * Whether this node copies as a follower by {@code image}: only once the image is at least as
     * new as this incarnation's registration. A stale image (replayed at a restart, or held
     * through a silence that got the node fenced) may name it a replica of a partition the cluster
     * moved away from it and back meanwhile; copying with the log it holds would get it counted in
     * sync, and applying the move afterwards deletes that log, leaving an empty replica that the
     * in-sync set still names (found by the fault campaigns, seed 471: leadership then moved to it
     * and the partition lost every record).
     */
    private boolean followsFrom(ClusterImage image) {
        long registeredAt = registeredAtVersion;
        return alone || (registeredAt >= 0 && image.version() >= registeredAt);
    }

    /**
     * Whether {@code image} holds this process's own registration, unfenced. An image that still
     * names an earlier incarnation of this node names leaderships that incarnation held: the
     * controller moves them when this one registers, and leading from them meanwhile would take
     * writes the cluster truncates.
     */
    private boolean registeredAsThisProcess(ClusterImage image) {
        NodeInfo self = image.node(localId);
        return self != null && !self.fenced() && self.incarnation() == incarnation;
    }

    /**
     * Deletes the logs on this node's disk that no partition assigned to it uses (Kafka's stray
     * replicas): replicas moved away, or topics deleted, while the node was down. {@code image}
     * must be at least as new as this node's registration, so that it knows of every assignment
     * this node acted on before its restart; the newer of it and the last image applied decides.
     * Returns the partitions whose logs were deleted.
     */
    public synchronized List<TopicPartition> removeStrayLogs(ClusterImage image) {
        ClusterImage current = lastImage != null && lastImage.version() > image.version() ? lastImage : image;
        List<TopicPartition> removed = new ArrayList<>();
        List<TopicPartition> stored;
        try {
            stored = logs.storedPartitions();
        } catch (IOException e) {
            log.error("could not list the partition logs on disk to find stray replicas", e);
            return List.of();
        }
        for (TopicPartition tp : stored) {
            if (partitions.containsKey(tp)) {
                continue;
            }
            PartitionState state = current.partition(tp.topic(), tp.partition());
            if (state != null && state.replicas().contains(localId)) {
                continue; // assigned: the next image applied hosts it
            }
            try {
                log.warn("{}: a stray replica ({} at metadata version {}): deleting its log", tp,
                        state == null ? "its topic or partition no longer exists" : "it was moved to " + state.replicas() + " while this node was away",
                        current.version());
                logs.deleteStored(tp);
                removed.add(tp);
            } catch (IOException e) {
                log.error("{}: could not delete the log of a stray replica", tp, e);
            }
        }
        return removed;
    }

    /** Deletes a partition's log (its topic was deleted). */
    public void removePartition(TopicPartition tp) throws IOException {
        stopHosting(tp);
        logs.delete(tp);
    }

    /** Stops copying and serving {@code tp} here (a leadership ends; writes waiting on it are refused); its log is the caller's. */
    private void stopHosting(TopicPartition tp) {
        followers.unfollow(tp);
        Partition removed = partitions.remove(tp);
        if (removed != null) {
            removed.becomeFollower(removed.leaderEpoch() + 1, removed.partitionEpoch(), -1, List.of(), List.of());
        }
    }

    public Partition partition(TopicPartition tp) {
        return partitions.get(tp);
    }

    /** Every partition hosted here, whatever its role. */
    public Collection<Partition> partitions() {
        return Collections.unmodifiableCollection(partitions.values());
    }

    /** The same, by name (a read-only view). */
    public Map<TopicPartition, Partition> partitionsByName() {
        return Collections.unmodifiableMap(partitions);
    }

    public ClusterImage lastImage() {
        return lastImage;
    }

    // ---- the lease, self-fencing and registration ---------------------------------------------

    /**
     * Sets this process's membership up before it registers: the incarnation it registers under,
     * its lease, and the session after which, with one more heartbeat attempt of up to
     * {@code attemptMs} unanswered too, it stops leading on its own (see {@link #resignAfterNanos});
     * a node that is its own only controller ({@code alone}) never does (nobody can take its leaderships).
     */
    public void join(long incarnation, LeaderLease lease, long sessionMs, long attemptMs, boolean alone) {
        this.incarnation = incarnation;
        this.lease = lease;
        this.resignAfterNanos = (sessionMs + attemptMs) * 1_000_000L;
        this.alone = alone;
        this.lastHeartbeatAckNanos = time.nanos();
    }

    /** Whether the controller answered this node recently enough for it to vouch for its leaderships (never before it joins). */
    public boolean holdsLease() {
        LeaderLease current = lease;
        return current != null && current.holds(time.nanos());
    }

    /** Whether this node may answer clients as {@code partition}'s leader now. */
    public boolean servesAsLeader(Partition partition) {
        return partition != null && partition.isLeader() && holdsLease();
    }

    /** Whether a request naming a leader epoch may be served here as the partition's leader. */
    public enum LeaderCheck {
        SERVES,
        /** This node does not lead the partition now (or may not vouch for it: no lease). */
        NOT_LEADER,
        /** The request names a newer epoch than this node knows: its metadata is behind. */
        UNKNOWN_EPOCH,
        /** The request names an older epoch: the requester's metadata is behind. */
        FENCED_EPOCH
    }

    /**
     * The leader's check of a fetch or an epoch query naming {@code currentLeaderEpoch} (-1: the
     * requester does not say), as the Fetch and OffsetForLeaderEpoch handlers and the simulation
     * make it.
     */
    public LeaderCheck leaderCheck(Partition partition, int currentLeaderEpoch) {
        return servesAsLeader(partition) ? epochCheck(partition, currentLeaderEpoch) : LeaderCheck.NOT_LEADER;
    }

    /** The epoch part of {@link #leaderCheck}, for a partition already found servable. */
    public static LeaderCheck epochCheck(Partition partition, int currentLeaderEpoch) {
        if (currentLeaderEpoch > partition.leaderEpoch()) {
            return LeaderCheck.UNKNOWN_EPOCH;
        }
        if (currentLeaderEpoch >= 0 && currentLeaderEpoch < partition.leaderEpoch()) {
            return LeaderCheck.FENCED_EPOCH;
        }
        return LeaderCheck.SERVES;
    }

    /** Whether this node stopped leading on its own (no controller, storage down, or fenced). */
    public boolean selfFenced() {
        return selfFenced;
    }

    /**
     * Stops (or resumes) leading on this node's own account. Without a change there is nothing
     * to do and no lock is taken (see the class comment).
     */
    public void setSelfFenced(boolean fenced) {
        if (selfFenced == fenced) {
            return;
        }
        synchronized (this) {
            if (selfFenced != fenced) {
                selfFenced = fenced;
                events.selfFencing(fenced, unfencedBefore);
                unfencedBefore |= !fenced;
                applyImage(lastImage);
            }
        }
    }

    /**
     * Before a heartbeat sent at {@code nowNanos}: a node whose storage is down goes silent (no
     * heartbeat: false) so that the controller fences it and moves its leaders to replicas whose
     * disks work (Kafka's offline log directory); a node unanswered for a session and one more
     * heartbeat attempt stops leading.
     */
    public boolean beforeHeartbeat(long nowNanos, String storageDown) {
        LeaderLease current = lease;
        if (storageDown != null) {
            if (current != null) {
                current.revoke();
            }
            setSelfFenced(true);
            return false;
        }
        if (!alone && registered && nowNanos - lastHeartbeatAckNanos > resignAfterNanos) {
            setSelfFenced(true);
        }
        return true;
    }

    /**
     * The controller answered the heartbeat sent at {@code sentAtNanos}. Counted from the send: an
     * answer that waited in a socket while this process was paused must not restart the session
     * as if the controller had just heard it.
     *
     * @param caughtUp       the node's metadata was as new as the controller's
     * @param imageVersion   the version of the newest image this node has now
     */
    public AfterAnswer onHeartbeatAnswer(long sentAtNanos, boolean fenced, boolean caughtUp, long imageVersion) {
        if (sentAtNanos - lastHeartbeatAckNanos > 0) {
            lastHeartbeatAckNanos = sentAtNanos;
        }
        LeaderLease current = lease;
        if (!fenced) {
            // Lead again only with metadata at least as new as the controller's at this answer, or
            // at least as new as this incarnation's registration (KRaft's rule): under a steady
            // flow of in-sync set changes a node is always a version or two behind the newest and
            // stayed fenced for minutes (found by the fault campaigns, seed 1008).
            long registeredAt = registeredAtVersion;
            if (caughtUp || (registeredAt >= 0 && imageVersion >= registeredAt)) {
                setSelfFenced(false);
            }
            if (!selfFenced && current != null) {
                current.renew(sentAtNanos);
            }
            return AfterAnswer.NOTHING;
        }
        if (current != null) {
            current.revoke();
        }
        if (registeredAtNanos != Long.MIN_VALUE && sentAtNanos - registeredAtNanos < 0) {
            // Sent before the last registration committed: it says nothing about that one (a
            // review found the node registering twice on such answers).
            return AfterAnswer.NOTHING;
        }
        if (registered && !leaving && !registeringAgain) {
            // The controller fenced us (we were silent too long): stop leading from what may be a
            // stale image, forget the old registration's version, and join again.
            events.registeringAgain();
            setSelfFenced(true);
            registeredAtVersion = -1;
            registeringAgain = true;
            return AfterAnswer.REGISTER_AGAIN;
        }
        return AfterAnswer.NOTHING;
    }

    /**
     * Whether a registration sent now says this process lost nothing unflushed: its logs were
     * closed cleanly last time ({@code cleanShutdown}), or it registers again without having stopped.
     */
    public boolean registersClean(boolean cleanShutdown) {
        return registeredOnce || cleanShutdown;
    }

    /** A registration of this incarnation was committed at {@code version}. */
    public void onRegistered(long version) {
        registeredAtNanos = time.nanos();
        registeredOnce = true;
        registeredAtVersion = version;
        registered = true;
        registeringAgain = false;
        synchronized (this) {
            ClusterImage last = lastImage;
            if (last != null && last.version() >= version) {
                applyImage(last); // the image already holds the registration: follow by it now, not at the next change
            }
        }
    }

    public boolean registered() {
        return registered;
    }

    /** Whether a registration after a fence is still on its way. */
    public boolean registeringAgain() {
        return registeringAgain;
    }

    /** A planned stop began: a fence from now on is this node's own doing, not a reason to register again. */
    public void leave() {
        leaving = true;
        registeringAgain = false;
    }

    public boolean leaving() {
        return leaving;
    }

    // ---- in-sync sets ----------------------------------------------------------------------------

    /** A follower fetched from a partition led here (with its log start, -1 if not told): track it, and ask for it to rejoin the in-sync set once caught up. */
    public void onFollowerFetch(Partition partition, int followerId, long fetchOffset, long followerLogStart, String followerRack) {
        NodeInfo follower = lastImage.node(followerId);
        // Only a follower this node's own metadata has unfenced (KIP-841): the controller refuses the others.
        boolean mayJoin = follower != null && !follower.fenced();
        List<Integer> proposal = partition.onFollowerFetch(followerId, fetchOffset, followerLogStart, time.millis(), followerRack, mayJoin);
        if (proposal != null) {
            events.askingToGrow(partition.topicPartition(), followerId, fetchOffset, proposal);
            isrChanges.propose(partition, proposal);
        }
    }

    /**
     * A leader whose own log went offline (its data failed to load, or a compaction's output could
     * not be read back) can neither take writes nor serve reads, while healthy replicas wait in its
     * in-sync set. It asks to leave that set; the controller takes the request as a resignation
     * and elects another in-sync replica, which holds everything committed. Once another node
     * leads, this one sets the damaged data aside and copies it again ({@link #applyImage}). With
     * nobody else in sync it stays as it is: no other replica holds what was committed. Not while
     * the whole data directory is offline: the node then stops, and its fencing moves every
     * leadership at once.
     *
     * @return whether the partition is led here with an offline log (nothing else is proposed for it)
     */
    private boolean resignIfOffline(Partition partition) {
        PartitionLog partitionLog = partition.log();
        if (!partition.isLeader() || !partitionLog.isOffline() || logs.offlineReason() != null) {
            return false;
        }
        List<Integer> others = partition.isr().stream().filter(id -> id != localId).toList();
        if (!others.isEmpty() && isrChanges.propose(partition, others)) {
            events.resigning(partition.topicPartition(), partitionLog.offlineReason(), others);
        }
        return true;
    }

    /** Drops followers that have not caught up for replica.lag.time.max.ms from the in-sync sets of partitions led here. */
    public void checkLaggingFollowers() {
        long now = time.millis();
        for (Partition partition : partitions.values()) {
            List<Integer> retry = partition.isrChangeToRetry();
            if (retry != null) {
                // The answer to the last change was lost: until one is known, nothing else is proposed.
                isrChanges.propose(partition, retry);
                continue;
            }
            if (resignIfOffline(partition)) {
                continue;
            }
            List<Integer> shrunk = partition.laggingIsr(now, lagTimeMaxMs);
            if (shrunk != null) {
                events.askingToShrink(partition.topicPartition(), partition.isr().stream().filter(id -> !shrunk.contains(id)).toList(), shrunk);
                isrChanges.propose(partition, shrunk);
            }
        }
    }
}
