package io.spate.server.group;

import io.spate.server.metadata.TopicRegistry;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.spate.log.ScheduledTasks;
import io.spate.time.Scheduler;
import io.spate.time.SystemScheduler;
import io.spate.time.Time;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The group coordinator for the classic consumer-group protocol: join, sync, heartbeat, leave,
 * and the committed offsets of every group.
 *
 * <p>All decisions run as tasks of one {@link Scheduler} (in a node, the thread
 * {@code spate-group-coordinator}), timers included, so the state machine needs no locks;
 * request handlers only submit work and wait on futures. Time is injected too: a test drives the
 * coordinator with a manual scheduler and sees session and rebalance timeouts fire exactly when
 * it moves the clock.
 * Rebalance: Empty/Stable -> PreparingRebalance (members rejoin within the rebalance timeout)
 * -> CompletingRebalance (the leader computes assignments, everyone syncs) -> Stable.
 */
public final class GroupCoordinator implements AutoCloseable {
    /** The internal topic holding committed offsets and group metadata. */
    public static final String OFFSETS_TOPIC = OffsetStore.TOPIC;
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinator.class);

    /** Settings under Kafka's broker names. */
    /**
     * @param offsetsRetentionMs             offsets.retention.minutes, in ms: committed offsets of a group without members
     *                                       expire this long after their last commit
     * @param offsetsRetentionCheckIntervalMs offsets.retention.check.interval.ms
     */
    public record Settings(int minSessionTimeoutMs, int maxSessionTimeoutMs, int initialRebalanceDelayMs,
                           int maxMetadataBytes, int offsetsTopicPartitions, short offsetsTopicReplicationFactor,
                           long offsetsRetentionMs, long offsetsRetentionCheckIntervalMs) {
        public Settings(int minSessionTimeoutMs, int maxSessionTimeoutMs, int initialRebalanceDelayMs,
                        int maxMetadataBytes, int offsetsTopicPartitions, short offsetsTopicReplicationFactor) {
            this(minSessionTimeoutMs, maxSessionTimeoutMs, initialRebalanceDelayMs, maxMetadataBytes, offsetsTopicPartitions,
                    offsetsTopicReplicationFactor, 10_080 * 60_000L, 600_000L);
        }

        public static Settings defaults() {
            return new Settings(6_000, 1_800_000, 3_000, 4_096, 50, (short) 3);
        }
    }

    private final Settings settings;
    private final Time time;
    private final OffsetStore store;
    private final TopicRegistry topics;
    /** Runs every decision and timer, one at a time. */
    private final Scheduler scheduler;
    /** The same, for futures' continuations. */
    private final Executor thread;
    /** Closed with the coordinator when it made the scheduler itself. */
    private final AutoCloseable ownedScheduler;
    private volatile boolean closed;
    private final Map<String, ClassicGroup> groups = new HashMap<>();
    private final Map<String, Map<TopicPartitionKey, CommittedOffset>> offsets = new HashMap<>();
    private final io.spate.server.partition.ReplicaManager replicas;
    /** Offsets partitions whose groups are in memory (cluster mode); touched on the coordinator thread only. */
    /** How soon a failed load of an offsets partition is tried again (while this node still leads it). */
    private static final long LOAD_RETRY_MS = 1_000;
    /** How long a new member's first join may wait for the rebalance to complete (Kafka's value). */
    static final long NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000;
    /** Offsets partitions whose groups are loaded here, with the leader epoch they are served at (coordinator thread only). */
    private final Map<Integer, Integer> loadedEpochs = new HashMap<>();

    /** A partition named by topic name, as groups commit them. */
    public record TopicPartitionKey(String topic, int partition) {
    }

    /** On its own thread, {@code spate-group-coordinator}; timestamps (commits, expiry) from {@code clock}. */
    public GroupCoordinator(Settings settings, Clock clock, io.spate.server.metadata.TopicManager topicManager,
                            io.spate.server.partition.ReplicaManager replicas) {
        this(settings, clockTime(clock), new SystemScheduler("spate-group-coordinator"), topicManager, replicas, true);
    }

    /**
     * Driven by {@code scheduler}, whose tasks must run one at a time and which network and append
     * threads schedule on (a manual scheduler only where one thread does everything, as in a unit
     * test); timestamps from {@code time}. After {@link #close} no decision or timer runs; a request
     * still waiting then is not answered (the node closes its connections first).
     */
    public GroupCoordinator(Settings settings, Time time, Scheduler scheduler, io.spate.server.metadata.TopicManager topicManager,
                            io.spate.server.partition.ReplicaManager replicas) {
        this(settings, time, scheduler, topicManager, replicas, false);
    }

    private GroupCoordinator(Settings settings, Time time, Scheduler scheduler, io.spate.server.metadata.TopicManager topicManager,
                             io.spate.server.partition.ReplicaManager replicas, boolean ownsScheduler) {
        this.settings = settings;
        this.replicas = replicas;
        this.time = time;
        this.topics = topicManager.registry();
        this.store = new OffsetStore(topicManager, replicas, time, settings.offsetsTopicPartitions(), settings.offsetsTopicReplicationFactor());
        this.scheduler = scheduler;
        this.thread = task -> scheduler.schedule(0, ScheduledTasks.logged("group coordinator task", task));
        this.ownedScheduler = ownsScheduler && scheduler instanceof AutoCloseable closeable ? closeable : null;
    }

    /** Milliseconds from a {@link Clock} (tests move it to see expiry); intervals from the monotonic counter. */
    private static Time clockTime(Clock clock) {
        return new Time() {
            @Override
            public long millis() {
                return clock.millis();
            }

            @Override
            public long nanos() {
                return Time.SYSTEM.nanos();
            }
        };
    }

    /** Starts the periodic removal of expired offsets (offsets.retention.minutes). */
    public void startOffsetExpiry() {
        long interval = settings.offsetsRetentionCheckIntervalMs();
        after(interval, "offset expiry", new Runnable() {
            @Override
            public void run() {
                try {
                    expireOffsets();
                } finally {
                    if (!closed) {
                        after(interval, "offset expiry", this);
                    }
                }
            }
        });
    }

    /** A timer on the coordinator's scheduler; what it throws is logged, not lost in a future. Nothing fires after close. */
    private Scheduler.Timer after(long delayMs, String name, Runnable task) {
        Runnable logged = ScheduledTasks.logged(name, task);
        return scheduler.schedule(delayMs, () -> {
            if (!closed) {
                logged.run();
            }
        });
    }

    /**
     * Runs on the coordinator thread. Offsets of a group with no members (or no group state at all: commits from
     * consumers using assign()) whose last commit is older than the retention are tombstoned in the offsets topic
     * and forgotten, so that abandoned groups do not hold memory and disk for ever. Groups with members keep theirs,
     * as in Kafka.
     */
    private void expireOffsets() {
        long now = time.millis();
        long cutoff = now - settings.offsetsRetentionMs();
        for (Map.Entry<String, Map<TopicPartitionKey, CommittedOffset>> entry : List.copyOf(offsets.entrySet())) {
            String groupId = entry.getKey();
            ClassicGroup group = groups.get(groupId);
            if (group != null && !group.members.isEmpty()) {
                continue;
            }
            List<TopicPartitionKey> expired = new ArrayList<>();
            entry.getValue().forEach((tp, committed) -> {
                if (committed.commitTimestamp() <= cutoff) {
                    expired.add(tp);
                }
            });
            if (expired.isEmpty()) {
                continue;
            }
            List<SimpleRecord> tombstones = new ArrayList<>(expired.size());
            expired.forEach(tp -> tombstones.add(OffsetStore.offsetRecord(groupId, tp.topic(), tp.partition(), null, now)));
            store.append(groupId, tombstones).whenCompleteAsync((ok, failure) -> {
                if (failure != null) {
                    log.warn("could not expire {} offset(s) of group {}: {}", expired.size(), groupId, failure.getMessage());
                    return;
                }
                Map<TopicPartitionKey, CommittedOffset> groupOffsets = offsets.get(groupId);
                if (groupOffsets == null) {
                    return;
                }
                // A commit that landed meanwhile is newer than the cutoff and stays.
                expired.forEach(tp -> groupOffsets.computeIfPresent(tp, (k, c) -> c.commitTimestamp() <= cutoff ? null : c));
                if (groupOffsets.isEmpty()) {
                    offsets.remove(groupId);
                }
                log.info("expired {} committed offset(s) of group {} (no commit for {} ms)", expired.size(), groupId, settings.offsetsRetentionMs());
            }, thread);
        }
    }

    /** Committed offsets held in memory, across groups (for tests and diagnostics). */
    public CompletableFuture<Integer> committedOffsetCount() {
        return call(() -> offsets.values().stream().mapToInt(Map::size).sum());
    }

    /** Rebuilds groups and committed offsets from {@code __consumer_offsets} (a standalone node leads every partition of it). */
    public void load() throws IOException {
        if (replicas.clustered()) {
            return;
        }
        try {
            call(() -> {
                store.replay(replayer());
                offsets.values().removeIf(Map::isEmpty);
                return null;
            }).get();
        } catch (Exception e) {
            throw new IOException("could not load consumer groups from " + OffsetStore.TOPIC, e);
        }
        log.info("loaded {} group(s) with committed offsets", offsets.size());
    }

    private OffsetStore.Replayed replayer() {
        return new OffsetStore.Replayed() {
            @Override
            public void offset(String group, String topic, int partition, CommittedOffset offset) {
                Map<TopicPartitionKey, CommittedOffset> groupOffsets = offsets.computeIfAbsent(group, g -> new HashMap<>());
                if (offset == null) {
                    groupOffsets.remove(new TopicPartitionKey(topic, partition));
                } else {
                    groupOffsets.put(new TopicPartitionKey(topic, partition), offset);
                }
            }

            @Override
            public void group(String group, String protocolType, String protocolName, int generation) {
                ClassicGroup g = groups.computeIfAbsent(group, ClassicGroup::new);
                g.protocolType = protocolType.isEmpty() ? null : protocolType;
                g.generationId = generation;
            }

            @Override
            public void groupDeleted(String group) {
                groups.remove(group);
                offsets.remove(group);
            }
        };
    }

    /**
     * In a cluster a group is coordinated by the leader of its offsets partition. This listener
     * loads the groups of an offsets partition when this node comes to lead it (replaying them
     * from the log it now leads) and drops them when it stops, whose members then find the new
     * coordinator. The calls are handled on the coordinator thread in the order they came, one
     * each time a leadership begins or ends: a partition that was lost and led again between two
     * looks is dropped and loaded again, so groups are never served from a log another leader
     * has since truncated and written.
     */
    public io.spate.replication.LeadershipListener offsetsLeadership() {
        return new io.spate.replication.LeadershipListener() {
            @Override
            public void onBecameLeader(io.spate.replication.Partition partition, int leaderEpoch) {
                if (partition.topicPartition().topic().equals(OffsetStore.TOPIC)) {
                    onCoordinatorThread(() -> load(partition.topicPartition().partition(), leaderEpoch));
                }
            }

            @Override
            public void onResigned(io.spate.replication.Partition partition, int leaderEpoch) {
                if (partition.topicPartition().topic().equals(OffsetStore.TOPIC)) {
                    onCoordinatorThread(() -> unload(partition.topicPartition().partition(), leaderEpoch));
                }
            }
        };
    }

    private void onCoordinatorThread(Runnable task) {
        if (!replicas.clustered() || closed) {
            return; // the node is stopping: nothing to coordinate any more
        }
        thread.execute(task);
    }

    private void load(int p, int leaderEpoch) {
        io.spate.replication.Partition partition = replicas.partition(OffsetStore.TOPIC, p);
        if (partition == null || !partition.isLeader() || partition.leaderEpoch() != leaderEpoch) {
            return; // this leadership has already ended: its resignation is queued behind
        }
        if (loadedEpochs.containsKey(p)) {
            loadedEpochs.put(p, leaderEpoch); // led throughout, only the epoch moved: a leader's log is never truncated under it
            return;
        }
        try {
            int before = groups.size();
            store.replay(p, replayer());
            offsets.values().removeIf(Map::isEmpty);
            loadedEpochs.put(p, leaderEpoch);
            log.info("now coordinating the groups of {}-{} at leader epoch {} ({} group(s) loaded)", OffsetStore.TOPIC, p, leaderEpoch,
                    groups.size() - before);
        } catch (IOException | RuntimeException e) {
            // Nothing else would ask again until the leadership changes: its groups would answer
            // COORDINATOR_LOAD_IN_PROGRESS for good. Try again while this leadership lasts.
            log.error("could not load the groups of {}-{}; trying again in {} ms", OffsetStore.TOPIC, p, LOAD_RETRY_MS, e);
            if (!closed) {
                after(LOAD_RETRY_MS, "load of " + OffsetStore.TOPIC + "-" + p, () -> load(p, leaderEpoch));
            }
        }
    }

    private void unload(int p, int leaderEpoch) {
        if (loadedEpochs.remove(p) == null) {
            return;
        }
        groups.values().removeIf(g -> {
            if (store.partitionFor(g.groupId) != p) {
                return false;
            }
            g.members.values().forEach(m -> cancel(m.sessionTimer));
            return true;
        });
        offsets.keySet().removeIf(g -> store.partitionFor(g) == p);
        log.info("no longer coordinating the groups of {}-{} (led at epoch {})", OffsetStore.TOPIC, p, leaderEpoch);
    }

    /** Runs on the coordinator thread: refuses groups whose offsets partition this node does not lead (yet). */
    private void requireCoordinator(String groupId) {
        if (!replicas.clustered()) {
            return;
        }
        int p = store.partitionFor(groupId);
        io.spate.replication.Partition partition = replicas.partition(OffsetStore.TOPIC, p);
        if (!replicas.servesAsLeader(partition)) {
            throw new org.apache.kafka.common.errors.NotCoordinatorException("this node does not coordinate group '" + groupId + "'");
        }
        Integer loadedAt = loadedEpochs.get(p);
        if (loadedAt == null || loadedAt != partition.leaderEpoch()) {
            // Not loaded yet, or loaded under a leadership that has since ended (the calls that
            // drop and load it again are queued behind this request): nothing here is current.
            throw new org.apache.kafka.common.errors.CoordinatorLoadInProgressException("group '" + groupId + "' is being loaded");
        }
    }

    /** The offsets partition that holds {@code groupId}. */
    public int partitionFor(String groupId) {
        return store.partitionFor(groupId);
    }

    /** Makes sure the offsets topic exists, completing once it does (in a cluster, once the controller has it). */
    public CompletableFuture<Void> ensureOffsetsTopicAsync() {
        return store.ensureTopicAsync().thenApply(topic -> null);
    }

    private <T> CompletableFuture<T> call(Callable<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(Errors.COORDINATOR_NOT_AVAILABLE.exception("the group coordinator is stopping"));
            return result;
        }
        thread.execute(() -> {
            try {
                result.complete(task.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    private <T> CompletableFuture<T> callAsync(Callable<CompletableFuture<T>> task) {
        return call(task).thenCompose(f -> f);
    }

    // ---------------------------------------------------------------- join

    public CompletableFuture<JoinGroupResponseData> joinGroup(JoinGroupRequestData request, short version, String clientId, String clientHost) {
        return callAsync(() -> {
            requireCoordinator(request.groupId());
            return doJoin(request, version, clientId, clientHost);
        });
    }

    private CompletableFuture<JoinGroupResponseData> doJoin(JoinGroupRequestData request, short version, String clientId, String clientHost) {
        String groupId = request.groupId();
        String memberId = request.memberId();
        int rebalanceTimeout = version >= 1 ? request.rebalanceTimeoutMs() : request.sessionTimeoutMs();
        if (groupId == null || groupId.isEmpty()) {
            return joinError(Errors.INVALID_GROUP_ID, memberId);
        }
        if (request.sessionTimeoutMs() < settings.minSessionTimeoutMs() || request.sessionTimeoutMs() > settings.maxSessionTimeoutMs()) {
            return joinError(Errors.INVALID_SESSION_TIMEOUT, memberId);
        }
        Map<String, byte[]> protocols = new LinkedHashMap<>();
        request.protocols().forEach(p -> protocols.put(p.name(), p.metadata()));
        ClassicGroup group = groups.computeIfAbsent(groupId, ClassicGroup::new);
        if (group.is(GroupState.DEAD)) {
            return joinError(Errors.COORDINATOR_NOT_AVAILABLE, memberId);
        }
        if (!group.supports(request.protocolType(), protocols.keySet())) {
            return joinError(Errors.INCONSISTENT_GROUP_PROTOCOL, memberId);
        }
        String instanceId = version >= 5 ? request.groupInstanceId() : null;
        if (memberId.isEmpty()) {
            String newId = clientId + "-" + UUID.randomUUID();
            if (instanceId != null && group.staticMembers.containsKey(instanceId)) {
                return rejoinStatic(group, instanceId, newId, request, protocols, version, rebalanceTimeout);
            }
            if (instanceId == null && version >= 4) {
                group.pendingMembers.add(newId);
                return joinError(Errors.MEMBER_ID_REQUIRED, newId);
            }
            GroupMember member = new GroupMember(newId, instanceId, clientId, clientHost);
            return addMemberAndRebalance(group, member, request, protocols, version, rebalanceTimeout);
        }
        GroupMember member = group.members.get(memberId);
        if (member == null) {
            if (group.pendingMembers.remove(memberId)) {
                return addMemberAndRebalance(group, new GroupMember(memberId, instanceId, clientId, clientHost), request, protocols, version, rebalanceTimeout);
            }
            return joinError(Errors.UNKNOWN_MEMBER_ID, memberId);
        }
        if (instanceId != null && !memberId.equals(group.staticMembers.get(instanceId))) {
            return joinError(Errors.FENCED_INSTANCE_ID, memberId);
        }
        return updateMemberAndMaybeRebalance(group, member, request, protocols, version, rebalanceTimeout);
    }

    private CompletableFuture<JoinGroupResponseData> addMemberAndRebalance(ClassicGroup group, GroupMember member, JoinGroupRequestData request,
                                                                           Map<String, byte[]> protocols, short version, int rebalanceTimeout) {
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        member.rebalanceTimeoutMs = rebalanceTimeout;
        member.protocolType = request.protocolType();
        member.protocols = protocols;
        member.joinVersion = version;
        member.isNew = true;
        member.awaitingJoin = new CompletableFuture<>();
        if (group.members.isEmpty()) {
            group.protocolType = request.protocolType();
        }
        if (group.leaderId == null) {
            group.leaderId = member.memberId;
        }
        group.members.put(member.memberId, member);
        if (member.isStatic()) {
            group.staticMembers.put(member.groupInstanceId, member.memberId);
        }
        // A newcomer's join is held up to five minutes, as in Kafka, not one session: a slow member
        // may keep the rebalance open far longer, and dropping the newcomer meanwhile would send it
        // back to the start (a new member id, a new wait) over and over.
        scheduleExpiry(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
        CompletableFuture<JoinGroupResponseData> response = member.awaitingJoin;
        maybePrepareRebalance(group, "member " + member.memberId + " joined");
        return response;
    }

    private CompletableFuture<JoinGroupResponseData> updateMemberAndMaybeRebalance(ClassicGroup group, GroupMember member, JoinGroupRequestData request,
                                                                                   Map<String, byte[]> protocols, short version, int rebalanceTimeout) {
        boolean changed = !sameProtocols(member.protocols, protocols);
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        member.rebalanceTimeoutMs = rebalanceTimeout;
        member.protocols = protocols;
        member.joinVersion = version;
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(joinResponse(group, member, Errors.UNKNOWN_MEMBER_ID).setMemberId(member.memberId));
        }
        member.awaitingJoin = new CompletableFuture<>();
        CompletableFuture<JoinGroupResponseData> response = member.awaitingJoin;
        scheduleSessionTimeout(group, member);
        switch (group.state) {
            case PREPARING_REBALANCE -> maybeCompleteJoin(group);
            case COMPLETING_REBALANCE, STABLE -> {
                if (changed || member.memberId.equals(group.leaderId)) {
                    maybePrepareRebalance(group, "member " + member.memberId + " rejoined");
                } else {
                    // Nothing changed: hand the current generation back without a rebalance.
                    CompletableFuture<JoinGroupResponseData> current = member.awaitingJoin;
                    member.awaitingJoin = null;
                    current.complete(joinResponse(group, member, Errors.NONE));
                }
            }
            default -> maybePrepareRebalance(group, "member " + member.memberId + " rejoined");
        }
        return response;
    }

    private CompletableFuture<JoinGroupResponseData> rejoinStatic(ClassicGroup group, String instanceId, String newId, JoinGroupRequestData request,
                                                                  Map<String, byte[]> protocols, short version, int rebalanceTimeout) {
        GroupMember member = group.members.remove(group.staticMembers.get(instanceId));
        String oldId = member.memberId;
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(new JoinGroupResponseData().setErrorCode(Errors.FENCED_INSTANCE_ID.code()).setMemberId(oldId));
            member.awaitingJoin = null;
        }
        if (member.awaitingSync != null) {
            member.awaitingSync.complete(new SyncGroupResponseData().setErrorCode(Errors.FENCED_INSTANCE_ID.code()));
            member.awaitingSync = null;
        }
        member.memberId = newId;
        group.members.put(newId, member);
        group.staticMembers.put(instanceId, newId);
        if (oldId.equals(group.leaderId)) {
            group.leaderId = newId;
        }
        boolean changed = !sameProtocols(member.protocols, protocols);
        member.protocols = protocols;
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        member.rebalanceTimeoutMs = rebalanceTimeout;
        member.joinVersion = version;
        scheduleSessionTimeout(group, member);
        boolean leader = newId.equals(group.leaderId);
        if (group.is(GroupState.STABLE) && !changed && (!leader || version >= 9)) {
            // A static member restarting with the same subscription keeps its assignment: no rebalance.
            JoinGroupResponseData response = joinResponse(group, member, Errors.NONE);
            if (leader) {
                response.setSkipAssignment(true);
                response.setMembers(memberList(group));
            }
            log.info("group {}: static member {} rejoined as {} without a rebalance", group.groupId, instanceId, newId);
            return CompletableFuture.completedFuture(response);
        }
        member.awaitingJoin = new CompletableFuture<>();
        CompletableFuture<JoinGroupResponseData> response = member.awaitingJoin;
        if (group.is(GroupState.PREPARING_REBALANCE)) {
            maybeCompleteJoin(group);
        } else {
            maybePrepareRebalance(group, "static member " + instanceId + " rejoined");
        }
        return response;
    }

    private static boolean sameProtocols(Map<String, byte[]> a, Map<String, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<String, byte[]> e : a.entrySet()) {
            if (!java.util.Arrays.equals(e.getValue(), b.get(e.getKey()))) {
                return false;
            }
        }
        return new ArrayList<>(a.keySet()).equals(new ArrayList<>(b.keySet()));
    }

    private void maybePrepareRebalance(ClassicGroup group, String reason) {
        if (group.is(GroupState.PREPARING_REBALANCE)) {
            maybeCompleteJoin(group);
            return;
        }
        boolean wasEmpty = group.is(GroupState.EMPTY);
        cancel(group.syncTimer);
        for (GroupMember member : group.members.values()) {
            if (member.awaitingSync != null) {
                member.awaitingSync.complete(new SyncGroupResponseData().setErrorCode(Errors.REBALANCE_IN_PROGRESS.code()));
                member.awaitingSync = null;
            }
        }
        group.state = GroupState.PREPARING_REBALANCE;
        log.info("group {}: preparing to rebalance ({}), generation {}", group.groupId, reason, group.generationId);
        // A group forming from empty waits group.initial.rebalance.delay.ms for more members, so
        // that consumers starting together share one rebalance instead of several.
        group.initialDelay = wasEmpty && settings.initialRebalanceDelayMs() > 0;
        long delay = group.initialDelay ? settings.initialRebalanceDelayMs() : group.rebalanceTimeoutMs();
        cancel(group.joinTimer);
        group.joinTimer = after(delay, "join completion", () -> completeJoin(group));
        maybeCompleteJoin(group);
    }

    private void maybeCompleteJoin(ClassicGroup group) {
        if (group.is(GroupState.PREPARING_REBALANCE) && !group.initialDelay && !group.members.isEmpty() && group.allMembersJoined()) {
            completeJoin(group);
        }
    }

    /** Ends the join phase: drops members that did not rejoin, starts a new generation, answers every join. */
    private void completeJoin(ClassicGroup group) {
        if (!group.is(GroupState.PREPARING_REBALANCE)) {
            return;
        }
        cancel(group.joinTimer);
        group.joinTimer = null;
        group.initialDelay = false;
        for (GroupMember member : new ArrayList<>(group.members.values())) {
            if (member.awaitingJoin == null) {
                removeMember(group, member, "did not rejoin within the rebalance timeout");
            }
        }
        group.pendingMembers.clear();
        group.generationId++;
        if (group.members.isEmpty()) {
            group.state = GroupState.EMPTY;
            group.protocolName = null;
            group.leaderId = null;
            persistGroup(group);
            return;
        }
        group.protocolName = group.selectProtocol();
        if (group.leaderId == null || !group.members.containsKey(group.leaderId)) {
            group.leaderId = group.members.keySet().iterator().next();
        }
        group.state = GroupState.COMPLETING_REBALANCE;
        log.info("group {}: generation {} with {} member(s), protocol {}", group.groupId, group.generationId, group.members.size(), group.protocolName);
        for (GroupMember member : group.members.values()) {
            JoinGroupResponseData response = joinResponse(group, member, Errors.NONE);
            if (member.memberId.equals(group.leaderId)) {
                response.setMembers(memberList(group));
            }
            member.isNew = false;
            CompletableFuture<JoinGroupResponseData> waiting = member.awaitingJoin;
            member.awaitingJoin = null;
            waiting.complete(response);
            scheduleSessionTimeout(group, member);
        }
        int generation = group.generationId;
        group.syncTimer = after(Math.max(1, group.rebalanceTimeoutMs()), "sync timeout", () -> {
            if (group.is(GroupState.COMPLETING_REBALANCE) && group.generationId == generation) {
                for (GroupMember member : new ArrayList<>(group.members.values())) {
                    if (member.awaitingSync == null) {
                        removeMember(group, member, "did not sync within the rebalance timeout");
                    }
                }
                maybePrepareRebalance(group, "members failed to sync");
            }
        });
    }

    private static List<JoinGroupResponseData.JoinGroupResponseMember> memberList(ClassicGroup group) {
        List<JoinGroupResponseData.JoinGroupResponseMember> list = new ArrayList<>();
        for (GroupMember m : group.members.values()) {
            list.add(new JoinGroupResponseData.JoinGroupResponseMember().setMemberId(m.memberId)
                    .setGroupInstanceId(m.joinVersion >= 5 ? m.groupInstanceId : null).setMetadata(m.metadata(group.protocolName)));
        }
        return list;
    }

    private static JoinGroupResponseData joinResponse(ClassicGroup group, GroupMember member, Errors error) {
        JoinGroupResponseData response = new JoinGroupResponseData().setErrorCode(error.code())
                .setGenerationId(group.generationId).setProtocolName(group.protocolName)
                .setLeader(group.leaderId == null ? "" : group.leaderId).setMemberId(member.memberId);
        if (member.joinVersion >= 7) {
            response.setProtocolType(group.protocolType);
        }
        return response;
    }

    private static CompletableFuture<JoinGroupResponseData> joinError(Errors error, String memberId) {
        return CompletableFuture.completedFuture(new JoinGroupResponseData().setErrorCode(error.code())
                .setMemberId(memberId == null ? "" : memberId).setGenerationId(-1).setLeader("").setProtocolName(null));
    }

    // ---------------------------------------------------------------- sync

    public CompletableFuture<SyncGroupResponseData> syncGroup(SyncGroupRequestData request, short version) {
        return callAsync(() -> {
            requireCoordinator(request.groupId());
            return doSync(request, version);
        });
    }

    private CompletableFuture<SyncGroupResponseData> doSync(SyncGroupRequestData request, short version) {
        ClassicGroup group = groups.get(request.groupId());
        if (group == null || group.is(GroupState.DEAD)) {
            return syncError(Errors.UNKNOWN_MEMBER_ID);
        }
        GroupMember member = group.members.get(request.memberId());
        if (member == null) {
            return syncError(Errors.UNKNOWN_MEMBER_ID);
        }
        String instanceId = version >= 3 ? request.groupInstanceId() : null;
        if (instanceId != null && !request.memberId().equals(group.staticMembers.get(instanceId))) {
            return syncError(Errors.FENCED_INSTANCE_ID);
        }
        if (request.generationId() != group.generationId) {
            return syncError(Errors.ILLEGAL_GENERATION);
        }
        if (version >= 5 && ((request.protocolType() != null && !request.protocolType().equals(group.protocolType))
                || (request.protocolName() != null && !request.protocolName().equals(group.protocolName)))) {
            return syncError(Errors.INCONSISTENT_GROUP_PROTOCOL);
        }
        switch (group.state) {
            case PREPARING_REBALANCE:
                return syncError(Errors.REBALANCE_IN_PROGRESS);
            case STABLE:
                scheduleSessionTimeout(group, member);
                return CompletableFuture.completedFuture(syncResponse(group, member));
            case COMPLETING_REBALANCE:
                break;
            default:
                return syncError(Errors.UNKNOWN_MEMBER_ID);
        }
        member.awaitingSync = new CompletableFuture<>();
        CompletableFuture<SyncGroupResponseData> response = member.awaitingSync;
        scheduleSessionTimeout(group, member);
        if (member.memberId.equals(group.leaderId)) {
            Map<String, byte[]> assignments = new HashMap<>();
            request.assignments().forEach(a -> assignments.put(a.memberId(), a.assignment()));
            for (GroupMember m : group.members.values()) {
                m.assignment = assignments.getOrDefault(m.memberId, new byte[0]);
            }
            int generation = group.generationId;
            persistGroup(group).whenCompleteAsync((ok, failure) -> {
                if (!group.is(GroupState.COMPLETING_REBALANCE) || group.generationId != generation) {
                    return;
                }
                if (failure != null) {
                    // Usually this node lost the offsets partition's leadership mid-write: an
                    // ordinary event of a failover, not a fault of this node, hence no stack.
                    log.warn("group {}: could not store the assignment ({}); the group rebalances", group.groupId,
                            failure.getCause() == null ? failure.toString() : failure.getCause().toString());
                    maybePrepareRebalance(group, "assignment could not be stored");
                    return;
                }
                cancel(group.syncTimer);
                group.state = GroupState.STABLE;
                for (GroupMember m : group.members.values()) {
                    if (m.awaitingSync != null) {
                        m.awaitingSync.complete(syncResponse(group, m));
                        m.awaitingSync = null;
                    }
                }
            }, thread);
        }
        return response;
    }

    private static SyncGroupResponseData syncResponse(ClassicGroup group, GroupMember member) {
        return new SyncGroupResponseData().setAssignment(member.assignment)
                .setProtocolType(group.protocolType).setProtocolName(group.protocolName);
    }

    private static CompletableFuture<SyncGroupResponseData> syncError(Errors error) {
        return CompletableFuture.completedFuture(new SyncGroupResponseData().setErrorCode(error.code()).setAssignment(new byte[0]));
    }

    private CompletableFuture<Void> persistGroup(ClassicGroup group) {
        long now = time.millis();
        return store.append(group.groupId, List.of(OffsetStore.groupRecord(group.groupId, group.protocolType, group.protocolName, group.generationId, false, now)));
    }

    // ---------------------------------------------------------------- heartbeat, leave, expiry

    public CompletableFuture<Errors> heartbeat(String groupId, String memberId, String instanceId, int generationId) {
        return call(() -> {
            requireCoordinator(groupId);
            ClassicGroup group = groups.get(groupId);
            if (group == null || group.is(GroupState.DEAD)) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            GroupMember member = group.members.get(memberId);
            if (member == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            if (instanceId != null && !memberId.equals(group.staticMembers.get(instanceId))) {
                return Errors.FENCED_INSTANCE_ID;
            }
            if (generationId != group.generationId) {
                return Errors.ILLEGAL_GENERATION;
            }
            scheduleSessionTimeout(group, member);
            return group.is(GroupState.PREPARING_REBALANCE) ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
        });
    }

    /** A member leaving; {@code memberId} may be empty when only the instance id is known. */
    public CompletableFuture<Errors> leaveGroup(String groupId, String memberId, String instanceId) {
        return call(() -> {
            requireCoordinator(groupId);
            ClassicGroup group = groups.get(groupId);
            if (group == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            String id = memberId;
            if (instanceId != null) {
                String known = group.staticMembers.get(instanceId);
                if (known == null) {
                    return Errors.UNKNOWN_MEMBER_ID;
                }
                if (!id.isEmpty() && !id.equals(known)) {
                    return Errors.FENCED_INSTANCE_ID;
                }
                id = known;
            }
            GroupMember member = group.members.get(id);
            if (member == null) {
                return group.pendingMembers.remove(id) ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
            }
            removeMember(group, member, "left the group");
            afterMemberRemoved(group);
            return Errors.NONE;
        });
    }

    private void scheduleSessionTimeout(ClassicGroup group, GroupMember member) {
        scheduleExpiry(group, member, member.sessionTimeoutMs);
    }

    private void scheduleExpiry(ClassicGroup group, GroupMember member, long timeoutMs) {
        cancel(member.sessionTimer);
        member.sessionTimer = after(timeoutMs, "session timeout", () -> onSessionTimeout(group, member));
    }

    private void onSessionTimeout(ClassicGroup group, GroupMember member) {
        if (group.members.get(member.memberId) != member) {
            return;
        }
        if (member.awaitingJoin != null && !member.isNew) {
            return; // a parked join is governed by the rebalance timeout
        }
        removeMember(group, member, member.isNew
                ? "its first join did not complete within " + NEW_MEMBER_JOIN_TIMEOUT_MS + " ms"
                : "session timed out after " + member.sessionTimeoutMs + " ms without a heartbeat");
        afterMemberRemoved(group);
    }

    private void removeMember(ClassicGroup group, GroupMember member, String why) {
        log.info("group {}: removing member {} ({})", group.groupId, member.memberId, why);
        group.members.remove(member.memberId);
        cancel(member.sessionTimer);
        if (member.isStatic() && member.memberId.equals(group.staticMembers.get(member.groupInstanceId))) {
            group.staticMembers.remove(member.groupInstanceId);
        }
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(new JoinGroupResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()).setMemberId(member.memberId));
            member.awaitingJoin = null;
        }
        if (member.awaitingSync != null) {
            member.awaitingSync.complete(new SyncGroupResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()));
            member.awaitingSync = null;
        }
        if (member.memberId.equals(group.leaderId)) {
            group.leaderId = group.members.isEmpty() ? null : group.members.keySet().iterator().next();
        }
    }

    private void afterMemberRemoved(ClassicGroup group) {
        switch (group.state) {
            case STABLE, COMPLETING_REBALANCE -> maybePrepareRebalance(group, "a member left");
            case PREPARING_REBALANCE -> {
                if (group.members.isEmpty()) {
                    completeJoin(group);
                } else {
                    maybeCompleteJoin(group);
                }
            }
            default -> {
            }
        }
    }

    // ---------------------------------------------------------------- offsets

    /** One partition's commit request. */
    public record OffsetCommit(String topic, int partition, long offset, int leaderEpoch, String metadata) {
    }

    public CompletableFuture<Map<OffsetCommit, Errors>> commitOffsets(String groupId, int generationId, String memberId, String instanceId,
                                                                      List<OffsetCommit> commits) {
        return callAsync(() -> {
            requireCoordinator(groupId);
            Map<OffsetCommit, Errors> results = new LinkedHashMap<>();
            Errors groupError = validateCommit(groupId, generationId, memberId, instanceId);
            List<SimpleRecord> records = new ArrayList<>();
            List<OffsetCommit> accepted = new ArrayList<>();
            long now = time.millis();
            for (OffsetCommit commit : commits) {
                Errors error = groupError;
                if (error == Errors.NONE) {
                    var topic = topics.get(commit.topic());
                    if (topic == null || commit.partition() < 0 || commit.partition() >= topic.partitions()) {
                        error = Errors.UNKNOWN_TOPIC_OR_PARTITION;
                    } else if (commit.metadata() != null && commit.metadata().length() > settings.maxMetadataBytes()) {
                        error = Errors.OFFSET_METADATA_TOO_LARGE;
                    }
                }
                results.put(commit, error);
                if (error == Errors.NONE) {
                    accepted.add(commit);
                    records.add(OffsetStore.offsetRecord(groupId, commit.topic(), commit.partition(),
                            new CommittedOffset(commit.offset(), commit.leaderEpoch(), commit.metadata(), now), now));
                }
            }
            if (records.isEmpty()) {
                return CompletableFuture.completedFuture(results);
            }
            groups.computeIfAbsent(groupId, ClassicGroup::new);
            return store.append(groupId, records).handleAsync((ok, failure) -> {
                if (failure != null) {
                    Errors error = storeError(failure);
                    accepted.forEach(c -> results.put(c, error));
                    return results;
                }
                Map<TopicPartitionKey, CommittedOffset> groupOffsets = offsets.computeIfAbsent(groupId, g -> new HashMap<>());
                for (OffsetCommit c : accepted) {
                    groupOffsets.put(new TopicPartitionKey(c.topic(), c.partition()),
                            new CommittedOffset(c.offset(), c.leaderEpoch(), c.metadata(), now));
                }
                return results;
            }, thread);
        });
    }

    private Errors validateCommit(String groupId, int generationId, String memberId, String instanceId) {
        if (groupId == null || groupId.isEmpty()) {
            return Errors.INVALID_GROUP_ID;
        }
        ClassicGroup group = groups.get(groupId);
        boolean simple = generationId < 0 && (memberId == null || memberId.isEmpty());
        if (group == null || group.is(GroupState.EMPTY) && group.members.isEmpty()) {
            return simple ? Errors.NONE : Errors.ILLEGAL_GENERATION;
        }
        if (simple) {
            return group.members.isEmpty() ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
        }
        GroupMember member = group.members.get(memberId);
        if (member == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (instanceId != null && !memberId.equals(group.staticMembers.get(instanceId))) {
            return Errors.FENCED_INSTANCE_ID;
        }
        if (generationId != group.generationId) {
            return Errors.ILLEGAL_GENERATION;
        }
        if (group.is(GroupState.COMPLETING_REBALANCE)) {
            return Errors.REBALANCE_IN_PROGRESS;
        }
        scheduleSessionTimeout(group, member);
        return Errors.NONE;
    }

    /** Committed offset per partition; partitions without one are absent. Null topics means all. */
    public CompletableFuture<Map<TopicPartitionKey, CommittedOffset>> fetchOffsets(String groupId) {
        return call(() -> {
            requireCoordinator(groupId);
            return new HashMap<>(offsets.getOrDefault(groupId, Map.of()));
        });
    }

    public CompletableFuture<Map<String, Errors>> deleteOffsets(String groupId, List<TopicPartitionKey> partitions) {
        return callAsync(() -> {
            requireCoordinator(groupId);
            Map<String, Errors> unused = new HashMap<>();
            ClassicGroup group = groups.get(groupId);
            if (group == null && !offsets.containsKey(groupId)) {
                return CompletableFuture.failedFuture(Errors.GROUP_ID_NOT_FOUND.exception());
            }
            if (group != null && !group.members.isEmpty() && !group.is(GroupState.EMPTY)) {
                return CompletableFuture.failedFuture(Errors.NON_EMPTY_GROUP.exception("group " + groupId + " has active members; stop them before deleting offsets"));
            }
            long now = time.millis();
            List<SimpleRecord> tombstones = new ArrayList<>();
            partitions.forEach(tp -> tombstones.add(OffsetStore.offsetRecord(groupId, tp.topic(), tp.partition(), null, now)));
            if (tombstones.isEmpty()) {
                return CompletableFuture.completedFuture(unused);
            }
            return store.append(groupId, tombstones).thenApplyAsync(ok -> {
                Map<TopicPartitionKey, CommittedOffset> groupOffsets = offsets.get(groupId);
                if (groupOffsets != null) {
                    partitions.forEach(groupOffsets::remove);
                }
                return unused;
            }, thread);
        });
    }

    // ---------------------------------------------------------------- admin

    /** A group as ListGroups and DescribeGroups show it. */
    public record GroupSummary(String groupId, String state, String protocolType, String protocolName, List<MemberSummary> members) {
    }

    public record MemberSummary(String memberId, String groupInstanceId, String clientId, String clientHost, byte[] metadata, byte[] assignment) {
    }

    public CompletableFuture<List<GroupSummary>> listGroups() {
        return call(() -> {
            List<GroupSummary> list = new ArrayList<>();
            java.util.Set<String> ids = new java.util.TreeSet<>(groups.keySet());
            ids.addAll(offsets.keySet());
            ids.forEach(id -> list.add(summary(id)));
            return list;
        });
    }

    public CompletableFuture<GroupSummary> describeGroup(String groupId) {
        return call(() -> {
            requireCoordinator(groupId);
            return groups.containsKey(groupId) || offsets.containsKey(groupId) ? summary(groupId) : null;
        });
    }

    private GroupSummary summary(String groupId) {
        ClassicGroup group = groups.get(groupId);
        if (group == null) {
            return new GroupSummary(groupId, GroupState.EMPTY.displayName(), "", "", List.of());
        }
        List<MemberSummary> members = new ArrayList<>();
        group.members.values().forEach(m -> members.add(new MemberSummary(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                group.protocolName == null ? new byte[0] : m.metadata(group.protocolName), m.assignment)));
        return new GroupSummary(groupId, group.state.displayName(), group.protocolType == null ? "" : group.protocolType,
                group.protocolName == null ? "" : group.protocolName, members);
    }

    public CompletableFuture<Errors> deleteGroup(String groupId) {
        return callAsync(() -> {
            requireCoordinator(groupId);
            ClassicGroup group = groups.get(groupId);
            if (group == null && !offsets.containsKey(groupId)) {
                return CompletableFuture.completedFuture(Errors.GROUP_ID_NOT_FOUND);
            }
            if (group != null && !group.members.isEmpty()) {
                return CompletableFuture.completedFuture(Errors.NON_EMPTY_GROUP);
            }
            long now = time.millis();
            List<SimpleRecord> tombstones = new ArrayList<>();
            offsets.getOrDefault(groupId, Map.of()).keySet().forEach(tp -> tombstones.add(OffsetStore.offsetRecord(groupId, tp.topic(), tp.partition(), null, now)));
            tombstones.add(OffsetStore.groupRecord(groupId, null, null, 0, true, now));
            return store.append(groupId, tombstones).handleAsync((ok, failure) -> {
                if (failure != null) {
                    return storeError(failure);
                }
                groups.remove(groupId);
                offsets.remove(groupId);
                return Errors.NONE;
            }, thread);
        });
    }

    /** The error a member gets when the offsets store could not take its group's records (see {@link OffsetStore#coordinatorError}). */
    private static Errors storeError(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        return cause instanceof ApiException api ? Errors.forException(api) : Errors.COORDINATOR_NOT_AVAILABLE;
    }

    private static void cancel(Scheduler.Timer timer) {
        if (timer != null) {
            timer.cancel();
        }
    }

    @Override
    public void close() {
        closed = true;
        if (ownedScheduler != null) {
            try {
                ownedScheduler.close();
            } catch (Exception e) {
                log.warn("could not stop the group coordinator's thread", e);
            }
        }
    }
}
