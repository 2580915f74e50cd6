package io.spate.server.group;

import io.spate.server.errors.ServiceError;

import java.util.List;

/**
 * The answer to a join: the generation the member is in, and for the leader the members to
 * assign to. A refused join carries generation -1 and no leader.
 *
 * @param skipAssignment the leader keeps the current assignment (a static leader's unchanged rejoin)
 */
public record JoinResult(ServiceError error, int generationId, String protocolType, String protocolName, String leaderId,
                         String memberId, boolean skipAssignment, List<Member> members) {
    /** A member as its group's leader sees it. */
    public record Member(String memberId, String groupInstanceId, byte[] metadata) {
    }

    static JoinResult refused(ServiceError error, String memberId) {
        return new JoinResult(error, -1, null, null, "", memberId == null ? "" : memberId, false, List.of());
    }
}
