package io.spate.testkit.sim;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.ClusterSettings;
import io.spate.cluster.CommandResult;
import io.spate.cluster.Controller;
import io.spate.cluster.LivenessTracker;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.MetadataTransitions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The controller quorum as one party that is always up and always leads: a {@link MetadataLog}
 * that applies commands with the real {@link MetadataTransitions} in arrival order and tracks
 * heartbeats with the real {@link LivenessTracker}, under the real {@link Controller}, which ticks
 * as an event of the simulation and fences nodes whose session ran out exactly as on the quorum
 * leader of a cluster. What it commits reaches each node as an image after a network delay
 * (the nodes ask for it; see {@code SimNode}).
 */
public final class SimController implements MetadataLog {
    /** Not a node of the simulation: the controller never fences itself. */
    private static final int CONTROLLER_ID = 0;

    private final long sessionTimeoutMs;
    private final LivenessTracker liveness;
    private final Controller controller;
    private final List<Consumer<ClusterImage>> listeners = new ArrayList<>();
    private final TreeMap<Long, List<CompletableFuture<ClusterImage>>> versionWaiters = new TreeMap<>();
    private ClusterImage image = ClusterImage.EMPTY;
    private long index;
    /** Every image by version, when nodes apply them in order (null: they jump to the newest). */
    private TreeMap<Long, ClusterImage> history;

    SimController(EventLoop loop, long sessionTimeoutMs, long heartbeatMs) {
        this(loop, sessionTimeoutMs, heartbeatMs, 0, 0);
    }

    /** As above, moving partitions as the autobalancing settings say ({@code moves} at once; replicas off a node fenced that long). */
    SimController(EventLoop loop, long sessionTimeoutMs, long heartbeatMs, int moves, long unavailableMoveAfterMs) {
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.liveness = new LivenessTracker(sessionTimeoutMs, loop);
        ClusterSettings settings = new ClusterSettings(CONTROLLER_ID, List.of(new ClusterSettings.Voter(CONTROLLER_ID, "sim", 1)), null,
                heartbeatMs, sessionTimeoutMs, sessionTimeoutMs, 0, moves, unavailableMoveAfterMs);
        this.controller = new Controller(this, liveness, settings, loop);
    }

    /** Whether nodes apply every image in order, as voters apply the metadata log (else each jumps to the newest). */
    void keepHistory(boolean on) {
        history = on ? new TreeMap<>() : null;
    }

    /**
     * The images a node at {@code version} applies to catch up: every newer one in order when the
     * history is kept and the node holds an image at all, else only the newest.
     */
    List<ClusterImage> imagesAfter(long version) {
        if (image.version() <= version) {
            return List.of();
        }
        if (history == null || version < 0) {
            return List.of(image);
        }
        return List.copyOf(history.tailMap(version, false).values());
    }

    /** Starts the controller's ticks on the simulation's loop. */
    void start() {
        controller.start();
    }

    @Override
    public ClusterImage image() {
        return image;
    }

    /** Applies {@code command} now and returns its result (the image moves on with it). */
    public CommandResult commit(MetadataCommand command) {
        MetadataTransitions.Outcome outcome = MetadataTransitions.apply(image, command, ++index);
        ClusterImage before = image;
        image = outcome.image();
        // A registration counts as hearing from the node, as in the real state machine: without it
        // a node that registered again is fenced at the next tick, before its next heartbeat lands.
        image.nodes().values().forEach(node -> {
            var was = before.node(node.id());
            if (!node.fenced() && (was == null || was.fenced() || was.incarnation() != node.incarnation())) {
                heard(node.id(), node.incarnation());
            }
        });
        if (image != before) {
            if (history != null) {
                history.put(image.version(), image);
            }
            listeners.forEach(l -> l.accept(image));
            Map<Long, List<CompletableFuture<ClusterImage>>> due = versionWaiters.headMap(image.version(), true);
            List<CompletableFuture<ClusterImage>> reached = new ArrayList<>();
            due.values().forEach(reached::addAll);
            due.clear(); // before completing: a waiter's continuation may wait again
            ClusterImage now = image;
            reached.forEach(w -> w.complete(now));
        }
        return outcome.result();
    }

    void heard(int nodeId, long incarnation) {
        liveness.heard(image, nodeId, incarnation, liveness.time().nanos());
    }

    @Override
    public CompletableFuture<CommandResult> submit(MetadataCommand command) {
        return CompletableFuture.completedFuture(commit(command));
    }

    @Override
    public CompletableFuture<CommandResult> submitAsLeader(MetadataCommand command) {
        return CompletableFuture.completedFuture(commit(command));
    }

    @Override
    public void subscribe(Consumer<ClusterImage> listener) {
        listeners.add(listener);
    }

    @Override
    public CompletableFuture<ClusterImage> awaitVersion(long version) {
        if (image.version() >= version) {
            return CompletableFuture.completedFuture(image);
        }
        CompletableFuture<ClusterImage> waiting = new CompletableFuture<>();
        versionWaiters.computeIfAbsent(version, v -> new ArrayList<>()).add(waiting);
        return waiting;
    }

    /** The quorum's own image is never behind. */
    @Override
    public void refresh() {
    }

    @Override
    public CompletableFuture<HeartbeatReply> heartbeat(int nodeId, long incarnation) {
        heard(nodeId, incarnation);
        var node = image.node(nodeId);
        return CompletableFuture.completedFuture(new HeartbeatReply(node != null && !node.fenced() && node.incarnation() == incarnation, image.version()));
    }

    @Override
    public int controllerLeader() {
        return CONTROLLER_ID;
    }

    @Override
    public boolean isControllerLeader() {
        return true;
    }

    /** Always in touch with a majority: the model has no quorum of its own to lose. */
    @Override
    public long quorumContactAgeMs() {
        return 0;
    }

    @Override
    public void close() {
        controller.close();
    }

    long sessionTimeoutMs() {
        return sessionTimeoutMs;
    }
}
