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

    /** Continuous autobalancing: the replicas of a node fenced for the availability timeout move to the live nodes, not before. */
    @Test
    void theReplicasOfANodeUnavailableForTheTimeoutMoveToTheLiveNodesAndNotBefore() {
        long moveAfterMs = 5_000;
        EventLoop clock = new EventLoop();
        SimController continuous = new SimController(clock, SESSION_MS, HEARTBEAT_MS, 10, moveAfterMs);
        for (int id = 1; id <= 4; id++) {
            continuous.commit(new MetadataCommand.RegisterNode(id, "sim", id, id * 11L, false));
        }
        java.util.List<java.util.List<Integer>> assignment = java.util.List.of(java.util.List.of(1, 2, 4), java.util.List.of(2, 3, 1),
                java.util.List.of(3, 4, 2), java.util.List.of(4, 1, 3));
        continuous.commit(new MetadataCommand.CreateTopic("orders", java.util.UUID.randomUUID(), assignment, java.util.Map.of()));
        clock.every(0, HEARTBEAT_MS, () -> {
            for (int id = 1; id <= 3; id++) {
                continuous.heartbeat(id, id * 11L);
            }
        });
        continuous.start();

        long fencedBy = TICK_MS + HEARTBEAT_MS + SESSION_MS + TICK_MS;
        clock.runUntil(fencedBy, () -> { });
        assertThat(continuous.image().node(4).fenced()).isTrue();
        assertThat(targets(continuous)).as("fenced, its leaderships moved, its replicas still assigned").anyMatch(r -> r.contains(4));

        clock.runUntil(fencedBy + moveAfterMs - 2 * TICK_MS, () -> { });
        assertThat(targets(continuous)).as("not before the timeout").anyMatch(r -> r.contains(4));

        // The next look at moves (every 500 ms) after the timeout starts them all: 3 partitions, within the 10 at once.
        clock.runUntil(fencedBy + moveAfterMs + 500 + TICK_MS, () -> { });
        assertThat(targets(continuous)).noneMatch(r -> r.contains(4)).allSatisfy(r -> assertThat(r).hasSize(3).doesNotHaveDuplicates());
        assertThat(continuous.image().topic("orders").partitions().get(1).reassigning()).as("a partition without it does not move").isFalse();
    }

    /**
     * A node being filled that is fenced along the way (it missed its heartbeats on a busy
     * machine) gets the rest of its share once it registers again. The fill used to drop it at
     * the fence, and a node that registers holding replicas is not a new node: a CI run left one
     * at 11 of its 17 replicas.
     */
    @Test
    void aNodeFencedWhileItIsFilledGetsTheRestOfItsShareOnceBack() {
        EventLoop clock = new EventLoop();
        SimController controller = new SimController(clock, SESSION_MS, HEARTBEAT_MS, 2, 0);
        for (int id = 1; id <= 3; id++) {
            controller.commit(new MetadataCommand.RegisterNode(id, "sim", id, id * 11L, false));
        }
        java.util.List<java.util.List<Integer>> assignment = new java.util.ArrayList<>();
        for (int p = 0; p < 12; p++) {
            assignment.add(java.util.List.of(1 + p % 3, 1 + (p + 1) % 3, 1 + (p + 2) % 3));
        }
        controller.commit(new MetadataCommand.CreateTopic("orders", java.util.UUID.randomUUID(), assignment, java.util.Map.of()));
        long[] node4 = {44};
        boolean[] node4Up = {false};
        clock.every(0, HEARTBEAT_MS, () -> {
            for (int id = 1; id <= 3; id++) {
                controller.heartbeat(id, id * 11L);
            }
            if (node4Up[0]) {
                controller.heartbeat(4, node4[0]);
                catchUp(controller, 4);
            }
        });
        controller.start();
        clock.runUntil(4 * TICK_MS, () -> { });
        // Joins once the controller leads: only registrations it sees count as new nodes.
        controller.commit(new MetadataCommand.RegisterNode(4, "sim", 4, node4[0], false));
        node4Up[0] = true;
        long joinedAt = clock.nowMs();
        while (io.spate.cluster.NodeFill.replicaCount(controller.image(), 4) < 2) {
            assertThat(clock.nowMs() - joinedAt).as("the fill begins").isLessThan(10_000);
            clock.runUntil(clock.nowMs() + 100, () -> { });
        }

        node4Up[0] = false;
        long stoppedAt = clock.nowMs();
        clock.runUntil(stoppedAt + SESSION_MS + HEARTBEAT_MS + 2 * TICK_MS, () -> { });
        assertThat(controller.image().node(4).fenced()).isTrue();
        clock.runUntil(clock.nowMs() + 3_000, () -> { });
        int whileAway = io.spate.cluster.NodeFill.replicaCount(controller.image(), 4);
        assertThat(whileAway).as("short of its share of 36 / 4").isLessThan(9);

        node4[0] = 45;
        controller.commit(new MetadataCommand.RegisterNode(4, "sim", 4, node4[0], false));
        node4Up[0] = true;
        clock.runUntil(clock.nowMs() + 20_000, () -> { });
        assertThat(io.spate.cluster.NodeFill.replicaCount(controller.image(), 4)).isEqualTo(9);
        assertThat(io.spate.cluster.NodeFill.movesRunning(controller.image())).isZero();
    }

    /** What the node's fetches would do: every replica moving to {@code node} catches up and joins the in-sync set. */
    private static void catchUp(SimController controller, int node) {
        io.spate.cluster.TopicState topic = controller.image().topic("orders");
        for (int p = 0; p < topic.partitions().size(); p++) {
            io.spate.cluster.PartitionState state = topic.partitions().get(p);
            if (state.adding().contains(node) && !state.isr().contains(node) && state.hasLeader()) {
                java.util.List<Integer> isr = new java.util.ArrayList<>(state.isr());
                isr.add(node);
                controller.commit(new MetadataCommand.AlterIsr("orders", p, state.leader(), state.leaderEpoch(), state.partitionEpoch(), isr));
            }
        }
    }

    private static java.util.List<java.util.List<Integer>> targets(SimController controller) {
        return controller.image().topic("orders").partitions().stream().map(io.spate.cluster.PartitionState::targetReplicas).toList();
    }
}
