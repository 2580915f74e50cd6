package io.spate.server.group;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A consumer group under the classic protocol: members, generation, leader and the chosen
 * assignment protocol. Plain data confined to the coordinator thread; the transitions live in
 * {@link GroupCoordinator}.
 */
final class ClassicGroup {
    final String groupId;
    GroupState state = GroupState.EMPTY;
    int generationId;
    String protocolType;
    String protocolName;
    String leaderId;
    /**
     * When the group last became empty, by the coordinator's clock: an empty group's offsets expire
     * a retention after this (KIP-211), not after their last commit, which consumers skip for
     * partitions whose position did not move. -1 while it has members.
     */
    long emptySince = -1;
    final Map<String, GroupMember> members = new LinkedHashMap<>();
    final Map<String, String> staticMembers = new HashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED and not yet used to join. */
    final Set<String> pendingMembers = new HashSet<>();
    io.spate.time.Scheduler.Timer joinTimer;
    boolean initialDelay;
    io.spate.time.Scheduler.Timer syncTimer;

    /** Where its timers run: they die with the shard that holds the group. */
    final io.spate.coordinator.ShardContext timers;

    ClassicGroup(String groupId, io.spate.coordinator.ShardContext timers) {
        this.groupId = groupId;
        this.timers = timers;
    }

    boolean is(GroupState s) {
        return state == s;
    }

    boolean hasMember(String memberId) {
        return members.containsKey(memberId);
    }

    int rebalanceTimeoutMs() {
        return members.values().stream().mapToInt(m -> m.rebalanceTimeoutMs).max().orElse(0);
    }

    boolean allMembersJoined() {
        return members.values().stream().allMatch(m -> m.awaitingJoin != null) && pendingMembers.isEmpty();
    }

    /** The protocol every member supports that gets most members' votes (their first choice among the common ones). */
    String selectProtocol() {
        Set<String> common = null;
        for (GroupMember member : members.values()) {
            if (common == null) {
                common = new java.util.LinkedHashSet<>(member.protocols.keySet());
            } else {
                common.retainAll(member.protocols.keySet());
            }
        }
        if (common == null || common.isEmpty()) {
            return null;
        }
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (GroupMember member : members.values()) {
            for (String candidate : member.protocols.keySet()) {
                if (common.contains(candidate)) {
                    votes.merge(candidate, 1, Integer::sum);
                    break;
                }
            }
        }
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(common.iterator().next());
    }

    /** True when a new member with these protocols could join (same type, some protocol in common). */
    boolean supports(String type, Set<String> protocols) {
        if (members.isEmpty()) {
            return !protocols.isEmpty();
        }
        if (!type.equals(protocolType)) {
            return false;
        }
        Set<String> common = null;
        for (GroupMember member : members.values()) {
            if (common == null) {
                common = new HashSet<>(member.protocols.keySet());
            } else {
                common.retainAll(member.protocols.keySet());
            }
        }
        common.retainAll(protocols);
        return !common.isEmpty();
    }
}
