package io.spate.cluster;

import io.spate.time.Scheduler;
import io.spate.time.SystemScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The controller's duties, carried out by whichever voter currently leads the metadata quorum:
 * fence nodes whose heartbeats stopped (which moves their partitions to in-sync followers), and
 * now and then return leadership to preferred replicas. Its decisions are ordinary commands
 * through the metadata log, so a controller that lost its quorum simply cannot make them.
 * It ticks on an injected {@link Scheduler}, reading time from the liveness tracker's clock, so a
 * test or the simulation decides when it looks.
 */
public final class Controller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Controller.class);
    private static final long TICK_MS = 50;

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
        } catch (RuntimeException | Error e) {
            // Caught whole: a throw out of a scheduled task would cancel every later tick, and with it all fencing.
            log.error("controller tick failed", e);
        }
    }

    /** Moves leadership back to preferred replicas that are alive and in sync (Kafka's auto leader rebalance). */
    private void rebalance(ClusterImage image) {
        Set<Integer> live = new HashSet<>(image.liveNodes());
        for (TopicState topic : image.topics().values()) {
            for (int p = 0; p < topic.partitions().size(); p++) {
                PartitionState state = topic.partitions().get(p);
                int preferred = state.preferredLeader();
                if (state.leader() != preferred && live.contains(preferred) && state.isr().contains(preferred)) {
                    submitOnce("elect-" + topic.name() + "-" + p + "-" + state.leaderEpoch(),
                            new MetadataCommand.ElectPreferredLeader(topic.name(), p), null);
                }
            }
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
