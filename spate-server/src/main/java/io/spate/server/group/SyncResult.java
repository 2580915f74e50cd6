package io.spate.server.group;

import io.spate.server.errors.ServiceError;

/** The answer to a sync: the member's share of the leader's assignment. */
public record SyncResult(ServiceError error, String protocolType, String protocolName, byte[] assignment) {
    private static final byte[] NONE = new byte[0];

    static SyncResult refused(ServiceError error) {
        return new SyncResult(error, null, null, NONE);
    }
}
