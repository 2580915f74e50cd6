package io.spate.server.group;

import java.util.Map;

/**
 * A SyncGroup as the coordinator takes it; fields the request's version does not carry are null.
 *
 * @param assignments member id to its assignment: only the leader's sync carries them
 */
public record SyncRequest(String groupId, String memberId, String groupInstanceId, int generationId, String protocolType,
                          String protocolName, Map<String, byte[]> assignments) {
}
