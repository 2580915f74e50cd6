package io.spate.server.handlers;

import io.spate.replication.node.NodeRoles;
import org.apache.kafka.common.protocol.Errors;

/** The Kafka error a leader's check answers with. */
final class LeaderErrors {
    private LeaderErrors() {
    }

    static Errors of(NodeRoles.LeaderCheck check) {
        return switch (check) {
            case SERVES -> Errors.NONE;
            case NOT_LEADER -> Errors.NOT_LEADER_OR_FOLLOWER;
            case UNKNOWN_EPOCH -> Errors.UNKNOWN_LEADER_EPOCH;
            case FENCED_EPOCH -> Errors.FENCED_LEADER_EPOCH;
        };
    }
}
