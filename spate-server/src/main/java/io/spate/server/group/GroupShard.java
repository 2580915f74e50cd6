package io.spate.server.group;

import io.spate.coordinator.CoordinatorShard;
import io.spate.coordinator.ShardContext;
import io.spate.server.errors.ServiceError;

import java.util.HashMap;
import java.util.Map;

/**
 * The groups whose ids hash to one partition of {@code __consumer_offsets}: their committed
 * offsets and stored generations, rebuilt by replaying that partition, and the members of each
 * (kept in memory only, as in Kafka: members rejoin a new coordinator). Confined to the
 * coordinator runtime's thread; the transitions live in {@link GroupCoordinator}.
 */
final class GroupShard implements CoordinatorShard<GroupRecord> {
    final ShardContext context;
    final Map<String, ClassicGroup> groups = new HashMap<>();
    final Map<String, Map<GroupCoordinator.TopicPartitionKey, CommittedOffset>> offsets = new HashMap<>();
    /** Offset writes decided and not yet answered, per group: expiry leaves such groups alone. */
    final Map<String, Integer> offsetWritesInFlight = new HashMap<>();

    GroupShard(ShardContext context) {
        this.context = context;
    }

    ClassicGroup group(String groupId) {
        return groups.computeIfAbsent(groupId, id -> new ClassicGroup(id, context));
    }

    @Override
    public void replay(GroupRecord record) {
        switch (record) {
            case GroupRecord.Offset o -> {
                var key = new GroupCoordinator.TopicPartitionKey(o.topic(), o.partition());
                if (o.offset() != null) {
                    offsets.computeIfAbsent(o.group(), g -> new HashMap<>()).put(key, o.offset());
                } else {
                    Map<GroupCoordinator.TopicPartitionKey, CommittedOffset> groupOffsets = offsets.get(o.group());
                    if (groupOffsets != null) {
                        groupOffsets.remove(key);
                        if (groupOffsets.isEmpty()) {
                            offsets.remove(o.group());
                        }
                    }
                }
            }
            case GroupRecord.Metadata m -> {
                // A group with members is ahead of its log (it wrote this record from its own state): only
                // an idle group, as after a load, takes the stored generation.
                ClassicGroup group = group(m.group());
                if (group.members.isEmpty() && group.generationId <= m.generation()) {
                    group.protocolType = m.protocolType().isEmpty() ? null : m.protocolType();
                    group.generationId = m.generation();
                }
            }
            case GroupRecord.Removed r -> {
                offsets.remove(r.group());
                ClassicGroup group = groups.get(r.group());
                if (group != null && group.members.isEmpty()) {
                    groups.remove(r.group());
                }
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
    }

    int committedOffsetCount() {
        return offsets.values().stream().mapToInt(Map::size).sum();
    }
}
