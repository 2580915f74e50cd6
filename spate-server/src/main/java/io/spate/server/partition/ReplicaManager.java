package io.spate.server.partition;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.NodeInfo;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import io.spate.replication.FetcherPool;
import io.spate.replication.LeadershipListener;
import io.spate.replication.ParkedReads;
import io.spate.replication.Partition;
import io.spate.replication.ReplicationSettings;
import io.spate.replication.node.IsrChanges;
import io.spate.replication.node.NodeRoles;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.time.SystemScheduler;
import io.spate.time.Time;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The partitions this node hosts, and the one place where logs are opened, closed and told to
 * become durable. Handlers reach partitions only through here.
 *
 * <p>It hosts the partitions the metadata assigns to it and takes the role the metadata gives each one
 * (a standalone node, its own only voter, leads every partition):
 * leader (and then it also asks the controller to change the in-sync set as followers fall
 * behind or catch up) or follower (and then a fetcher copies from the leader). The decisions are
 * {@link NodeRoles}' (which the simulation runs too); this class gives them the node's threads,
 * fetchers and metadata log.
 */
public final class ReplicaManager {
    /** How long an in-sync set change may go unanswered before it counts as unknown and is sent again. */
    private static final long ISR_ANSWER_TIMEOUT_MS = 15_000;

    private final LogManager logManager;
    private final TopicRegistry topics;
    private final io.spate.replication.quota.ReplicationThrottles throttles;
    private final FetcherPool fetchers;
    private final ReplicationSettings replication;
    private final NodeRoles roles;
    private final List<LeadershipListener> leadershipListeners = new CopyOnWriteArrayList<>();
    /** Deadlines of acks=all writes waiting for the in-sync replicas (and of parked reads that bring no thread of their own). */
    private final SystemScheduler deadlines = new SystemScheduler("spate-deadlines");
    /** In-sync set changes are batched and sent from a thread of their own, never the deadlines' one. */
    private final SystemScheduler isrChangeThread = new SystemScheduler("spate-isr-changes");
    private final ParkedReads parkedReads = new ParkedReads(deadlines);
    private final CountedRoleEvents roleEvents = new CountedRoleEvents(NodeRoles.Events.LOGGED);

    /** A cluster member: roles come from the metadata images given to {@link #applyImage}. */
    public ReplicaManager(LogManager logManager, TopicRegistry topics, int localId, MetadataLog metadata, ReplicationSettings replication) {
        this(logManager, topics, localId, metadata, replication, Time.SYSTEM);
    }

    /** As above, on {@code time}: the lease, follower lag and in-sync set requests read it. */
    public ReplicaManager(LogManager logManager, TopicRegistry topics, int localId, MetadataLog metadata, ReplicationSettings replication,
                          Time time) {
        this.logManager = logManager;
        this.topics = topics;
        this.replication = replication;
        this.throttles = new io.spate.replication.quota.ReplicationThrottles(localId, time);
        this.fetchers = new FetcherPool(localId, replication, time, throttles);
        IsrChanges isrChanges = new IsrChanges(IsrChanges.Controller.of(metadata), localId, ISR_ANSWER_TIMEOUT_MS,
                new TimedScheduler(isrChangeThread, time));
        NodeRoles.Followers followers = new NodeRoles.Followers() {
            @Override
            public void follow(Partition partition, NodeInfo leader, int leaderEpoch) {
                fetchers.follow(partition, leader.id(), leader.host(), leader.port(), leaderEpoch);
            }

            @Override
            public void unfollow(TopicPartition tp) {
                fetchers.unfollow(tp);
            }
        };
        this.roles = new NodeRoles(localId, logManager, state -> topics.logConfig(topics.get(state.name())), followers, isrChanges,
                (partitionLog, nowMs) -> logManager.flusher().flush(partitionLog), deadlines, new LeadershipListener() {
                    @Override
                    public void onBecameLeader(Partition partition, int leaderEpoch) {
                        leadershipListeners.forEach(l -> l.onBecameLeader(partition, leaderEpoch));
                    }

                    @Override
                    public void onResigned(Partition partition, int leaderEpoch) {
                        leadershipListeners.forEach(l -> l.onResigned(partition, leaderEpoch));
                    }

                    @Override
                    public void onRolesApplied() {
                        leadershipListeners.forEach(LeadershipListener::onRolesApplied);
                    }
                }, replication.lagTimeMaxMs(), roleEvents, time);
    }

    /** The role decisions: images, the lease, self-fencing, registration and in-sync set changes. */
    public NodeRoles roles() {
        return roles;
    }

    /** Leaderships taken and in-sync set changes asked for here, counted. */
    public CountedRoleEvents roleEvents() {
        return roleEvents;
    }

    /** Where fetches that found too little wait for appends. */
    public ParkedReads parkedReads() {
        return parkedReads;
    }

    public int localId() {
        return roles.localId();
    }

    public void applyConfig(TopicInfo topic) {
        var config = topics.logConfig(topic);
        for (int p = 0; p < topic.partitions(); p++) {
            Partition partition = roles.partition(new TopicPartition(topic.name(), p));
            if (partition != null) {
                partition.log().updateConfig(config);
            }
        }
    }

    public void removePartitions(TopicInfo topic) throws IOException {
        for (int p = 0; p < topic.partitions(); p++) {
            roles.removePartition(new TopicPartition(topic.name(), p));
        }
    }

    /** Told of every leadership a partition here takes or gives up (on the metadata thread, in order; must not block). */
    public void addLeadershipListener(LeadershipListener listener) {
        leadershipListeners.add(listener);
    }

    /** See {@link NodeRoles#applyImage}. */
    public void applyImage(ClusterImage image) {
        throttles.update(image);
        roles.applyImage(image);
    }

    /** The replication throttles of this node, as the last image applied sets them. */
    public io.spate.replication.quota.ReplicationThrottles throttles() {
        return throttles;
    }

    /**
     * Whether this node may answer clients as {@code partition}'s leader now: it leads it in the
     * metadata it holds, and (in a cluster) the controller answered a heartbeat recent enough that
     * the leadership cannot have moved by fencing while this node was paused or cut off.
     */
    public boolean servesAsLeader(Partition partition) {
        return roles.servesAsLeader(partition);
    }

    /** Whether the controller answered this node recently enough for it to vouch for its leaderships (never before the member joins). */
    public boolean holdsLease() {
        return roles.holdsLease();
    }

    /** Whether this node stopped leading on its own (no controller, storage down, or fenced). */
    public boolean selfFenced() {
        return roles.selfFenced();
    }

    /** See {@link NodeRoles#onFollowerFetch}. */
    public void onFollowerFetch(Partition partition, int followerId, long fetchOffset, long followerLogStart, String followerRack) {
        roles.onFollowerFetch(partition, followerId, fetchOffset, followerLogStart, followerRack);
    }

    /** See {@link NodeRoles#checkLaggingFollowers}. */
    public void checkLaggingFollowers() {
        roles.checkLaggingFollowers();
    }

    /** This node's broker.rack ("" when unset or standalone). */
    public String rack() {
        return replication == null ? "" : replication.rack();
    }

    /** Every partition hosted here, whatever its role. */
    public Collection<Partition> hostedPartitions() {
        return roles.partitions();
    }

    public Partition partition(TopicPartition tp) {
        return roles.partition(tp);
    }

    public Partition partition(String topic, int partition) {
        return roles.partition(new TopicPartition(topic, partition));
    }

    public LogManager logManager() {
        return logManager;
    }

    public void close() {
        fetchers.close();
        isrChangeThread.close();
        deadlines.close();
    }

    /** A system scheduler's thread on the member's clock (the in-sync set changes' timings read it). */
    private record TimedScheduler(SystemScheduler thread, Time time) implements io.spate.time.Scheduler {
        @Override
        public Timer schedule(long delayMs, Runnable task) {
            return thread.schedule(delayMs, task);
        }
    }
}
