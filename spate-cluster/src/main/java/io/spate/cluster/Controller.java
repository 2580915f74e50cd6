package io.spate.cluster;

import io.spate.time.Scheduler;
import io.spate.time.SystemScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The controller's duties, carried out by whichever voter currently leads the metadata quorum:
 * fence nodes whose heartbeats stopped (which moves their partitions to in-sync followers), now
 * and then return leadership to preferred replicas, and move partitions onto a node that joins
 * holding none ({@link NodeFill}) and, when asked, off a node unavailable too long
 * ({@link NodeDrain#evacuation}). Its decisions are ordinary commands
 * through the metadata log, so a controller that lost its quorum simply cannot make them.
 * It ticks on an injected {@link Scheduler}, reading time from the liveness tracker's clock, so a
 * test or the simulation decides when it looks.
 */
public final class Controller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Controller.class);
    private static final long TICK_MS = 50;
    /** How often the partitions moving onto a new node are looked at (each move's completion is one more look away). */
    private static final long FILL_INTERVAL_MS = 500;
    /** How long a node being filled may have nothing move to it before the fill gives up on it. */
    static final long FILL_PATIENCE_MS = 60_000;

    private final MetadataLog metadata;
    private final LivenessTracker liveness;
    private final long rebalanceIntervalNanos;
    private final Scheduler scheduler;
    /** Closed with the controller when it made the scheduler itself. */
    private final SystemScheduler ownedScheduler;
    private volatile boolean closed;
    private final int selfId;
    private final long takeoverGraceNanos;
    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    private boolean leading;
    private long lastRebalanceNanos;
    private final int nodeAddMoves;
    /** The incarnation of each live node this controller has looked at: a new one is a (re)start to look at. */
    private final java.util.Map<Integer, Long> seenIncarnations = new java.util.HashMap<>();
    /**
     * Nodes that joined holding no replica, being given their share. Kept by the controller leader
     * only: a fill under way stops when the leadership moves (see README).
     */
    private final java.util.Set<Integer> filling = new java.util.TreeSet<>();
    private final java.util.Map<Integer, Integer> movedTo = new java.util.HashMap<>();
    /** Since when each node being filled has had nothing move to it (fenced, or nothing movable). */
    private final java.util.Map<Integer, Long> fillStalledSince = new java.util.HashMap<>();
    private long lastFillNanos;
    /** 0: the replicas of an unavailable node stay assigned to it. */
    private final long unavailableMoveAfterNanos;
    /**
     * When this controller first saw each node fenced. Kept by the controller leader only, from
     * its takeover: a node's wait starts again when the leadership moves, which only delays a move.
     */
    private final java.util.Map<Integer, Long> unavailableSince = new java.util.HashMap<>();
    private final java.util.Set<Integer> evacuating = new java.util.TreeSet<>();

    /** Ticks on its own thread, {@code spate-controller}. */
    public Controller(MetadataLog metadata, LivenessTracker liveness, ClusterSettings settings) {
        this(metadata, liveness, settings, new SystemScheduler("spate-controller"), true);
    }

    /** Ticks on {@code scheduler}, whose clock should be the liveness tracker's. */
    public Controller(MetadataLog metadata, LivenessTracker liveness, ClusterSettings settings, Scheduler scheduler) {
        this(metadata, liveness, settings, scheduler, false);
    }

    private Controller(MetadataLog metadata, LivenessTracker liveness, ClusterSettings settings, Scheduler scheduler, boolean ownsScheduler) {
        this.metadata = metadata;
        this.liveness = liveness;
        this.rebalanceIntervalNanos = settings.leaderRebalanceMs() * 1_000_000L;
        this.selfId = settings.nodeId();
        this.takeoverGraceNanos = settings.heartbeatMs() * 1_000_000L;
        this.nodeAddMoves = settings.nodeAddMoves();
        this.unavailableMoveAfterNanos = settings.unavailableMoveAfterMs() * 1_000_000L;
        this.scheduler = scheduler;
        this.ownedScheduler = ownsScheduler ? (SystemScheduler) scheduler : null;
    }

    public void start() {
        scheduler.schedule(TICK_MS, this::tickAndRepeat);
    }

    private void tickAndRepeat() {
        if (closed) {
            return;
        }
        try {
            tick();
        } finally {
            scheduler.schedule(TICK_MS, this::tickAndRepeat);
        }
    }

    void tick() {
        try {
            long now = liveness.time().nanos();
            boolean leader = metadata.isControllerLeader();
            if (leader && !leading) {
                log.info("this node now leads the controller quorum");
                // Voters learn the new leader from Raft at once; one heartbeat interval lets their next heartbeat arrive.
                liveness.reset(metadata.image(), now + takeoverGraceNanos);
                lastRebalanceNanos = now;
                // Only registrations from now on count as joins: an empty node that is already there may
                // have been drained on purpose, and must not be filled again because the controller moved.
                seenIncarnations.clear();
                metadata.image().nodes().values().forEach(n -> seenIncarnations.put(n.id(), n.incarnation()));
                filling.clear();
                movedTo.clear();
                fillStalledSince.clear();
                unavailableSince.clear();
                evacuating.clear();
            }
            leading = leader;
            if (!leader) {
                return;
            }
            ClusterImage image = metadata.image();
            for (NodeInfo node : liveness.expired(image, now, selfId)) {
                submitOnce("fence-" + node.id() + "-" + node.incarnation(), new MetadataCommand.FenceNode(node.id(), node.incarnation()),
                        "node " + node.id() + " missed its session timeout: fencing it and moving its leaders");
            }
            if (rebalanceIntervalNanos > 0 && now - lastRebalanceNanos > rebalanceIntervalNanos) {
                lastRebalanceNanos = now;
                rebalance(image);
            }
            if (nodeAddMoves > 0) {
                noticeNewNodes(image);
                if (unavailableMoveAfterNanos > 0) {
                    noticeUnavailableNodes(image, now);
                }
                if ((!filling.isEmpty() || !evacuating.isEmpty()) && now - lastFillNanos >= FILL_INTERVAL_MS * 1_000_000L) {
                    lastFillNanos = now;
                    evacuate(image);
                    fill(image, now);
                }
            }
        } catch (RuntimeException | Error e) {
            // Caught whole: a throw out of a scheduled task would cancel every later tick, and with it all fencing.
            log.error("controller tick failed", e);
        }
    }

    /** Moves leadership back to preferred replicas that are alive and in sync, placed partitions with their anchors ({@link LeaderRebalance}). */
    private void rebalance(ClusterImage image) {
        for (MetadataCommand.ElectPreferredLeader election : LeaderRebalance.elections(image)) {
            PartitionState state = image.partition(election.topic(), election.partition());
            submitOnce("elect-" + election.topic() + "-" + election.partition() + "-" + state.leaderEpoch(), election, null);
        }
    }

    /** A node that (re)registered holding no replica is a new server: it is to get its share of the partitions. */
    private void noticeNewNodes(ClusterImage image) {
        for (NodeInfo node : image.nodes().values()) {
            if (node.fenced()) {
                continue;
            }
            Long seen = seenIncarnations.put(node.id(), node.incarnation());
            if ((seen == null || seen != node.incarnation()) && NodeFill.replicaCount(image, node.id()) == 0) {
                filling.add(node.id());
            }
        }
    }

    /** A node fenced for {@code unavailableMoveAfterMs} that still holds replicas is to lose them to the live nodes. */
    private void noticeUnavailableNodes(ClusterImage image, long now) {
        for (NodeInfo node : image.nodes().values()) {
            if (!node.fenced()) {
                unavailableSince.remove(node.id());
                evacuating.remove(node.id());
                continue;
            }
            long since = unavailableSince.computeIfAbsent(node.id(), id -> now);
            if (now - since >= unavailableMoveAfterNanos && !evacuating.contains(node.id()) && NodeFill.replicaCount(image, node.id()) > 0) {
                evacuating.add(node.id());
                log.warn("node {} has been unavailable for {} s: moving its {} replica(s) to the live nodes, at most {} at once", node.id(),
                        (now - since) / 1_000_000_000L, NodeFill.replicaCount(image, node.id()), nodeAddMoves);
            }
        }
    }

    /** Starts the next moves off the unavailable nodes, within the cluster's budget of moves running at once. */
    private void evacuate(ClusterImage image) {
        if (evacuating.isEmpty() || pending.stream().anyMatch(k -> k.startsWith("evacuate-") || k.startsWith("fill-"))) {
            return; // the image does not show those moves yet
        }
        int budget = nodeAddMoves - NodeFill.movesRunning(image);
        for (java.util.Iterator<Integer> it = evacuating.iterator(); it.hasNext() && budget > 0; ) {
            int node = it.next();
            java.util.List<MetadataCommand.ReassignPartition> moves = NodeDrain.evacuation(image, node, budget);
            if (moves.isEmpty()) {
                if (NodeFill.replicaCount(image, node) == 0) {
                    it.remove();
                    log.info("node {} holds no replica now", node);
                }
                continue; // what is left waits for a leader, a move to end, or room on a live node
            }
            for (MetadataCommand.ReassignPartition move : moves) {
                PartitionState state = image.partition(move.topic(), move.partition());
                submitOnce("evacuate-" + node + "-" + move.topic() + "-" + move.partition() + "-" + state.partitionEpoch(), move, null);
            }
            budget -= moves.size();
        }
    }

    /**
     * Starts the next moves onto the nodes being filled, at most {@code nodeAddMoves} running at
     * once over the cluster. A node stays being filled until it holds its share. While it is
     * fenced, or nothing can move to it (replicas out of sync, other moves running), it waits, up
     * to {@link #FILL_PATIENCE_MS}: a new node that missed a heartbeat on a busy machine was
     * dropped at once and kept the replicas it had by then (11 of its 17 in a CI run), since a
     * node that registers again holding replicas is not a new node.
     */
    private void fill(ClusterImage image, long now) {
        if (pending.stream().anyMatch(k -> k.startsWith("fill-") || k.startsWith("evacuate-"))) {
            return; // the image does not show those moves yet: planning now would count the node short, or the budget
        }
        int budget = nodeAddMoves - NodeFill.movesRunning(image);
        for (java.util.Iterator<Integer> it = filling.iterator(); it.hasNext(); ) {
            int node = it.next();
            NodeInfo info = image.node(node);
            if (info == null || evacuating.contains(node)) {
                it.remove();
                fillStalledSince.remove(node);
                continue;
            }
            java.util.List<MetadataCommand.ReassignPartition> moves = info.fenced() ? java.util.List.of() : NodeFill.moves(image, node, budget);
            if (moves.isEmpty()) {
                boolean receiving = NodeFill.receiving(image, node);
                if (!info.fenced() && !receiving && NodeFill.holdsShare(image, node)) {
                    it.remove();
                    fillStalledSince.remove(node);
                    Integer moved = movedTo.remove(node);
                    if (moved != null) {
                        log.info("node {} has its share now: {} replica(s), {} moved to it", node, NodeFill.replicaCount(image, node), moved);
                    }
                } else if (receiving || budget <= 0) {
                    fillStalledSince.put(node, now); // its moves, or others', are running: not stalled
                } else {
                    long since = fillStalledSince.computeIfAbsent(node, n -> now);
                    if (now - since >= FILL_PATIENCE_MS * 1_000_000L) {
                        it.remove();
                        fillStalledSince.remove(node);
                        movedTo.remove(node);
                        log.warn("node {} stays at {} replica(s), short of its share: nothing could move to it for {} s{}", node,
                                NodeFill.replicaCount(image, node), FILL_PATIENCE_MS / 1000, info.fenced() ? " (it is fenced)" : "");
                    }
                }
                continue;
            }
            fillStalledSince.put(node, now);
            if (!movedTo.containsKey(node)) {
                log.info("node {} joined holding no replica: moving partitions to it, at most {} at once", node, nodeAddMoves);
            }
            for (MetadataCommand.ReassignPartition move : moves) {
                PartitionState state = image.partition(move.topic(), move.partition());
                movedTo.merge(node, 1, Integer::sum);
                submitOnce("fill-" + node + "-" + move.topic() + "-" + move.partition() + "-" + state.partitionEpoch(), move,
                        null);
            }
            budget -= moves.size();
        }
    }

    private void submitOnce(String key, MetadataCommand command, String why) {
        if (!pending.add(key)) {
            return;
        }
        if (why != null) {
            log.warn(why);
        }
        // Only through the local voter and bound to its term: a controller that lost its quorum must
        // not have its decisions carried out later by another; the next tick decides again if need be.
        metadata.submitAsLeader(command)
                .whenComplete((result, failure) -> {
                    pending.remove(key);
                    if (failure != null) {
                        log.info("controller command {} failed: {}", command, failure.toString());
                    } else if (!result.succeeded()) {
                        log.info("controller command {} was refused: {} {}", command, result.error(), result.message());
                    }
                });
    }

    @Override
    public void close() {
        closed = true;
        if (ownedScheduler != null) {
            ownedScheduler.close();
        }
    }
}
