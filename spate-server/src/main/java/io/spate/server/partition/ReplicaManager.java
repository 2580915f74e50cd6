package io.spate.server.partition;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.NodeInfo;
import io.spate.cluster.PartitionState;
import io.spate.cluster.TopicState;
import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import io.spate.replication.FetcherPool;
import io.spate.replication.Partition;
import io.spate.replication.ReplicationSettings;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The partitions this node hosts, and the one place where logs are opened, closed and told to
 * become durable. Handlers reach partitions only through here.
 *
 * <p>It hosts the partitions the metadata assigns to it and takes the role the metadata gives each one
 * (a standalone node, its own only voter, leads every partition):
 * leader (and then it also asks the controller to change the in-sync set as followers fall
 * behind or catch up) or follower (and then a fetcher copies from the leader).
 */
public final class ReplicaManager {
    private static final Logger log = LoggerFactory.getLogger(ReplicaManager.class);
    /** How long an in-sync set change may go unanswered before it counts as unknown and is sent again. */
    private static final long ISR_ANSWER_TIMEOUT_MS = 15_000;

    private final LogManager logManager;
    private final TopicRegistry topics;
    private final int localId;
    private final Map<TopicPartition, Partition> partitions = new ConcurrentHashMap<>();
    private final MetadataLog metadata;
    private final FetcherPool fetchers;
    private final IsrChangeSender isrChanges;
    private final ReplicationSettings replication;
    private volatile ClusterImage lastImage = ClusterImage.EMPTY;
    private volatile boolean selfFenced;
    /** Whether this process has led before (its first unfencing is start-up, not a recovery worth a warning). */
    private boolean unfencedBefore;
    private volatile long incarnation = Long.MIN_VALUE;
    private volatile LeaderLease lease;
    private final List<io.spate.replication.LeadershipListener> leadershipListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Deadlines of acks=all writes waiting for the in-sync replicas (and of parked reads that bring no thread of their own). */
    private final io.spate.time.SystemScheduler deadlines = new io.spate.time.SystemScheduler("spate-deadlines");
    private final io.spate.replication.ParkedReads parkedReads = new io.spate.replication.ParkedReads(deadlines);
    private final io.spate.replication.PartitionContext partitionContext;
    private final io.spate.time.Time time;

    /** A cluster member: roles come from the metadata images given to {@link #applyImage}. */
    public ReplicaManager(LogManager logManager, TopicRegistry topics, int localId, MetadataLog metadata, ReplicationSettings replication) {
        this(logManager, topics, localId, metadata, replication, io.spate.time.Time.SYSTEM);
    }

    /** As above, on {@code time}: the lease, follower lag and in-sync set requests read it. */
    public ReplicaManager(LogManager logManager, TopicRegistry topics, int localId, MetadataLog metadata, ReplicationSettings replication,
                          io.spate.time.Time time) {
        this.time = time;
        this.logManager = logManager;
        this.topics = topics;
        this.localId = localId;
        this.metadata = metadata;
        this.replication = replication;
        this.fetchers = new FetcherPool(localId, replication, time);
        this.isrChanges = new IsrChangeSender(metadata, localId, ISR_ANSWER_TIMEOUT_MS, time);
        // A member starts fenced: the image it replays from its own disk may be long stale (the
        // quorum moved on while it was down, or has no leader yet), and leading from it would
        // acknowledge writes the cluster later truncates. It leads once the controller has
        // answered a heartbeat of this incarnation, unfenced and caught up.
        this.selfFenced = true;
        this.partitionContext = new io.spate.replication.PartitionContext(
                (partitionLog, nowMs) -> logManager.flusher().flush(partitionLog), this::holdsLease, deadlines, new io.spate.replication.LeadershipListener() {
                    @Override
                    public void onBecameLeader(Partition partition, int leaderEpoch) {
                        leadershipListeners.forEach(l -> l.onBecameLeader(partition, leaderEpoch));
                    }

                    @Override
                    public void onResigned(Partition partition, int leaderEpoch) {
                        leadershipListeners.forEach(l -> l.onResigned(partition, leaderEpoch));
                    }
                });
    }

    /** Where fetches that found too little wait for appends. */
    public io.spate.replication.ParkedReads parkedReads() {
        return parkedReads;
    }

    public int localId() {
        return localId;
    }

    public void applyConfig(TopicInfo topic) {
        var config = topics.logConfig(topic);
        for (int p = 0; p < topic.partitions(); p++) {
            Partition partition = partitions.get(new TopicPartition(topic.name(), p));
            if (partition != null) {
                partition.log().updateConfig(config);
            }
        }
    }

    public void removePartitions(TopicInfo topic) throws IOException {
        for (int p = 0; p < topic.partitions(); p++) {
            TopicPartition tp = new TopicPartition(topic.name(), p);
            removePartition(tp);
        }
    }

    private void removePartition(TopicPartition tp) throws IOException {
        fetchers.unfollow(tp);
        Partition removed = partitions.remove(tp);
        if (removed != null) {
            removed.becomeFollower(removed.leaderEpoch() + 1, removed.partitionEpoch(), -1, List.of(), List.of());
        }
        logManager.delete(tp);
    }

    /** Told of every leadership a partition here takes or gives up (on the metadata thread, in order; must not block). */
    public void addLeadershipListener(io.spate.replication.LeadershipListener listener) {
        leadershipListeners.add(listener);
    }

    /**
     * Makes this node's partitions match {@code image}: opens logs for new assignments, takes
     * the leader or follower role each partition now has, and deletes logs no longer assigned.
     */
    public synchronized void applyImage(ClusterImage image) {
        lastImage = image;
        long now = time.millis();
        Set<TopicPartition> assigned = new HashSet<>();
        for (TopicState topic : image.topics().values()) {
            TopicInfo info = topics.get(topic.name());
            for (int p = 0; p < topic.partitions().size(); p++) {
                PartitionState state = topic.partitions().get(p);
                if (!state.replicas().contains(localId)) {
                    continue;
                }
                TopicPartition tp = new TopicPartition(topic.name(), p);
                assigned.add(tp);
                try {
                    Partition partition = partitions.get(tp);
                    if (partition == null) {
                        PartitionLog partitionLog = logManager.getOrCreate(tp, topics.logConfig(info));
                        if (partitionLog.isOffline() && state.leader() >= 0 && state.leader() != localId && logManager.offlineReason() == null) {
                            // Another replica leads and holds the data: set the damaged part aside
                            // (kept in quarantine/) and copy it again from the leader.
                            log.warn("{}: corrupt local replica ({}); setting the damaged data aside and copying it again from node {}",
                                    tp, partitionLog.offlineReason(), state.leader());
                            partitionLog = logManager.setAsideCorruptData(tp, topics.logConfig(info));
                        }
                        // Beyond the high watermark checkpointed here, what this replica holds is
                        // unknown until the leader says: hide it.
                        partitionLog.resetHighWatermark(partitionLog.checkpointedHighWatermark());
                        partition = new Partition(tp, partitionLog, localId, Partition.Role.FOLLOWER, partitionContext);
                        partitions.put(tp, partition);
                    }
                    applyRole(partition, state, image, now);
                } catch (IOException | RuntimeException e) {
                    log.error("{}: could not take the role the metadata assigns", tp, e);
                }
            }
        }
        for (TopicPartition tp : Set.copyOf(partitions.keySet())) {
            if (!assigned.contains(tp)) {
                try {
                    log.info("{}: no longer assigned to this node; deleting its log", tp);
                    removePartition(tp);
                } catch (IOException e) {
                    log.error("{}: could not delete the log of an unassigned partition", tp, e);
                }
            }
        }
    }

    private void applyRole(Partition partition, PartitionState state, ClusterImage image, long now) {
        TopicPartition tp = partition.topicPartition();
        if (state.leader() == localId && !selfFenced && registeredAsThisProcess(image)) {
            fetchers.unfollow(tp);
            if (partition.role() != Partition.Role.LEADER || partition.leaderEpoch() != state.leaderEpoch()) {
                log.info("{}: leading at epoch {} with in-sync replicas {}", tp, state.leaderEpoch(), state.isr());
            }
            partition.becomeLeader(state.leaderEpoch(), state.partitionEpoch(), state.replicas(), state.isr(), now);
            return;
        }
        int leader = state.leader() == localId ? PartitionState.NO_LEADER : state.leader();
        boolean changed = partition.role() == Partition.Role.LEADER || partition.leaderId() != leader || partition.leaderEpoch() != state.leaderEpoch();
        partition.becomeFollower(state.leaderEpoch(), state.partitionEpoch(), leader, state.replicas(), state.isr());
        NodeInfo leaderNode = leader < 0 ? null : image.node(leader);
        if (leaderNode == null || leaderNode.fenced()) {
            fetchers.unfollow(tp);
            return;
        }
        if (changed) {
            log.info("{}: following node {} at epoch {}", tp, leader, state.leaderEpoch());
        }
        fetchers.follow(partition, leader, leaderNode.host(), leaderNode.port(), state.leaderEpoch());
    }

    /**
     * Whether {@code image} holds this process's own registration, unfenced. An image that still
     * names an earlier incarnation of this node names leaderships that incarnation held: the
     * controller moves them when this one registers, and leading from them meanwhile would take
     * writes the cluster truncates.
     */
    private boolean registeredAsThisProcess(ClusterImage image) {
        io.spate.cluster.NodeInfo self = image.node(localId);
        return self != null && !self.fenced() && self.incarnation() == incarnation;
    }

    /**
     * Whether this node may answer clients as {@code partition}'s leader now: it leads it in the
     * metadata it holds, and (in a cluster) the controller answered a heartbeat recent enough that
     * the leadership cannot have moved by fencing while this node was paused or cut off.
     */
    public boolean servesAsLeader(Partition partition) {
        return partition != null && partition.isLeader() && holdsLease();
    }

    /** Whether the controller answered this node recently enough for it to vouch for its leaderships (never before the member joins). */
    public boolean holdsLease() {
        LeaderLease current = lease;
        return current != null && current.holds(time.nanos());
    }

    /** The lease that {@link #servesAsLeader} consults (set once by the cluster member before it joins). */
    public void setLease(LeaderLease lease) {
        this.lease = lease;
    }

    /** The incarnation this process registers under (set before it joins). */
    public void setIncarnation(long incarnation) {
        this.incarnation = incarnation;
    }

    /**
     * This node lost touch with the controller for longer than its session: it must assume it
     * has been fenced and stop acting as leader, so that two leaders never accept writes.
     */
    public void setSelfFenced(boolean fenced) {
        // Called by every heartbeat: without a change there is nothing to do, and the heartbeat must not wait for the
        // lock an image application holds while it opens hundreds of logs (a burst of topic creations), or the node
        // misses its session and the controller fences it.
        if (selfFenced == fenced) {
            return;
        }
        synchronized (this) {
            if (selfFenced != fenced) {
                selfFenced = fenced;
                if (fenced) {
                    log.warn("lost the controller for longer than the session timeout: no longer leading any partition");
                } else if (unfencedBefore) {
                    log.warn("back in touch with the controller: taking the roles the metadata gives");
                } else {
                    log.info("the controller answered: taking the roles the metadata gives");
                }
                unfencedBefore |= !fenced;
                applyImage(lastImage);
            }
        }
    }

    /** Whether this node stopped leading on its own (no controller, storage down, or fenced). */
    public boolean selfFenced() {
        return selfFenced;
    }

    /** A follower fetched from a partition led here: track it, and ask for it to rejoin the in-sync set once caught up. */
    public void onFollowerFetch(Partition partition, int followerId, long fetchOffset, String followerRack) {
        ClusterImage image = lastImage;
        NodeInfo follower = image == null ? null : image.node(followerId);
        boolean mayJoin = follower != null && !follower.fenced();
        List<Integer> proposal = partition.onFollowerFetch(followerId, fetchOffset, time.millis(), followerRack, mayJoin);
        if (proposal != null) {
            log.info("{}: follower {} caught up at offset {}; asking to grow the in-sync set to {}", partition.topicPartition(),
                    followerId, fetchOffset, proposal);
            proposeIsr(partition, proposal);
        }
    }

    /** Drops followers that have not caught up for replica.lag.time.max.ms from the in-sync sets of partitions led here. */
    public void checkLaggingFollowers() {
        long now = time.millis();
        for (Partition partition : partitions.values()) {
            List<Integer> retry = partition.isrChangeToRetry();
            if (retry != null) {
                // The answer to the last change was lost: until one is known, nothing else is proposed.
                proposeIsr(partition, retry);
                continue;
            }
            List<Integer> shrunk = partition.laggingIsr(now, replication.lagTimeMaxMs());
            if (shrunk != null) {
                log.info("{}: followers {} fell behind; asking to shrink the in-sync set to {}", partition.topicPartition(),
                        partition.isr().stream().filter(id -> !shrunk.contains(id)).toList(), shrunk);
                proposeIsr(partition, shrunk);
            }
        }
    }

    private void proposeIsr(Partition partition, List<Integer> proposed) {
        isrChanges.propose(partition, proposed);
    }

    /** This node's broker.rack ("" when unset or standalone). */
    public String rack() {
        return replication == null ? "" : replication.rack();
    }

    /** Every partition hosted here, whatever its role. */
    public java.util.Collection<Partition> hostedPartitions() {
        return java.util.Collections.unmodifiableCollection(partitions.values());
    }

    public Partition partition(TopicPartition tp) {
        return partitions.get(tp);
    }

    public Partition partition(String topic, int partition) {
        return partitions.get(new TopicPartition(topic, partition));
    }

    public LogManager logManager() {
        return logManager;
    }

    public void close() {
        fetchers.close();
        isrChanges.close();
        deadlines.close();
    }
}
