package io.spate.testkit.sim;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.PartitionState;

import java.util.Map;
import java.util.function.Consumer;

/**
 * A consumer group's client, as far as its committed offset goes: it commits ever larger offsets
 * to the node it believes coordinates the group (the leader of the offsets partition, from
 * metadata it refreshes now and then), one commit at a time as a consumer's commitSync does (a
 * later commit must not overtake an earlier one on the way), and now and then fetches the
 * committed offset back. The
 * promise checked: a fetch answers at least the largest commit acknowledged before it was sent
 * (committed offsets never go back, across every failover the run injects).
 */
final class SimCommitter {
    static final String GROUP = "sim-group";

    private final EventLoop loop;
    private final SimNetwork network;
    private final SimController controller;
    private final Map<Integer, SimNode> nodes;
    private final Consumer<String> violation;
    private ClusterImage known = ClusterImage.EMPTY;
    private long next = 1;
    private long acknowledged = -1;
    private long commitsAcknowledged;
    private long fetchesAnswered;
    private long stopAtMs = Long.MAX_VALUE;
    /** The commit out now (0: none), and until when the client waits for its answer. */
    private long inFlight;
    private long giveUpAtMs;
    /** A little longer than the coordinator's commit timeout, as the client's request timeout is. */
    private static final long REQUEST_TIMEOUT_MS = SimNode.COMMIT_WAIT_MS + 1_000;

    SimCommitter(EventLoop loop, SimNetwork network, SimController controller, Map<Integer, SimNode> nodes, Consumer<String> violation) {
        this.loop = loop;
        this.network = network;
        this.controller = controller;
        this.nodes = nodes;
        this.violation = violation;
    }

    void refreshMetadata() {
        known = controller.image();
    }

    void stopAt(long atMs) {
        stopAtMs = atMs;
    }

    long commitsAcknowledged() {
        return commitsAcknowledged;
    }

    long fetchesAnswered() {
        return fetchesAnswered;
    }

    long acknowledged() {
        return acknowledged;
    }

    private SimNode coordinator() {
        PartitionState state = known.partition(SimOffsets.TOPIC, 0);
        return state == null || !state.hasLeader() ? null : nodes.get(state.leader());
    }

    /** Commits the next offset; the client is not a node, so only the coordinator's own faults stand in its way. */
    void commit() {
        SimNode coordinator = coordinator();
        if (coordinator == null || loop.nowMs() >= stopAtMs || inFlight != 0 && loop.nowMs() < giveUpAtMs) {
            return;
        }
        long offset = next++;
        inFlight = offset;
        giveUpAtMs = loop.nowMs() + REQUEST_TIMEOUT_MS;
        long at = coordinator.incarnation();
        loop.after(network.delayMs(), () -> {
            if (coordinator.alive() && coordinator.incarnation() == at) {
                coordinator.commitWhenRunning(GROUP, offset, ok -> answer(coordinator, () -> {
                    if (ok) {
                        commitsAcknowledged++;
                        acknowledged = Math.max(acknowledged, offset);
                    }
                    if (inFlight == offset) {
                        inFlight = 0;
                    }
                }));
            }
        });
    }

    /** Fetches the committed offset; the answer must not be below what was acknowledged before this fetch left. */
    void fetch() {
        SimNode coordinator = coordinator();
        if (coordinator == null) {
            return;
        }
        long mustSee = acknowledged;
        long at = coordinator.incarnation();
        loop.after(network.delayMs(), () -> {
            if (coordinator.alive() && coordinator.incarnation() == at) {
                coordinator.fetchCommittedWhenRunning(GROUP, committed -> answer(coordinator, () -> {
                    fetchesAnswered++;
                    if (committed < mustSee) {
                        violation.accept("node " + coordinator.id() + " answered committed offset " + committed + " for " + GROUP
                                + ", but a commit of " + mustSee + " was acknowledged before the fetch was sent");
                    }
                }));
            }
        });
    }

    /** An answer reaches the client after a network delay, if the node that sent it is still that process. */
    private void answer(SimNode from, Runnable onArrival) {
        long at = from.incarnation();
        loop.after(network.delayMs(), () -> {
            if (from.alive() && from.incarnation() == at) {
                onArrival.run();
            }
        });
    }
}
