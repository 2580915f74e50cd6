package io.spate.testkit.sim;

import io.spate.cluster.MetadataCommand;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real {@code Controller} ticking on simulated time over the simulation's quorum model: when
 * it fences a node is decided by the session timeout and its takeover grace alone, to the tick.
 */
class SimControllerTest {
    private static final long SESSION_MS = 1_000;
    private static final long HEARTBEAT_MS = 50;
    /** The controller's tick. */
    private static final long TICK_MS = 50;

    private final EventLoop loop = new EventLoop();
    private final SimController controller = new SimController(loop, SESSION_MS, HEARTBEAT_MS);

    private boolean fenced(int nodeId) {
        return controller.image().node(nodeId).fenced();
    }

    @Test
    void aNodeThatStopsHeartbeatingIsFencedOnceItsSessionRunsOutAndOneThatKeepsOnIsNot() {
        controller.commit(new MetadataCommand.RegisterNode(1, "sim", 1, 11, false));
        controller.commit(new MetadataCommand.RegisterNode(2, "sim", 2, 22, false));
        loop.every(0, HEARTBEAT_MS, () -> controller.heartbeat(1, 11));
        long lastFromNode2 = loop.nowMs();
        controller.start();

        // The first tick takes over and gives every node a full session from one heartbeat later.
        long expiry = TICK_MS + HEARTBEAT_MS + SESSION_MS;
        loop.runUntil(expiry, () -> { });
        assertThat(fenced(2)).as("node 2 silent since %d ms, but its session has not run out", lastFromNode2).isFalse();

        loop.runUntil(expiry + TICK_MS, () -> { });
        assertThat(fenced(2)).isTrue();
        assertThat(fenced(1)).isFalse();
        assertThat(controller.heartbeat(2, 22).join().registered()).as("told it must register again").isFalse();
    }

    @Test
    void aFencedNodeThatRegistersAgainStartsAFullSession() {
        controller.commit(new MetadataCommand.RegisterNode(1, "sim", 1, 11, false));
        controller.start();
        loop.runUntil(TICK_MS + HEARTBEAT_MS + SESSION_MS + TICK_MS, () -> { });
        assertThat(fenced(1)).isTrue();

        controller.commit(new MetadataCommand.RegisterNode(1, "sim", 1, 12, false));
        long registeredAt = loop.nowMs();
        loop.runUntil(registeredAt + SESSION_MS, () -> { });
        assertThat(fenced(1)).as("the registration counts as hearing from it").isFalse();
        loop.runUntil(registeredAt + SESSION_MS + 2 * TICK_MS, () -> { });
        assertThat(fenced(1)).isTrue();
    }
}
