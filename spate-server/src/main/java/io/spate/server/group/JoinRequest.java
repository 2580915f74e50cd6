package io.spate.server.group;

import java.util.Map;

/**
 * A JoinGroup as the coordinator takes it: what the request's protocol version means is
 * resolved at the edge (a v0 join's rebalance timeout is its session timeout, instance ids
 * exist from v5, a new member must first ask for its id from v4, a leader may skip the
 * assignment from v9).
 *
 * @param memberId                 empty for a member's first join
 * @param groupInstanceId          a static member's id, or null
 * @param protocols                protocol name to subscription metadata, in the member's order of preference
 * @param memberIdRequired         a new member gets an id and joins again with it (KIP-394)
 * @param leaderMaySkipAssignment  a static leader that rejoins unchanged keeps the assignment (KIP-814)
 */
public record JoinRequest(String groupId, String memberId, String groupInstanceId, String clientId, String clientHost,
                          String protocolType, Map<String, byte[]> protocols, int sessionTimeoutMs, int rebalanceTimeoutMs,
                          boolean memberIdRequired, boolean leaderMaySkipAssignment) {
}
