package io.spate.server.group;

import io.spate.coordinator.CoordinatorShard;
import io.spate.coordinator.ShardContext;
import io.spate.server.errors.ServiceError;

import java.util.HashMap;
import java.util.Map;

/**
 * The groups whose ids hash to one partition of {@code __consumer_offsets}: their committed
 * offsets and stored generations, rebuilt by replaying that partition, the offsets committed inside
 * transactions not yet ended, and the members of each group. A group's members and assignment
 * are loaded from its last metadata record, as Kafka loads them: a stable group stays stable
 * across a coordinator's failover, and its members carry on heartbeating to the new one without
 * rejoining (members it no longer hears from expire a session after the shard starts serving,
 * which may be well after the load: until the high watermark reaches what the load replayed,
 * their heartbeats are refused as loading and could not keep a session). Confined to the
 * coordinator runtime's thread; the transitions live in {@link GroupCoordinator}.
 */
final class GroupShard implements CoordinatorShard<GroupRecord> {
    final ShardContext context;
    final Map<String, ClassicGroup> groups = new HashMap<>();
    final Map<String, Map<GroupCoordinator.TopicPartitionKey, CommittedOffset>> offsets = new HashMap<>();
    /** Offsets committed inside producers' open transactions: counted on their commit marker, dropped on abort. */
    final PendingTxnOffsets pendingTxnOffsets = new PendingTxnOffsets();
    /** Offset writes decided and not yet answered, per group: expiry leaves such groups alone. */
    final Map<String, Integer> offsetWritesInFlight = new HashMap<>();
    /**
     * Partitions of each group that a transaction's offset commit is being written for, with how
     * many such writes: until it is replayed (into {@link #pendingTxnOffsets}) or known not to be
     * in the log, a fetch requiring stable offsets must not hand out the offset it may replace.
     */
    private final Map<String, Map<GroupCoordinator.TopicPartitionKey, Integer>> txnOffsetWritesInFlight = new HashMap<>();
    /**
     * Records replayed so far: a record's place in the log among those the shard has seen, the
     * same whatever compaction removed (it never reorders). A transaction's offset replaces the
     * committed one on its commit only if it was written after it, as Kafka decides by record
     * offset; otherwise the order the markers came in would decide, and a compacted log would
     * rebuild other offsets than the log it came from.
     */
    private long replayed;
    /** Where each committed offset was written (see {@link #replayed}). */
    private final Map<String, Map<GroupCoordinator.TopicPartitionKey, Long>> committedAt = new HashMap<>();

    /** Called once the shard serves, for each group the load left with members: their sessions start then. */
    private final java.util.function.Consumer<ClassicGroup> loadedWithMembers;
    /** False while the load replays the log: a metadata record is then the group's latest known state. */
    private boolean loaded;

    GroupShard(ShardContext context) {
        this(context, group -> {
        });
    }

    GroupShard(ShardContext context, java.util.function.Consumer<ClassicGroup> loadedWithMembers) {
        this.context = context;
        this.loadedWithMembers = loadedWithMembers;
    }

    ClassicGroup group(String groupId) {
        return groups.computeIfAbsent(groupId, id -> new ClassicGroup(id, context));
    }

    @Override
    public void replay(GroupRecord record) {
        replayed++;
        switch (record) {
            case GroupRecord.Offset o -> {
                var key = new GroupCoordinator.TopicPartitionKey(o.topic(), o.partition());
                if (o.offset() != null) {
                    commit(o.group(), key, o.offset(), replayed);
                } else {
                    uncommit(o.group(), key);
                    pendingTxnOffsets.remove(o.group(), key);
                }
            }
            case GroupRecord.Metadata m -> {
                ClassicGroup group = group(m.group());
                if (!loaded) {
                    restore(group, m);
                } else if (group.members.isEmpty() && group.generationId <= m.generation()) {
                    // Once loaded, a group is ahead of its log (it wrote this record from its own state):
                    // only an idle one takes the stored generation, never members that have since left.
                    group.protocolType = m.protocolType().isEmpty() ? null : m.protocolType();
                    group.generationId = m.generation();
                    if (group.emptySince < 0) {
                        group.emptySince = m.emptySince() >= 0 ? m.emptySince() : context.time().millis();
                    }
                }
            }
            case GroupRecord.Removed r -> {
                offsets.remove(r.group());
                committedAt.remove(r.group());
                ClassicGroup group = groups.get(r.group());
                if (group != null && (group.members.isEmpty() || !loaded)) {
                    groups.remove(r.group());
                }
            }
        }
    }

    /** The group as its metadata record left it: stable with its members and their assignments, or empty. */
    private void restore(ClassicGroup group, GroupRecord.Metadata m) {
        group.protocolType = m.protocolType().isEmpty() ? null : m.protocolType();
        group.protocolName = m.protocolName().isEmpty() ? null : m.protocolName();
        group.generationId = m.generation();
        group.members.clear();
        group.staticMembers.clear();
        for (GroupRecord.StoredMember stored : m.members()) {
            GroupMember member = new GroupMember(stored.memberId(), stored.groupInstanceId(), stored.clientId(), stored.clientHost());
            member.sessionTimeoutMs = stored.sessionTimeoutMs();
            member.rebalanceTimeoutMs = stored.rebalanceTimeoutMs();
            member.protocolType = group.protocolType;
            if (group.protocolName != null) {
                member.protocols.put(group.protocolName, stored.subscription());
            }
            member.assignment = stored.assignment();
            group.members.put(member.memberId, member);
            if (member.isStatic()) {
                group.staticMembers.put(member.groupInstanceId, member.memberId);
            }
        }
        boolean hasMembers = !group.members.isEmpty();
        group.leaderId = hasMembers && m.leaderId() != null && group.members.containsKey(m.leaderId()) ? m.leaderId()
                : hasMembers ? group.members.keySet().iterator().next() : null;
        group.state = hasMembers ? GroupState.STABLE : GroupState.EMPTY;
        // A record of a release that did not store it: empty since the load, as far as this
        // coordinator can vouch, so that its offsets never expire before Kafka's would.
        group.emptySince = hasMembers ? -1 : m.emptySince() >= 0 ? m.emptySince() : context.time().millis();
    }

    @Override
    public void onLoaded() {
        loaded = true;
    }

    @Override
    public void onActive() {
        for (ClassicGroup group : groups.values()) {
            if (!group.members.isEmpty()) {
                loadedWithMembers.accept(group);
            }
        }
    }

    /** An offset committed inside {@code producerId}'s transaction waits for its marker; other records written in one apply now, as in Kafka. */
    @Override
    public void replayTransactional(long producerId, short producerEpoch, GroupRecord record) {
        if (record instanceof GroupRecord.Offset o && o.offset() != null) {
            replayed++;
            var key = new GroupCoordinator.TopicPartitionKey(o.topic(), o.partition());
            pendingTxnOffsets.add(producerId, o.group(), key, new PendingTxnOffsets.Pending(o.offset(), replayed));
        } else {
            replay(record);
        }
    }

    @Override
    public void replayEndTransaction(long producerId, boolean commit) {
        Map<String, Map<GroupCoordinator.TopicPartitionKey, PendingTxnOffsets.Pending>> ended = pendingTxnOffsets.end(producerId);
        if (!commit) {
            return;
        }
        ended.forEach((groupId, partitions) -> partitions.forEach((key, pending) -> {
            Long current = committedAt.getOrDefault(groupId, Map.of()).get(key);
            if (current == null || current < pending.position()) {
                commit(groupId, key, pending.offset(), pending.position());
            }
        }));
    }

    private void commit(String groupId, GroupCoordinator.TopicPartitionKey key, CommittedOffset offset, long position) {
        offsets.computeIfAbsent(groupId, g -> new HashMap<>()).put(key, offset);
        committedAt.computeIfAbsent(groupId, g -> new HashMap<>()).put(key, position);
    }

    private void uncommit(String groupId, GroupCoordinator.TopicPartitionKey key) {
        Map<GroupCoordinator.TopicPartitionKey, CommittedOffset> groupOffsets = offsets.get(groupId);
        if (groupOffsets != null) {
            groupOffsets.remove(key);
            committedAt.get(groupId).remove(key);
            if (groupOffsets.isEmpty()) {
                offsets.remove(groupId);
                committedAt.remove(groupId);
            }
        }
    }

    @Override
    public void onUnloaded() {
        // Members waiting in a rebalance look the coordinator up again; their timers died with the shard.
        for (ClassicGroup group : groups.values()) {
            for (GroupMember member : group.members.values()) {
                if (member.awaitingJoin != null) {
                    member.awaitingJoin.complete(JoinResult.refused(ServiceError.NOT_COORDINATOR, member.memberId));
                    member.awaitingJoin = null;
                }
                if (member.awaitingSync != null) {
                    member.awaitingSync.complete(SyncResult.refused(ServiceError.NOT_COORDINATOR));
                    member.awaitingSync = null;
                }
            }
        }
        groups.clear();
        offsets.clear();
        committedAt.clear();
        pendingTxnOffsets.clear();
    }

    void txnOffsetWriteDecided(String groupId, Iterable<GroupCoordinator.TopicPartitionKey> partitions) {
        Map<GroupCoordinator.TopicPartitionKey, Integer> inFlight = txnOffsetWritesInFlight.computeIfAbsent(groupId, g -> new HashMap<>());
        partitions.forEach(key -> inFlight.merge(key, 1, Integer::sum));
    }

    void txnOffsetWriteSettled(String groupId, Iterable<GroupCoordinator.TopicPartitionKey> partitions) {
        Map<GroupCoordinator.TopicPartitionKey, Integer> inFlight = txnOffsetWritesInFlight.get(groupId);
        if (inFlight == null) {
            return;
        }
        partitions.forEach(key -> inFlight.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1));
        if (inFlight.isEmpty()) {
            txnOffsetWritesInFlight.remove(groupId);
        }
    }

    /**
     * The partitions of {@code groupId} whose committed offset a transaction may yet replace (KIP-447):
     * one that committed an offset for it and has not ended, or whose commit is still being written.
     */
    java.util.Set<GroupCoordinator.TopicPartitionKey> unstablePartitions(String groupId) {
        java.util.Set<GroupCoordinator.TopicPartitionKey> partitions = pendingTxnOffsets.partitions(groupId);
        partitions.addAll(txnOffsetWritesInFlight.getOrDefault(groupId, Map.of()).keySet());
        return partitions;
    }

    int committedOffsetCount() {
        return offsets.values().stream().mapToInt(Map::size).sum();
    }
}
