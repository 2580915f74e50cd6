package io.spate.server.group;

import io.spate.coordinator.CoordinatorResult;
import io.spate.coordinator.CoordinatorRuntime;
import io.spate.log.ScheduledTasks;
import io.spate.server.errors.CoordinatorRefusals;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;
import io.spate.server.metadata.TopicRegistry;
import io.spate.time.Scheduler;
import io.spate.time.SystemScheduler;
import io.spate.time.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

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
     * @param offsetsRetentionMs             offsets.retention.minutes, in ms: committed offsets of a group expire once it
     *                                       has been empty this long (offsets without a group: this long after their last commit)
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
    /** Runs every decision and timer, one at a time: the runtime's thread. */
    private final Scheduler scheduler;
    /** Closed with the coordinator when it made the scheduler itself. */
    private final AutoCloseable ownedScheduler;
    /** The groups, one shard per partition of the offsets topic, and the records that make them durable. */
    private final CoordinatorRuntime<GroupShard, GroupRecord> runtime;
    private final io.spate.server.partition.ReplicaManager replicas;
    private volatile boolean closed;
    /** How long a new member's first join may wait for the rebalance to complete (Kafka's value). */
    static final long NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000;

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
        this.time = time;
        this.replicas = replicas;
        this.topics = topicManager.registry();
        this.store = new OffsetStore(topicManager, settings.offsetsTopicPartitions(), settings.offsetsTopicReplicationFactor());
        this.scheduler = scheduler;
        this.ownedScheduler = ownsScheduler && scheduler instanceof AutoCloseable closeable ? closeable : null;
        CoordinatorRuntime.Partitions partitions = new CoordinatorRuntime.Partitions() {
            @Override
            public io.spate.replication.Partition partition(int p) {
                return replicas.partition(OffsetStore.TOPIC, p);
            }

            @Override
            public boolean leads(io.spate.replication.Partition partition) {
                return replicas.servesAsLeader(partition);
            }
        };
        // Each shard loads when this node comes to lead its partition (see offsetsLeadership()).
        this.runtime = new CoordinatorRuntime<>(OffsetStore.TOPIC, scheduler, time, partitions,
                context -> new GroupShard(context, this::startSessions), GroupRecordSerde.INSTANCE,
                OffsetStore.COMMIT_WAIT_MS);
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

    /** Starts the periodic removal of expired offsets (offsets.retention.minutes), shard by shard. */
    public void startOffsetExpiry() {
        long interval = settings.offsetsRetentionCheckIntervalMs();
        scheduler.schedule(interval, new Runnable() {
            @Override
            public void run() {
                if (closed) {
                    return;
                }
                ScheduledTasks.logged("offset expiry", () -> runtime.readAll(shard -> shard.context.partition())
                        .thenAccept(loaded -> loaded.forEach(GroupCoordinator.this::expireOffsets))).run();
                scheduler.schedule(interval, this);
            }
        });
    }

    /** Most key bytes one expiry write carries: a batch must fit the offsets topic's max.message.bytes (1 MiB). */
    static final int MAX_TOMBSTONE_BYTES_PER_WRITE = 256 * 1024;

    /** Expires what is due in the shard of {@code p}, a bounded batch at a time, until none is left. */
    private void expireOffsets(int p) {
        runtime.write(p, this::expireSome).whenComplete((expired, failure) -> {
            if (failure != null) {
                log.warn("could not expire offsets of {}-{}: {}", OffsetStore.TOPIC, p, failure.toString());
            } else if (expired && !closed) {
                expireOffsets(p);
            }
        });
    }

    /**
     * Offsets of abandoned groups are tombstoned, and forgotten when the tombstones commit, so that
     * they do not hold memory and disk for ever. As in Kafka (KIP-211): a group of a protocol
     * (consumers that joined) loses its offsets once it has been empty for the retention, however
     * old their commits (consumers skip committing partitions whose position did not move, so an
     * idle partition's commit may be days old while the group runs); offsets without a group of a
     * protocol (consumers using assign()) expire a retention after their last commit, and so do a
     * stable consumer group's offsets of topics none of its members subscribes to. Groups with
     * members keep the others, and groups with a commit on its way keep all (decided on what is
     * committed, a tombstone must not land after a newer commit).
     * Tombstones what is due, up to a batch's worth; answers whether the batch was full (more may be due).
     */
    private CoordinatorResult<GroupRecord, Boolean> expireSome(GroupShard shard) {
        long cutoff = time.millis() - settings.offsetsRetentionMs();
        List<GroupRecord> tombstones = new ArrayList<>();
        // Groups whose every committed offset is tombstoned in this batch.
        Set<String> noOffsetsLeft = new java.util.HashSet<>();
        int bytes = 0;
        for (var entry : shard.offsets.entrySet()) {
            String groupId = entry.getKey();
            ClassicGroup group = shard.groups.get(groupId);
            if (shard.offsetWritesInFlight.containsKey(groupId)) {
                continue;
            }
            boolean sinceEmpty = group != null && group.protocolType != null;
            Set<String> subscribed = Set.of();
            if (group != null && !group.members.isEmpty()) {
                // Kafka's rule: a stable consumer group's offsets of topics none of its members
                // subscribes to any more expire by their commit time; the others stay.
                if (!group.is(GroupState.STABLE) || !CONSUMER_PROTOCOL_TYPE.equals(group.protocolType)
                        || (subscribed = subscribedTopics(group)) == null) {
                    continue;
                }
                sinceEmpty = false;
            } else if (sinceEmpty && (!group.is(GroupState.EMPTY) || group.emptySince < 0)) {
                continue;
            }
            int expired = 0;
            for (var committed : entry.getValue().entrySet()) {
                if (subscribed.contains(committed.getKey().topic())) {
                    continue;
                }
                // Never before a retention from the commit either: Kafka would expire an offset committed
                // into a long-empty group (an admin's reset) at once, before anyone could use it.
                long since = sinceEmpty ? Math.max(group.emptySince, committed.getValue().commitTimestamp())
                        : committed.getValue().commitTimestamp();
                // A transaction's offset for the partition may still commit: the tombstone would void it (Kafka's rule).
                if (since <= cutoff && !shard.pendingTxnOffsets.has(groupId, committed.getKey())) {
                    tombstones.add(new GroupRecord.Offset(groupId, committed.getKey().topic(), committed.getKey().partition(), null));
                    expired++;
                    // The key, in UTF-8 at most three bytes a char, and a record's overhead.
                    bytes += 3 * (groupId.length() + committed.getKey().topic().length()) + 32;
                    if (bytes >= MAX_TOMBSTONE_BYTES_PER_WRITE) {
                        break;
                    }
                }
            }
            if (expired == entry.getValue().size()) {
                noOffsetsLeft.add(groupId);
            }
            if (bytes >= MAX_TOMBSTONE_BYTES_PER_WRITE) {
                break;
            }
        }
        // An empty group left without offsets is removed, as Kafka's offset cleanup removes it:
        // otherwise every short-lived group id would stay in memory, in ListGroups and in the log
        // for ever. Not one with a member id handed out (its join would be refused), nor with a
        // commit on its way or an open transaction's offset.
        int groupsRemoved = 0;
        for (ClassicGroup group : shard.groups.values()) {
            String groupId = group.groupId;
            if (bytes >= MAX_TOMBSTONE_BYTES_PER_WRITE) {
                break;
            }
            if (group.is(GroupState.EMPTY) && group.members.isEmpty() && group.pendingMembers.isEmpty()
                    && (!shard.offsets.containsKey(groupId) || noOffsetsLeft.contains(groupId))
                    && !shard.offsetWritesInFlight.containsKey(groupId) && !shard.pendingTxnOffsets.has(groupId)) {
                tombstones.add(new GroupRecord.Removed(groupId));
                groupsRemoved++;
                bytes += 3 * groupId.length() + 32;
            }
        }
        if (groupsRemoved > 0) {
            log.info("removing {} empty group(s) without offsets of {}-{}", groupsRemoved, OffsetStore.TOPIC, shard.context.partition());
        }
        if (tombstones.size() > groupsRemoved) {
            log.info("expiring {} committed offset(s) of {}-{} (no commit for {} ms)", tombstones.size() - groupsRemoved, OffsetStore.TOPIC,
                    shard.context.partition(), settings.offsetsRetentionMs());
        }
        return CoordinatorResult.of(tombstones, bytes >= MAX_TOMBSTONE_BYTES_PER_WRITE);
    }

    /** Committed offsets held in memory, across groups (for tests and diagnostics). */
    public CompletableFuture<Integer> committedOffsetCount() {
        return runtime.readAll(GroupShard::committedOffsetCount).thenApply(counts -> counts.stream().mapToInt(Integer::intValue).sum());
    }

    /**
     * In a cluster a group is coordinated by the leader of its offsets partition: the runtime
     * loads the groups of an offsets partition when this node comes to lead it (replaying them
     * from the log it now leads) and drops them when it stops, whose members then find the new
     * coordinator; each on the leadership call that says so, in order, so groups are never served
     * from a log another leader has since truncated and written.
     */
    public io.spate.replication.LeadershipListener offsetsLeadership() {
        return runtime.leadership();
    }

    /** The offsets partition that holds {@code groupId}. */
    public int partitionFor(String groupId) {
        return store.partitionFor(groupId);
    }

    /** Makes sure the offsets topic exists, completing once it does (in a cluster, once the controller has it). */
    public CompletableFuture<Void> ensureOffsetsTopicAsync() {
        return store.ensureTopicAsync().thenApply(topic -> null);
    }

    /** Runs {@code op} on the shard of {@code groupId}'s partition; a coordinator's refusal when it is not here. */
    private <T> CompletableFuture<T> inShard(String groupId, Function<GroupShard, T> op) {
        return refused(runtime.read(partitionFor(groupId), op));
    }

    /** As {@link #inShard}, for an operation that answers later (a join held until the rebalance completes). */
    private <T> CompletableFuture<T> inShardLater(String groupId, Function<GroupShard, CompletableFuture<T>> op) {
        return inShard(groupId, op).thenCompose(answer -> answer);
    }

    /**
     * Runs {@code op} on the shard of {@code groupId}'s partition and writes the records it
     * returns, answering once they are committed. The offsets topic is created first if need be,
     * as Kafka does when the first group appears (consumers using assign() commit without joining).
     */
    private <T> CompletableFuture<T> write(String groupId, Function<GroupShard, CoordinatorResult<GroupRecord, T>> op) {
        return write(groupId, op, null);
    }

    /** As above; {@code onSettled} runs once the records are replayed or known not to be in the log (see the runtime). */
    private <T> CompletableFuture<T> write(String groupId, Function<GroupShard, CoordinatorResult<GroupRecord, T>> op,
                                           java.util.function.Consumer<GroupShard> onSettled) {
        if (store.topicExists()) {
            return refused(runtime.write(partitionFor(groupId), op, onSettled));
        }
        return refused(store.ensureTopicAsync().thenCompose(topic -> runtime.write(partitionFor(groupId), op, onSettled)));
    }

    private static <T> CompletableFuture<T> refused(CompletableFuture<T> future) {
        return CoordinatorRefusals.mapped(future, OffsetStore::coordinatorError);
    }

    /** The runtime's refusals as a group coordinator's errors, which clients act on (look up, wait, retry). */
    static Throwable refusal(Throwable failure) {
        return CoordinatorRefusals.of(failure, OffsetStore::coordinatorError);
    }

    // ---------------------------------------------------------------- join

    public CompletableFuture<JoinResult> joinGroup(JoinRequest request) {
        return inShardLater(request.groupId(), shard -> doJoin(shard, request));
    }

    private CompletableFuture<JoinResult> doJoin(GroupShard shard, JoinRequest request) {
        String groupId = request.groupId();
        String memberId = request.memberId();
        String clientId = request.clientId();
        String clientHost = request.clientHost();
        if (groupId == null || groupId.isEmpty()) {
            return joinError(ServiceError.INVALID_GROUP_ID, memberId);
        }
        if (request.sessionTimeoutMs() < settings.minSessionTimeoutMs() || request.sessionTimeoutMs() > settings.maxSessionTimeoutMs()) {
            return joinError(ServiceError.INVALID_SESSION_TIMEOUT, memberId);
        }
        Map<String, byte[]> protocols = request.protocols();
        ClassicGroup existing = shard.groups.get(groupId);
        ClassicGroup group = existing != null ? existing : new ClassicGroup(groupId, shard.context);
        if (group.is(GroupState.DEAD)) {
            return joinError(ServiceError.COORDINATOR_NOT_AVAILABLE, memberId);
        }
        if (!group.supports(request.protocolType(), protocols.keySet())) {
            return joinError(ServiceError.INCONSISTENT_GROUP_PROTOCOL, memberId);
        }
        if (existing == null) {
            if (!memberId.isEmpty()) {
                // A member id of a group that does not exist (removed meanwhile): no group is made for it.
                return joinError(ServiceError.UNKNOWN_MEMBER_ID, memberId);
            }
            shard.groups.put(groupId, group);
        }
        String instanceId = request.groupInstanceId();
        if (memberId.isEmpty()) {
            String newId = clientId + "-" + UUID.randomUUID();
            if (instanceId != null && group.staticMembers.containsKey(instanceId)) {
                return rejoinStatic(group, instanceId, newId, request);
            }
            if (instanceId == null && request.memberIdRequired()) {
                group.pendingMembers.add(newId);
                // A client that never comes back with its id must not hold the next rebalance open
                // (it waits for every pending member) nor stay for ever: Kafka drops it after a session.
                group.timers.schedule("pending member timeout", request.sessionTimeoutMs(), () -> {
                    if (group.pendingMembers.remove(newId)) {
                        log.info("group {}: pending member {} did not join within its session timeout", groupId, newId);
                        maybeCompleteJoin(group);
                    }
                });
                return joinError(ServiceError.MEMBER_ID_REQUIRED, newId);
            }
            GroupMember member = new GroupMember(newId, instanceId, clientId, clientHost);
            return addMemberAndRebalance(group, member, request);
        }
        if (instanceId == null && group.pendingMembers.remove(memberId)) {
            return addMemberAndRebalance(group, new GroupMember(memberId, null, clientId, clientHost), request);
        }
        ServiceError unknown = memberError(group, memberId, instanceId);
        if (unknown != ServiceError.NONE) {
            return joinError(unknown, memberId);
        }
        return updateMemberAndMaybeRebalance(group, group.members.get(memberId), request);
    }

    private CompletableFuture<JoinResult> addMemberAndRebalance(ClassicGroup group, GroupMember member, JoinRequest request) {
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        member.protocolType = request.protocolType();
        member.protocols = request.protocols();
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
        CompletableFuture<JoinResult> response = member.awaitingJoin;
        maybePrepareRebalance(group, "member " + member.memberId + " joined");
        return response;
    }

    private CompletableFuture<JoinResult> updateMemberAndMaybeRebalance(ClassicGroup group, GroupMember member, JoinRequest request) {
        boolean changed = !sameProtocols(member.protocols, request.protocols());
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        member.protocols = request.protocols();
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(joinResponse(group, member, ServiceError.UNKNOWN_MEMBER_ID, false));
        }
        member.awaitingJoin = new CompletableFuture<>();
        CompletableFuture<JoinResult> response = member.awaitingJoin;
        scheduleSessionTimeout(group, member);
        switch (group.state) {
            case PREPARING_REBALANCE -> maybeCompleteJoin(group);
            case COMPLETING_REBALANCE, STABLE -> {
                if (changed || member.memberId.equals(group.leaderId)) {
                    maybePrepareRebalance(group, "member " + member.memberId + " rejoined");
                } else {
                    // Nothing changed: hand the current generation back without a rebalance.
                    CompletableFuture<JoinResult> current = member.awaitingJoin;
                    member.awaitingJoin = null;
                    current.complete(joinResponse(group, member, ServiceError.NONE, false));
                }
            }
            default -> maybePrepareRebalance(group, "member " + member.memberId + " rejoined");
        }
        return response;
    }

    /** A static member under another member id (a restarted copy's, or back to the old one), the group's leadership with it. */
    private static void renameStaticMember(ClassicGroup group, GroupMember member, String instanceId, String to) {
        String from = member.memberId;
        group.members.remove(from);
        member.memberId = to;
        group.members.put(to, member);
        group.staticMembers.put(instanceId, to);
        if (from.equals(group.leaderId)) {
            group.leaderId = to;
        }
    }

    private CompletableFuture<JoinResult> rejoinStatic(ClassicGroup group, String instanceId, String newId, JoinRequest request) {
        GroupMember member = group.members.remove(group.staticMembers.get(instanceId));
        String oldId = member.memberId;
        String leaderBefore = group.leaderId;
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(JoinResult.refused(ServiceError.FENCED_INSTANCE_ID, oldId));
            member.awaitingJoin = null;
        }
        if (member.awaitingSync != null) {
            member.awaitingSync.complete(SyncResult.refused(ServiceError.FENCED_INSTANCE_ID));
            member.awaitingSync = null;
        }
        renameStaticMember(group, member, instanceId, newId);
        Map<String, byte[]> oldProtocols = member.protocols;
        int oldSessionTimeoutMs = member.sessionTimeoutMs;
        int oldRebalanceTimeoutMs = member.rebalanceTimeoutMs;
        member.protocols = request.protocols();
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        scheduleSessionTimeout(group, member);
        // As Kafka decides it: only a change of the protocol the group would select makes it
        // rebalance. Not a change of the subscription's bytes: the Java consumer's carry its
        // generation and owned partitions, which differ after any rebalance, and a member loaded
        // after a failover keeps only the selected protocol's.
        if (group.is(GroupState.STABLE) && java.util.Objects.equals(group.protocolName, group.selectProtocol())) {
            // A static member restarting keeps its assignment: no rebalance. Its new member id is
            // stored before it is answered, as Kafka does: a coordinator loading the group after a
            // failover would otherwise fence the running copy (FENCED_INSTANCE_ID is fatal to it)
            // and take the dead incarnation's heartbeats.
            CompletableFuture<JoinResult> response = new CompletableFuture<>();
            member.awaitingJoin = response;
            persistGroup(group).whenCompleteAsync((ok, failure) -> {
                if (member.awaitingJoin != response) {
                    return; // answered meanwhile: fenced by a later copy, taken into a rebalance, or the shard was dropped
                }
                member.awaitingJoin = null;
                if (failure == null) {
                    log.info("group {}: static member {} rejoined as {} without a rebalance", group.groupId, instanceId, newId);
                    // Its session timer skipped the member while its join waited on the write.
                    scheduleSessionTimeout(group, member);
                    if (request.leaderMaySkipAssignment()) {
                        // KIP-814: a leader is told to skip the assignment, and gets the members to check it against.
                        response.complete(joinResponse(group, member, ServiceError.NONE, newId.equals(group.leaderId)));
                    } else {
                        // Before JoinGroup v9 a leader cannot skip the assignment: told the leader's id
                        // as it was, a restarted leader syncs as a follower and gets its stored share.
                        response.complete(new JoinResult(ServiceError.NONE, group.generationId, group.protocolType, group.protocolName,
                                leaderBefore == null ? "" : leaderBefore, newId, false, List.of()));
                    }
                    return;
                }
                // What the log holds still names the old member id: so must the group, or a failover
                // would swap them back under the members' feet. The copy hears why and joins again.
                ServiceError error = storeError(failure);
                log.warn("group {}: could not store static member {}'s new member id {} ({}); it stays {}", group.groupId,
                        instanceId, newId, error, oldId);
                if (group.members.get(newId) == member) {
                    renameStaticMember(group, member, instanceId, oldId);
                    member.protocols = oldProtocols;
                    member.sessionTimeoutMs = oldSessionTimeoutMs;
                    member.rebalanceTimeoutMs = oldRebalanceTimeoutMs;
                    scheduleSessionTimeout(group, member);
                }
                response.complete(JoinResult.refused(error, ""));
            }, runtime::execute);
            return response;
        }
        member.awaitingJoin = new CompletableFuture<>();
        CompletableFuture<JoinResult> response = member.awaitingJoin;
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
                member.awaitingSync.complete(SyncResult.refused(ServiceError.REBALANCE_IN_PROGRESS));
                member.awaitingSync = null;
            }
        }
        group.state = GroupState.PREPARING_REBALANCE;
        group.emptySince = -1;
        log.info("group {}: preparing to rebalance ({}), generation {}", group.groupId, reason, group.generationId);
        // A group forming from empty waits group.initial.rebalance.delay.ms for more members, so
        // that consumers starting together share one rebalance instead of several.
        group.initialDelay = wasEmpty && settings.initialRebalanceDelayMs() > 0;
        long delay = group.initialDelay ? settings.initialRebalanceDelayMs() : group.rebalanceTimeoutMs();
        cancel(group.joinTimer);
        group.joinTimer = group.timers.schedule("join completion", delay, () -> completeJoin(group));
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
            group.emptySince = time.millis();
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
            JoinResult response = joinResponse(group, member, ServiceError.NONE, false);
            member.isNew = false;
            CompletableFuture<JoinResult> waiting = member.awaitingJoin;
            member.awaitingJoin = null;
            waiting.complete(response);
            scheduleSessionTimeout(group, member);
        }
        int generation = group.generationId;
        group.syncTimer = group.timers.schedule("sync timeout", Math.max(1, group.rebalanceTimeoutMs()), () -> {
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

    private static List<JoinResult.Member> memberList(ClassicGroup group) {
        List<JoinResult.Member> list = new ArrayList<>();
        for (GroupMember m : group.members.values()) {
            list.add(new JoinResult.Member(m.memberId, m.groupInstanceId, m.metadata(group.protocolName)));
        }
        return list;
    }

    /** The group's generation as {@code member} is told it; the leader also gets the members, unless it skips the assignment. */
    private static JoinResult joinResponse(ClassicGroup group, GroupMember member, ServiceError error, boolean skipAssignment) {
        boolean leader = error == ServiceError.NONE && member.memberId.equals(group.leaderId);
        return new JoinResult(error, group.generationId, group.protocolType, group.protocolName, group.leaderId == null ? "" : group.leaderId,
                member.memberId, skipAssignment, leader ? memberList(group) : List.of());
    }

    /**
     * Kafka's check of a member naming itself: a static one by its instance id first. A static
     * member replaced by a restarted copy (a new member id for its instance) must hear
     * FENCED_INSTANCE_ID, which stops it; UNKNOWN_MEMBER_ID would send it back to join with its
     * instance id, taking the slot back from the copy, and the two would alternate for ever.
     */
    private static ServiceError memberError(ClassicGroup group, String memberId, String instanceId) {
        if (instanceId != null) {
            String current = group.staticMembers.get(instanceId);
            if (current == null) {
                return ServiceError.UNKNOWN_MEMBER_ID;
            }
            if (!current.equals(memberId)) {
                return ServiceError.FENCED_INSTANCE_ID;
            }
        }
        return group.hasMember(memberId) ? ServiceError.NONE : ServiceError.UNKNOWN_MEMBER_ID;
    }

    private static CompletableFuture<JoinResult> joinError(ServiceError error, String memberId) {
        return CompletableFuture.completedFuture(JoinResult.refused(error, memberId));
    }

    // ---------------------------------------------------------------- sync

    public CompletableFuture<SyncResult> syncGroup(SyncRequest request) {
        return inShardLater(request.groupId(), shard -> doSync(shard, request));
    }

    private CompletableFuture<SyncResult> doSync(GroupShard shard, SyncRequest request) {
        ClassicGroup group = shard.groups.get(request.groupId());
        if (group == null || group.is(GroupState.DEAD)) {
            return syncError(ServiceError.UNKNOWN_MEMBER_ID);
        }
        ServiceError unknown = memberError(group, request.memberId(), request.groupInstanceId());
        if (unknown != ServiceError.NONE) {
            return syncError(unknown);
        }
        GroupMember member = group.members.get(request.memberId());
        if (request.generationId() != group.generationId) {
            return syncError(ServiceError.ILLEGAL_GENERATION);
        }
        if ((request.protocolType() != null && !request.protocolType().equals(group.protocolType))
                || (request.protocolName() != null && !request.protocolName().equals(group.protocolName))) {
            return syncError(ServiceError.INCONSISTENT_GROUP_PROTOCOL);
        }
        switch (group.state) {
            case PREPARING_REBALANCE:
                return syncError(ServiceError.REBALANCE_IN_PROGRESS);
            case STABLE:
                scheduleSessionTimeout(group, member);
                return CompletableFuture.completedFuture(syncResponse(group, member));
            case COMPLETING_REBALANCE:
                break;
            default:
                return syncError(ServiceError.UNKNOWN_MEMBER_ID);
        }
        member.awaitingSync = new CompletableFuture<>();
        CompletableFuture<SyncResult> response = member.awaitingSync;
        scheduleSessionTimeout(group, member);
        if (member.memberId.equals(group.leaderId)) {
            Map<String, byte[]> assignments = request.assignments();
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
                    ServiceError error = assignmentStoreError(failure);
                    log.warn("group {}: could not store the assignment ({}, answered {}); the group rebalances", group.groupId,
                            failure.getCause() == null ? failure.toString() : failure.getCause().toString(), error);
                    // The waiting members hear why, as in Kafka: told only REBALANCE_IN_PROGRESS they
                    // would rejoin into the same failure (an assignment too large) for ever, unseen.
                    for (GroupMember m : group.members.values()) {
                        m.assignment = new byte[0];
                        if (m.awaitingSync != null) {
                            m.awaitingSync.complete(SyncResult.refused(error));
                            m.awaitingSync = null;
                            scheduleSessionTimeout(group, m); // its session runs again from its answer
                        }
                    }
                    maybePrepareRebalance(group, "assignment could not be stored");
                    return;
                }
                cancel(group.syncTimer);
                group.state = GroupState.STABLE;
                for (GroupMember m : group.members.values()) {
                    if (m.awaitingSync != null) {
                        m.awaitingSync.complete(syncResponse(group, m));
                        m.awaitingSync = null;
                        scheduleSessionTimeout(group, m); // its session runs again from its answer
                    }
                }
            }, runtime::execute);
        }
        return response;
    }

    /** Kafka's SyncGroup answer to a failed write of the assignment: a group too large for the offsets topic is UNKNOWN_SERVER_ERROR. */
    private static ServiceError assignmentStoreError(Throwable failure) {
        ServiceError error = storeError(failure);
        return error == ServiceError.INVALID_COMMIT_OFFSET_SIZE ? ServiceError.UNKNOWN : error;
    }

    private static SyncResult syncResponse(ClassicGroup group, GroupMember member) {
        return new SyncResult(ServiceError.NONE, group.protocolType, group.protocolName, member.assignment);
    }

    private static CompletableFuture<SyncResult> syncError(ServiceError error) {
        return CompletableFuture.completedFuture(SyncResult.refused(error));
    }

    /**
     * Writes the group's new generation with its members and their assignments (decided now: the
     * write runs as the runtime's next task).
     */
    private CompletableFuture<Void> persistGroup(ClassicGroup group) {
        List<GroupRecord.StoredMember> members = new ArrayList<>(group.members.size());
        for (GroupMember m : group.members.values()) {
            members.add(new GroupRecord.StoredMember(m.memberId, m.groupInstanceId, m.clientId, m.clientHost, m.rebalanceTimeoutMs,
                    m.sessionTimeoutMs, group.protocolName == null ? new byte[0] : m.metadata(group.protocolName), m.assignment));
        }
        GroupRecord record = new GroupRecord.Metadata(group.groupId, group.protocolType, group.protocolName, group.generationId,
                group.leaderId, members, group.is(GroupState.EMPTY) ? group.emptySince : -1);
        return write(group.groupId, shard -> CoordinatorResult.of(List.of(record), null));
    }

    /**
     * A group loaded stable with members, once its shard serves: each has a session from now to
     * heartbeat to this coordinator, as in Kafka (not from the load: until now heartbeats were not taken).
     */
    private void startSessions(ClassicGroup group) {
        log.info("group {}: loaded stable at generation {} with {} member(s)", group.groupId, group.generationId, group.members.size());
        for (GroupMember member : group.members.values()) {
            scheduleSessionTimeout(group, member);
        }
    }

    // ---------------------------------------------------------------- heartbeat, leave, expiry

    /**
     * While the group's shard loads, a heartbeat is answered NONE, as Kafka answers it: the Java
     * consumer takes COORDINATOR_LOAD_IN_PROGRESS on a heartbeat as an unexpected error. The
     * member's session then starts once the shard serves.
     */
    public CompletableFuture<ServiceError> heartbeat(String groupId, String memberId, String instanceId, int generationId) {
        return inShard(groupId, shard -> {
            ClassicGroup group = shard.groups.get(groupId);
            if (group == null || group.is(GroupState.DEAD)) {
                return ServiceError.UNKNOWN_MEMBER_ID;
            }
            ServiceError unknown = memberError(group, memberId, instanceId);
            if (unknown != ServiceError.NONE) {
                return unknown;
            }
            if (generationId != group.generationId) {
                return ServiceError.ILLEGAL_GENERATION;
            }
            scheduleSessionTimeout(group, group.members.get(memberId));
            return group.is(GroupState.PREPARING_REBALANCE) ? ServiceError.REBALANCE_IN_PROGRESS : ServiceError.NONE;
        }).exceptionallyCompose(failure -> ServiceException.errorOf(failure, ServiceError.NONE) == ServiceError.COORDINATOR_LOAD_IN_PROGRESS
                ? CompletableFuture.completedFuture(ServiceError.NONE) : CompletableFuture.failedFuture(failure));
    }

    /** A member leaving; {@code memberId} may be empty when only the instance id is known. */
    public CompletableFuture<ServiceError> leaveGroup(String groupId, String memberId, String instanceId) {
        return inShard(groupId, shard -> {
            ClassicGroup group = shard.groups.get(groupId);
            if (group == null) {
                return ServiceError.UNKNOWN_MEMBER_ID;
            }
            String id = memberId;
            if (instanceId != null) {
                String known = group.staticMembers.get(instanceId);
                if (known == null) {
                    return ServiceError.UNKNOWN_MEMBER_ID;
                }
                if (!id.isEmpty() && !id.equals(known)) {
                    return ServiceError.FENCED_INSTANCE_ID;
                }
                id = known;
            }
            GroupMember member = group.members.get(id);
            if (member == null) {
                return group.pendingMembers.remove(id) ? ServiceError.NONE : ServiceError.UNKNOWN_MEMBER_ID;
            }
            removeMember(group, member, "left the group");
            afterMemberRemoved(group);
            return ServiceError.NONE;
        });
    }

    private void scheduleSessionTimeout(ClassicGroup group, GroupMember member) {
        scheduleExpiry(group, member, member.sessionTimeoutMs);
    }

    private void scheduleExpiry(ClassicGroup group, GroupMember member, long timeoutMs) {
        cancel(member.sessionTimer);
        member.sessionTimer = group.timers.schedule("session timeout", timeoutMs, () -> onSessionTimeout(group, member));
    }

    private void onSessionTimeout(ClassicGroup group, GroupMember member) {
        if (group.members.get(member.memberId) != member) {
            return;
        }
        if (member.awaitingJoin != null && !member.isNew) {
            return; // a parked join is governed by the rebalance timeout
        }
        if (member.awaitingSync != null) {
            // Waiting for the leader's assignment, which the sync timer (the rebalance timeout)
            // bounds, as Kafka's pending sync: librdkafka sends no heartbeat meanwhile, and its
            // followers were dropped whenever a leader took longer than a session to sync.
            return;
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
            member.awaitingJoin.complete(JoinResult.refused(ServiceError.UNKNOWN_MEMBER_ID, member.memberId));
            member.awaitingJoin = null;
        }
        if (member.awaitingSync != null) {
            member.awaitingSync.complete(SyncResult.refused(ServiceError.UNKNOWN_MEMBER_ID));
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

    public CompletableFuture<Map<OffsetCommit, ServiceError>> commitOffsets(String groupId, int generationId, String memberId, String instanceId,
                                                                      List<OffsetCommit> commits) {
        return storeOffsets(groupId, commits, shard -> validateCommit(shard, groupId, generationId, memberId, instanceId), null);
    }

    /**
     * TxnOffsetCommit (KIP-98): offsets {@code producerId} commits inside its transaction, written
     * as its transactional batch to the group's offsets partition. They count for the group only
     * once the transaction coordinator's commit marker follows ({@link #completeTransaction});
     * until then, from the moment the write is decided, a fetch with requireStable answers their
     * partitions UNSTABLE_OFFSET_COMMIT, and an abort voids them. A member that names itself
     * (v3+, KIP-447: generation, member id, instance id) is checked against the group as Kafka
     * does, so that a zombie producer whose consumer lost its partitions cannot commit; one that
     * does not is taken as it comes, as the older versions carry no member.
     */
    public CompletableFuture<Map<OffsetCommit, ServiceError>> txnCommitOffsets(String transactionalId, String groupId, long producerId,
                                                                         short producerEpoch, int generationId, String memberId,
                                                                         String groupInstanceId, List<OffsetCommit> offsets) {
        log.debug("group {}: {} offset(s) committed inside the transaction of {} (producer {} epoch {})", groupId, offsets.size(),
                transactionalId, producerId, producerEpoch);
        TransactionCheck check = transactionCheck;
        int p = partitionFor(groupId);
        io.spate.replication.Partition partition = check == null ? null : replicas.partition(OffsetStore.TOPIC, p);
        if (partition == null || !partition.isLeader()) {
            // Not verified (verification off), or not led here: the write is refused as not the coordinator.
            return storeTxnOffsets(transactionalId, groupId, producerId, producerEpoch, generationId, memberId, groupInstanceId, offsets, null);
        }
        // KIP-890 (as Kafka since 3.6): a commit that comes after its transaction ended (a late
        // retry, one sent without AddOffsetsToTxn) would open a transaction on the offsets partition
        // that no marker ever ends: the group's offsets unstable for good, its log uncompactable.
        io.spate.log.TxnVerificationGuard guard = partition.log().beginTransactionVerification(producerId, producerEpoch, time.millis());
        if (guard == io.spate.log.TxnVerificationGuard.ALREADY_OPEN) {
            return storeTxnOffsets(transactionalId, groupId, producerId, producerEpoch, generationId, memberId, groupInstanceId, offsets, guard);
        }
        return check.verify(transactionalId, producerId, producerEpoch, new io.spate.log.TopicPartition(OffsetStore.TOPIC, p))
                .handle((inTransaction, failure) -> {
                    ServiceError refusal = failure != null ? switch (ServiceException.errorOf(failure, ServiceError.COORDINATOR_NOT_AVAILABLE)) {
                        case PRODUCER_FENCED, INVALID_PRODUCER_EPOCH -> ServiceError.INVALID_PRODUCER_EPOCH;
                        case INVALID_PRODUCER_ID_MAPPING -> ServiceError.INVALID_PRODUCER_ID_MAPPING;
                        // Could not ask: the client looks its coordinator up again and retries.
                        default -> ServiceError.COORDINATOR_NOT_AVAILABLE;
                    } : inTransaction ? ServiceError.NONE : ServiceError.INVALID_TXN_STATE;
                    if (refusal != ServiceError.NONE) {
                        Map<OffsetCommit, ServiceError> refused = new LinkedHashMap<>();
                        offsets.forEach(c -> refused.put(c, refusal));
                        return CompletableFuture.completedFuture(refused);
                    }
                    return storeTxnOffsets(transactionalId, groupId, producerId, producerEpoch, generationId, memberId, groupInstanceId,
                            offsets, guard);
                }).thenCompose(f -> f);
    }

    private CompletableFuture<Map<OffsetCommit, ServiceError>> storeTxnOffsets(String transactionalId, String groupId, long producerId,
                                                                        short producerEpoch, int generationId, String memberId,
                                                                        String groupInstanceId, List<OffsetCommit> offsets,
                                                                        io.spate.log.TxnVerificationGuard verified) {
        return storeOffsets(groupId, offsets, shard -> validateTxnCommit(shard, groupId, generationId, memberId, groupInstanceId),
                new CoordinatorResult.Transaction(producerId, producerEpoch, verified));
    }

    /** Asks the transaction coordinator whether a producer's open transaction includes a partition (KIP-890 verification). */
    @FunctionalInterface
    public interface TransactionCheck {
        CompletableFuture<Boolean> verify(String transactionalId, long producerId, short epoch, io.spate.log.TopicPartition partition);
    }

    private volatile TransactionCheck transactionCheck;

    /** Verifies transactional offset commits with {@code check} from now on (as produce does, when verification is on). */
    public GroupCoordinator verifyTransactionsWith(TransactionCheck check) {
        this.transactionCheck = check;
        return this;
    }

    /**
     * Writes what {@code validate} (on the group's shard) lets through of {@code commits}, as part
     * of {@code transaction} when not null; answers each commit's error once the write is
     * committed, or the write's own error when it failed.
     */
    private CompletableFuture<Map<OffsetCommit, ServiceError>> storeOffsets(String groupId, List<OffsetCommit> commits,
                                                                         Function<GroupShard, ServiceError> validate,
                                                                         CoordinatorResult.Transaction transaction) {
        // What the shard decided, for the answer when the write fails (the write's own answer is then lost).
        var decided = new Object() {
            Map<OffsetCommit, ServiceError> results;
            List<OffsetCommit> accepted = List.of();
            boolean writing;
        };
        return write(groupId, shard -> {
            Map<OffsetCommit, ServiceError> results = new LinkedHashMap<>();
            ServiceError groupError = validate.apply(shard);
            List<GroupRecord> records = new ArrayList<>();
            List<OffsetCommit> accepted = new ArrayList<>();
            long now = time.millis();
            for (OffsetCommit commit : commits) {
                ServiceError error = groupError;
                if (error == ServiceError.NONE) {
                    var topic = topics.get(commit.topic());
                    if (topic == null || commit.partition() < 0 || commit.partition() >= topic.partitions()) {
                        error = ServiceError.UNKNOWN_TOPIC_OR_PARTITION;
                    } else if (commit.metadata() != null && commit.metadata().length() > settings.maxMetadataBytes()) {
                        error = ServiceError.OFFSET_METADATA_TOO_LARGE;
                    }
                }
                results.put(commit, error);
                if (error == ServiceError.NONE) {
                    accepted.add(commit);
                    records.add(new GroupRecord.Offset(groupId, commit.topic(), commit.partition(),
                            new CommittedOffset(commit.offset(), commit.leaderEpoch(), commit.metadata(), now)));
                }
            }
            decided.results = results;
            if (!records.isEmpty()) {
                shard.group(groupId);
                // Until the records are replayed or known not to be in the log, expiry leaves the group alone:
                // a commit answered as timed out may still land.
                shard.offsetWritesInFlight.merge(groupId, 1, Integer::sum);
                decided.accepted = accepted;
                decided.writing = true;
                if (transaction != null) {
                    // Replayed only once the high watermark passes it: until then a fetch requiring
                    // stable offsets would hand out the offset this one may replace (KIP-447).
                    shard.txnOffsetWriteDecided(groupId, partitionsOf(accepted));
                }
            }
            return new CoordinatorResult<>(records, results, transaction);
        }, shard -> {
            if (decided.writing) {
                shard.offsetWritesInFlight.computeIfPresent(groupId, (g, n) -> n == 1 ? null : n - 1);
                if (transaction != null) {
                    shard.txnOffsetWriteSettled(groupId, partitionsOf(decided.accepted));
                }
            }
        }).handle((results, failure) -> {
            if (failure == null) {
                return results;
            }
            if (decided.results == null) {
                throw failure instanceof CompletionException c ? c : new CompletionException(failure);
            }
            ServiceError error = storeError(failure);
            decided.accepted.forEach(c -> decided.results.put(c, error));
            return decided.results;
        });
    }

    private static List<TopicPartitionKey> partitionsOf(List<OffsetCommit> commits) {
        return commits.stream().map(c -> new TopicPartitionKey(c.topic(), c.partition())).toList();
    }

    private ServiceError validateCommit(GroupShard shard, String groupId, int generationId, String memberId, String instanceId) {
        if (groupId == null || groupId.isEmpty()) {
            return ServiceError.INVALID_GROUP_ID;
        }
        ClassicGroup group = shard.groups.get(groupId);
        boolean simple = generationId < 0 && (memberId == null || memberId.isEmpty());
        if (group == null || group.is(GroupState.EMPTY) && group.members.isEmpty()) {
            return simple ? ServiceError.NONE : ServiceError.ILLEGAL_GENERATION;
        }
        if (simple) {
            return group.members.isEmpty() ? ServiceError.NONE : ServiceError.UNKNOWN_MEMBER_ID;
        }
        ServiceError unknown = memberError(group, memberId, instanceId);
        if (unknown != ServiceError.NONE) {
            return unknown;
        }
        GroupMember member = group.members.get(memberId);
        if (generationId != group.generationId) {
            return ServiceError.ILLEGAL_GENERATION;
        }
        if (group.is(GroupState.COMPLETING_REBALANCE)) {
            return ServiceError.REBALANCE_IN_PROGRESS;
        }
        scheduleSessionTimeout(group, member);
        return ServiceError.NONE;
    }

    /**
     * Kafka's ClassicGroup.validateOffsetCommit for a transactional commit: no REBALANCE_IN_PROGRESS
     * (the producer commits what it consumed in the generation it names), and a commit that names
     * no member goes through even into a group with members.
     */
    private static ServiceError validateTxnCommit(GroupShard shard, String groupId, int generationId, String memberId, String instanceId) {
        if (groupId == null || groupId.isEmpty()) {
            return ServiceError.INVALID_GROUP_ID;
        }
        ClassicGroup group = shard.groups.get(groupId);
        if (group == null) {
            return generationId < 0 ? ServiceError.NONE : ServiceError.ILLEGAL_GENERATION;
        }
        if (group.is(GroupState.DEAD)) {
            return ServiceError.COORDINATOR_NOT_AVAILABLE;
        }
        boolean namesMember = generationId >= 0 || memberId != null && !memberId.isEmpty() || instanceId != null;
        if (!namesMember || generationId < 0 && group.is(GroupState.EMPTY)) {
            return ServiceError.NONE;
        }
        if (instanceId != null) {
            String known = group.staticMembers.get(instanceId);
            if (known == null) {
                return ServiceError.UNKNOWN_MEMBER_ID;
            }
            if (!known.equals(memberId)) {
                return ServiceError.FENCED_INSTANCE_ID;
            }
        } else if (!group.hasMember(memberId)) {
            return ServiceError.UNKNOWN_MEMBER_ID;
        }
        return generationId == group.generationId ? ServiceError.NONE : ServiceError.ILLEGAL_GENERATION;
    }

    /**
     * Writes the end marker of {@code producerId}'s transaction to the offsets partition
     * {@code offsetsPartition}, which this node must lead, and completes once it is committed and
     * the offsets the transaction committed there count (commit) or are void (abort). What the
     * transaction coordinator's marker sender uses for {@code __consumer_offsets} partitions
     * instead of writing the marker itself, so that the groups see it in log order. Fails with a
     * ServiceException: NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS or
     * COORDINATOR_NOT_AVAILABLE while this node cannot write it (the sender tries again, as Kafka
     * answers it NOT_LEADER_OR_FOLLOWER), or the partition's refusal (INVALID_PRODUCER_EPOCH,
     * TRANSACTION_COORDINATOR_FENCED).
     */
    public CompletableFuture<Void> completeTransaction(int offsetsPartition, long producerId, short producerEpoch, int coordinatorEpoch,
                                                       boolean commit) {
        return refused(runtime.completeTransaction(offsetsPartition, producerId, producerEpoch, coordinatorEpoch, commit));
    }

    /**
     * A group's committed offsets as OffsetFetch answers them. {@code unstable}: the partitions an
     * open transaction has committed an offset for, or is writing one for, when the fetch required
     * stable offsets (KIP-447: a read_committed consumer must not start from an offset about to
     * change); empty otherwise.
     */
    public record FetchedOffsets(Map<TopicPartitionKey, CommittedOffset> committed, Set<TopicPartitionKey> unstable) {
        /** UNSTABLE_OFFSET_COMMIT for an unstable partition (the consumer retries), NONE otherwise. */
        public ServiceError error(TopicPartitionKey partition) {
            return unstable.contains(partition) ? ServiceError.UNSTABLE_OFFSET_COMMIT : ServiceError.NONE;
        }
    }

    /** Committed offset per partition; partitions without one are absent. */
    public CompletableFuture<Map<TopicPartitionKey, CommittedOffset>> fetchOffsets(String groupId) {
        return fetchOffsets(groupId, false).thenApply(FetchedOffsets::committed);
    }

    /** As above; with {@code requireStable}, also which partitions an open transaction holds or is writing an offset for. */
    public CompletableFuture<FetchedOffsets> fetchOffsets(String groupId, boolean requireStable) {
        return inShard(groupId, shard -> new FetchedOffsets(new HashMap<>(shard.offsets.getOrDefault(groupId, Map.of())),
                requireStable ? shard.unstablePartitions(groupId) : Set.of()));
    }

    /**
     * OffsetDelete, as Kafka answers it: a group with members keeps the offsets of the topics they
     * are subscribed to (GROUP_SUBSCRIBED_TO_TOPIC for each such partition) and loses the others';
     * a group with members of a protocol type other than consumer's, whose subscriptions cannot be
     * read, refuses as a whole (NON_EMPTY_GROUP). Answers each partition's error.
     */
    public CompletableFuture<Map<TopicPartitionKey, ServiceError>> deleteOffsets(String groupId, List<TopicPartitionKey> partitions) {
        return write(groupId, shard -> {
            ClassicGroup group = shard.groups.get(groupId);
            if (group == null && !shard.offsets.containsKey(groupId) && !shard.pendingTxnOffsets.has(groupId)) {
                throw new ServiceException(ServiceError.GROUP_ID_NOT_FOUND, "group " + groupId + " has no committed offsets");
            }
            Set<String> subscribed = Set.of();
            if (group != null && !group.members.isEmpty() && !group.is(GroupState.EMPTY)) {
                if (!CONSUMER_PROTOCOL_TYPE.equals(group.protocolType)) {
                    throw new ServiceException(ServiceError.NON_EMPTY_GROUP, "group " + groupId + " has active members; stop them before deleting offsets");
                }
                subscribed = subscribedTopics(group);
            }
            Map<TopicPartitionKey, ServiceError> results = new LinkedHashMap<>();
            List<GroupRecord> tombstones = new ArrayList<>();
            for (TopicPartitionKey tp : partitions) {
                // Subscriptions that cannot be read (null) count as every topic's: deleting an offset in use would rewind or skip it.
                if (subscribed == null || subscribed.contains(tp.topic())) {
                    results.put(tp, ServiceError.GROUP_SUBSCRIBED_TO_TOPIC);
                } else {
                    results.put(tp, ServiceError.NONE);
                    tombstones.add(new GroupRecord.Offset(groupId, tp.topic(), tp.partition(), null));
                }
            }
            return CoordinatorResult.of(tombstones, results);
        });
    }

    static final String CONSUMER_PROTOCOL_TYPE = "consumer";

    /**
     * The topics a consumer group's members subscribe to, read from their subscriptions of the
     * selected protocol as Kafka reads them; null when that is not known (no protocol selected
     * yet, or a subscription the consumer protocol cannot read).
     */
    private Set<String> subscribedTopics(ClassicGroup group) {
        if (group.protocolName == null) {
            return null;
        }
        Set<String> topics = new java.util.HashSet<>();
        try {
            for (GroupMember member : group.members.values()) {
                topics.addAll(subscriptions.topics(member.metadata(group.protocolName)));
            }
        } catch (RuntimeException e) {
            return null;
        }
        return topics;
    }

    /**
     * Reads the topics a member of a {@code consumer} group subscribes to from its protocol
     * metadata: the consumer protocol's own encoding, decoded at the protocol edge
     * ({@code io.spate.server.handlers.ConsumerSubscriptions}); a reader that throws leaves the
     * subscriptions unknown.
     */
    public interface SubscriptionReader {
        Set<String> topics(byte[] metadata);
    }

    /** Until a reader is given, every topic counts as subscribed: no offset is deleted or expired for want of one. */
    private volatile SubscriptionReader subscriptions = metadata -> {
        throw new IllegalStateException("no subscription reader");
    };

    /** Where members' subscriptions are decoded (the node gives the consumer protocol's reader). */
    public GroupCoordinator readSubscriptionsWith(SubscriptionReader reader) {
        this.subscriptions = reader;
        return this;
    }

    // ---------------------------------------------------------------- admin

    /** A group as ListGroups and DescribeGroups show it. */
    public record GroupSummary(String groupId, String state, String protocolType, String protocolName, List<MemberSummary> members) {
    }

    public record MemberSummary(String memberId, String groupInstanceId, String clientId, String clientHost, byte[] metadata, byte[] assignment) {
    }

    /** Every group coordinated here, across the shards this node holds, by id. */
    public CompletableFuture<List<GroupSummary>> listGroups() {
        return refused(runtime.readAll(shard -> {
            java.util.Set<String> ids = new java.util.TreeSet<>(shard.groups.keySet());
            ids.addAll(shard.offsets.keySet());
            ids.addAll(shard.pendingTxnOffsets.groups());
            return ids.stream().map(id -> summary(shard, id)).toList();
        })).thenApply(perShard -> perShard.stream().flatMap(List::stream)
                .sorted(java.util.Comparator.comparing(GroupSummary::groupId)).toList());
    }

    public CompletableFuture<GroupSummary> describeGroup(String groupId) {
        return inShard(groupId, shard -> shard.groups.containsKey(groupId) || shard.offsets.containsKey(groupId)
                || shard.pendingTxnOffsets.has(groupId) ? summary(shard, groupId) : null);
    }

    private static GroupSummary summary(GroupShard shard, String groupId) {
        ClassicGroup group = shard.groups.get(groupId);
        if (group == null) {
            return new GroupSummary(groupId, GroupState.EMPTY.displayName(), "", "", List.of());
        }
        List<MemberSummary> members = new ArrayList<>();
        group.members.values().forEach(m -> members.add(new MemberSummary(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                group.protocolName == null ? new byte[0] : m.metadata(group.protocolName), m.assignment)));
        return new GroupSummary(groupId, group.state.displayName(), group.protocolType == null ? "" : group.protocolType,
                group.protocolName == null ? "" : group.protocolName, members);
    }

    public CompletableFuture<ServiceError> deleteGroup(String groupId) {
        return write(groupId, shard -> {
            ClassicGroup group = shard.groups.get(groupId);
            if (group == null && !shard.offsets.containsKey(groupId) && !shard.pendingTxnOffsets.has(groupId)) {
                return CoordinatorResult.<GroupRecord, ServiceError>of(ServiceError.GROUP_ID_NOT_FOUND);
            }
            if (group != null && !group.members.isEmpty()) {
                return CoordinatorResult.<GroupRecord, ServiceError>of(ServiceError.NON_EMPTY_GROUP);
            }
            if (shard.offsetWritesInFlight.containsKey(groupId)) {
                // A commit still being written is not in the shard yet, so it would get no tombstone:
                // replayed before the group's removal it was wiped from memory, but stayed in the log,
                // and once compaction dropped the tombstones a reload brought the group back with it.
                // A moment later it is replayed (or known not written) and the delete covers it; the
                // admin client retries this answer.
                return CoordinatorResult.<GroupRecord, ServiceError>of(ServiceError.COORDINATOR_LOAD_IN_PROGRESS);
            }
            // Partitions only a transaction holds an offset for get a tombstone too, which voids it, as in Kafka:
            // the group must not come back with offsets when that transaction commits.
            java.util.Set<TopicPartitionKey> partitions = new java.util.LinkedHashSet<>(shard.offsets.getOrDefault(groupId, Map.of()).keySet());
            partitions.addAll(shard.pendingTxnOffsets.partitions(groupId));
            List<GroupRecord> tombstones = new ArrayList<>();
            partitions.forEach(tp -> tombstones.add(new GroupRecord.Offset(groupId, tp.topic(), tp.partition(), null)));
            tombstones.add(new GroupRecord.Removed(groupId));
            return CoordinatorResult.of(tombstones, ServiceError.NONE);
        }).exceptionally(GroupCoordinator::storeError);
    }

    /** The error a member gets when the offsets store could not take its group's records (see {@link OffsetStore#coordinatorError}). */
    private static ServiceError storeError(Throwable failure) {
        return ServiceException.errorOf(refusal(failure), ServiceError.COORDINATOR_NOT_AVAILABLE);
    }

    private static void cancel(Scheduler.Timer timer) {
        if (timer != null) {
            timer.cancel();
        }
    }

    @Override
    public void close() {
        closed = true;
        runtime.close();
        if (ownedScheduler != null) {
            try {
                if (ownedScheduler instanceof io.spate.time.SystemScheduler thread) {
                    // Its shards read and append logs: not interrupted; and the runtime's last task, failing
                    // what is pending, runs.
                    thread.closeAfterDueTasks(10_000);
                } else {
                    ownedScheduler.close();
                }
            } catch (Exception e) {
                log.warn("could not stop the group coordinator's thread", e);
            }
        }
    }
}
