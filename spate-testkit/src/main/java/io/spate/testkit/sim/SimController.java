package io.spate.testkit.sim;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.CommandResult;
import io.spate.cluster.LivenessTracker;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.MetadataTransitions;
import io.spate.cluster.NodeInfo;

import java.util.List;

/**
 * The controller quorum as one party that is always up: it applies commands with the real
 * {@link MetadataTransitions} in arrival order, tracks heartbeats with the real
 * {@link LivenessTracker} and fences nodes whose session ran out, as the controller leader does.
 * What it commits reaches each node as an image after a network delay.
 */
public final class SimController {
    private final EventLoop loop;
    private final long sessionTimeoutMs;
    private final LivenessTracker liveness;
    private ClusterImage image = ClusterImage.EMPTY;
    private long index;

    SimController(EventLoop loop, long sessionTimeoutMs) {
        this.loop = loop;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.liveness = new LivenessTracker(sessionTimeoutMs);
    }

    public ClusterImage image() {
        return image;
    }

    /** Applies {@code command} now and returns its result (the image moves on with it). */
    public CommandResult commit(MetadataCommand command) {
        MetadataTransitions.Outcome outcome = MetadataTransitions.apply(image, command, ++index);
        image = outcome.image();
        if (command instanceof MetadataCommand.RegisterNode r && outcome.result().succeeded()) {
            // A registration counts as hearing from the node, as in the real state machine: without
            // it a node that registered again is fenced at the next tick, before its next heartbeat lands.
            heard(r.nodeId(), r.incarnation());
        }
        return outcome.result();
    }

    void heard(int nodeId, long incarnation) {
        liveness.heard(nodeId, incarnation, loop.nowMs() * 1_000_000L);
    }

    /** Fences every unfenced node silent for longer than the session; returns what it fenced. */
    List<NodeInfo> tick() {
        List<NodeInfo> expired = liveness.expired(image, loop.nowMs() * 1_000_000L, -1);
        for (NodeInfo node : expired) {
            commit(new MetadataCommand.FenceNode(node.id(), node.incarnation()));
        }
        return expired;
    }

    long sessionTimeoutMs() {
        return sessionTimeoutMs;
    }
}
