package io.spate.testkit.sim;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.PartitionState;
import io.spate.cluster.TopicState;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import io.spate.replication.Partition;
import io.spate.testkit.disk.SimDisk;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A seeded run of a replicated topic under faults: nodes crash and restart, pause, lose links to
 * each other or to the controller, while a producer writes with acks=all. Everything happens on
 * one thread in simulated time, so a seed replays exactly. Invariants are checked after every
 * event (a replica's high watermark never moves back; a partition's leader is in its in-sync
 * set), and at the end, once every fault is healed and the replicas have caught up, every
 * acknowledged write must be where it was acknowledged, and the replicas must agree.
 */
public final class ReplicationSimulation {
    static final String TOPIC = "sim";
    /** How often nodes heartbeat (the controller's takeover grace too). */
    private static final long HEARTBEAT_MS = 50;
    /** Every move of every high watermark in the trace (long; for replaying one seed). */
    private static final int TRACE_LINES = Integer.getInteger("spate.sim.traceLines", 200);
    private static final boolean TRACE_HIGH_WATERMARKS = Boolean.getBoolean("spate.sim.traceHighWatermarks");
    /** Every trace line to standard error as it happens, between the code's own log lines (for replaying one seed). */
    private static final boolean TRACE_LIVE = Boolean.getBoolean("spate.sim.traceLive");
    /** How often nodes write their checkpoints (high watermarks, recovery points); a node does every 10 s. */
    private static final long CHECKPOINT_MS = 700;

    /** How a run is shaped; {@link #defaults(long)} is what CI runs. */
    public record Options(long seed, int nodes, int partitions, long faultyMs, long sessionTimeoutMs, long lagTimeMaxMs, boolean bitFlips,
                          boolean moves, boolean deletes, boolean compaction, boolean retention, boolean policySwitches) {
        /** The same run with a fault phase of {@code ms} of simulated time. */
        public Options withFaultyMs(long ms) {
            return new Options(seed, nodes, partitions, ms, sessionTimeoutMs, lagTimeMaxMs, bitFlips, moves, deletes, compaction, retention, policySwitches);
        }

        /**
         * The same run with one more kind of fault: a node's disk that reads back a wrong bit now
         * and then (the other faults a seed draws differ with it on).
         */
        public Options withBitFlips(boolean on) {
            return new Options(seed, nodes, partitions, faultyMs, sessionTimeoutMs, lagTimeMaxMs, on, moves, deletes, compaction, retention, policySwitches);
        }

        /**
         * The same run on {@code count} nodes where partitions also move between nodes (a third of
         * the faults drawn are reassignments, each new replica placed first so that the preferred-
         * leader election hands it leadership once it is in sync), and nodes apply every image in
         * order, as the quorum's voters apply the metadata log, instead of jumping to the newest.
         */
        public Options withMoves(int count) {
            return new Options(seed, count, partitions, faultyMs, sessionTimeoutMs, lagTimeMaxMs, bitFlips, true, deletes, compaction, retention, policySwitches);
        }

        /**
         * The same run where an admin client also deletes records now and then (DeleteRecords on
         * the leader, up to a point at or below its high watermark; a quarter of the faults
         * drawn), so that followers move their log start with the leader's, and a replica left
         * behind the leader's log start (down, cut off, or new from a move) starts over there.
         * Records below the highest point ever asked for may be gone; everything acknowledged at
         * or above it must still be there.
         */
        public Options withDeletes(boolean on) {
            return new Options(seed, nodes, partitions, faultyMs, sessionTimeoutMs, lagTimeMaxMs, bitFlips, moves, on, compaction, retention, policySwitches);
        }

        /**
         * The same run on compacted topics (cleanup.policy=compact, segments of 2 KiB, keyed
         * writes over 40 keys per partition), each node's cleaner compacting its replicas every
         * 300 ms as a node's cleaner thread does, through the simulated disk: the faults then
         * also meet compaction's segment swaps. Replicas compact on their own, so they may hold
         * different records; each must hold the same latest record of every key, and every
         * acknowledged write must still be at its offset or have a later record of its key after it.
         */
        public Options withCompaction(boolean on) {
            return new Options(seed, nodes, partitions, faultyMs, sessionTimeoutMs, lagTimeMaxMs, bitFlips, moves, deletes, on, retention, policySwitches);
        }

        /**
         * The same run with size retention (2 KiB segments, at most 6 KiB kept per replica; with
         * compaction, {@code compact,delete}), every process applying it to its logs every 300 ms
         * as a node's retention duty does: each replica deletes its own oldest segments, never
         * past its high watermark, and followers also take their leader's log start. Writes
         * acknowledged below the leader's final log start may be gone; no replica's log start may
         * ever pass its high watermark.
         */
        public Options withRetention(boolean on) {
            return new Options(seed, nodes, partitions, faultyMs, sessionTimeoutMs, lagTimeMaxMs, bitFlips, moves, deletes, compaction, on, policySwitches);
        }

        /**
         * The same compacted run where an operator switches the topics' cleanup policy between
         * {@code compact} and {@code delete} (with retention, {@code compact,delete} and
         * {@code delete}) every 1.5-3 s, each node applying it to its open logs at once (a node
         * that is down takes the new policy when it starts): followers then copy a compacted
         * leader's gaps under either policy, and recovery meets segments written under the other.
         */
        public Options withPolicySwitches(boolean on) {
            return new Options(seed, nodes, partitions, faultyMs, sessionTimeoutMs, lagTimeMaxMs, bitFlips, moves, deletes, compaction, retention, on);
        }
    }

    public static Options defaults(long seed) {
        return new Options(seed, 3, 2, 20_000, 1_000, 2_000, false, false, false, false, false, false);
    }

    /**
     * The topic's settings: odd seeds leave fsync to the operating system (Kafka's default, and
     * Spate's), even seeds fsync every write before it is acknowledged (flush.messages=1), so that
     * power losses meet both durability choices.
     */
    static Map<String, String> topicConfig(long seed) {
        return seed % 2 == 0 ? Map.of("min.insync.replicas", "2", "flush.messages", "1") : Map.of("min.insync.replicas", "2");
    }

    /** {@link #topicConfig(long)}, compacted when the run compacts. */
    static Map<String, String> topicConfig(Options options) {
        Map<String, String> config = new HashMap<>(topicConfig(options.seed()));
        if (options.compaction()) {
            config.put("cleanup.policy", options.retention() ? "compact,delete" : "compact");
            config.put("segment.bytes", "2048");
            config.put("min.cleanable.dirty.ratio", "0.2");
        }
        if (options.retention()) {
            config.put("segment.bytes", "2048");
            config.put("retention.bytes", "6144");
        }
        return Map.copyOf(config);
    }

    /** What a run found: no violation means it passed. The trace's tail says what led there. */
    public record Result(long seed, long events, long writes, long acked, long retries, long retriesAnsweredAsWritten, long commitsAcked, long offsetFetches, int faults,
                         long powerLosses, long filesThatLostWrites, long wrongReads, long moves, long deletes,
                         List<String> violations, List<String> traceTail) {
        public boolean passed() {
            return violations.isEmpty();
        }
    }

    private final Options options;
    private final Random random;
    private final EventLoop loop = new EventLoop();
    private final SimNetwork network;
    private final SimController controller;
    private final Map<Integer, SimNode> nodes = new TreeMap<>();
    private final SimProducer producer;
    private final SimCommitter committer;
    private final Map<String, String> topicConfig;
    private final List<String> violations = new ArrayList<>();
    private final Deque<String> trace = new ArrayDeque<>();
    /**
     * Per replica, its high watermark at the last check. Keyed by the log itself: a replica moved
     * away from a node and back is a new log that starts again from nothing (weak: a log a node
     * let go of is checked no more).
     */
    private final Map<PartitionLog, Long> highWatermarks = new java.util.WeakHashMap<>();
    /** Per node process and partition, the newest leader epoch it has been in. */
    private final Map<String, Integer> epochs = new HashMap<>();
    /** Per partition and leader epoch, the node that led it: one at most. */
    private final Map<String, Integer> leaders = new HashMap<>();
    private int faults;
    private long moves;
    private long deletes;
    /** Per partition, the highest offset a DeleteRecords asked for: what lies below it may be gone. */
    private final Map<Integer, Long> deletedBelow = new HashMap<>();

    private ReplicationSimulation(Options options) {
        this.options = options;
        this.random = new Random(options.seed());
        this.network = new SimNetwork(random);
        this.controller = new SimController(loop, options.sessionTimeoutMs(), HEARTBEAT_MS);
        controller.keepHistory(options.moves());
        this.topicConfig = topicConfig(options);
        for (int id = 1; id <= options.nodes(); id++) {
            nodes.put(id, new SimNode(id, SimDisk.create("node-" + id), loop, network, controller, nodes, topicConfig,
                    options.sessionTimeoutMs(), options.lagTimeMaxMs(), this::trace, this::violation));
        }
        this.producer = new SimProducer(loop, network, controller, nodes, TOPIC, options.partitions(), random, this::violation);
        if (options.deletes() || options.retention()) {
            producer.logMayForget();
        }
        this.committer = new SimCommitter(loop, network, controller, nodes, this::violation);
    }

    /** Switches the topics' cleanup policy in 1.5-3 s, then again, on every node at once. */
    private void switchPolicyLater(Random switches, boolean compacted) {
        loop.after(1_500 + switches.nextInt(1_500), () -> {
            Map<String, String> config = new HashMap<>(topicConfig);
            String policy = compacted ? "delete" : options.retention() ? "compact,delete" : "compact";
            config.put("cleanup.policy", policy);
            trace("the topics' cleanup.policy is now " + policy);
            Map<String, String> switched = Map.copyOf(config);
            nodes.values().forEach(node -> node.switchTopicConfig(switched));
            switchPolicyLater(switches, !compacted);
        });
    }

    /** Runs one seed; each node's disk is simulated, in memory. */
    public static Result run(Options options) {
        ReplicationSimulation sim = new ReplicationSimulation(options);
        try {
            return sim.run();
        } catch (RuntimeException | AssertionError e) {
            // A node's code throwing (or failing one of its assertions) out of an event is a failure of the seed like any violation: it
            // gets the seed and the trace that led there, and the other seeds still run.
            return sim.threw(e);
        } finally {
            sim.nodes.values().forEach(SimNode::close);
        }
    }

    private void violation(String what) {
        if (violations.isEmpty()) {
            trace("violation: " + what);
        }
        violations.add(what);
    }

    private void trace(String line) {
        trace.addLast(String.format("%8d ms  %s", loop.nowMs(), line));
        if (TRACE_LIVE) {
            System.err.println(trace.peekLast());
        }
        if (trace.size() > TRACE_LINES) {
            trace.removeFirst();
        }
    }

    private Result threw(Throwable e) {
        StringBuilder where = new StringBuilder();
        StackTraceElement[] stack = e.getStackTrace();
        for (int i = 0; i < Math.min(6, stack.length); i++) {
            where.append(i == 0 ? " at " : " <- ").append(stack[i]);
        }
        violation("an event threw " + e + where);
        return result();
    }

    private Result run() {
        nodes.values().forEach(SimNode::start);
        loop.runUntil(100, () -> { });
        List<List<Integer>> assignment = new ArrayList<>();
        for (int p = 0; p < options.partitions(); p++) {
            List<Integer> replicas = new ArrayList<>();
            for (int r = 0; r < Math.min(3, options.nodes()); r++) {
                replicas.add(1 + (p + r) % options.nodes());
            }
            assignment.add(replicas);
        }
        controller.commit(new MetadataCommand.CreateTopic(TOPIC, new UUID(options.seed(), 1), assignment, topicConfig));
        controller.commit(new MetadataCommand.CreateTopic(SimOffsets.TOPIC, new UUID(options.seed(), 2), List.of(assignment.get(0)), topicConfig));
        loop.every(0, HEARTBEAT_MS, () -> nodes.values().forEach(SimNode::heartbeat));
        controller.start();
        loop.every(0, 20, () -> nodes.values().forEach(SimNode::catchUpMetadata));
        loop.every(0, 5, () -> nodes.values().forEach(SimNode::fetch));
        // As often as a node checks (ClusterMember).
        loop.every(0, 1_000, () -> nodes.values().forEach(SimNode::checkInSyncSets));
        loop.every(0, CHECKPOINT_MS, () -> nodes.values().forEach(SimNode::runLogDuties));
        if (options.compaction()) {
            producer.keyed();
            loop.every(150, 300, () -> nodes.values().forEach(SimNode::compactDue));
        }
        if (options.retention()) {
            loop.every(250, 300, () -> nodes.values().forEach(SimNode::applyRetention));
        }
        if (options.policySwitches()) {
            // A generator of its own: the other faults a seed draws stay as they are without it.
            switchPolicyLater(new Random(options.seed() ^ 0x5eed5717c4L), true);
        }
        loop.every(0, 100, producer::refreshMetadata);
        loop.every(200, 4, producer::send);
        loop.every(0, 100, committer::refreshMetadata);
        loop.every(200, 10, committer::commit);
        loop.every(205, 25, committer::fetch);
        long faultsEnd = loop.nowMs() + options.faultyMs();
        scheduleFaults(faultsEnd);
        loop.runUntil(faultsEnd, this::checkInvariants);
        heal();
        // Writes go on for a while after the heal (recovery is part of the run), then stop so that the replicas can agree.
        producer.stopAt(loop.nowMs() + 2_000);
        committer.stopAt(loop.nowMs() + 2_000);
        loop.runUntil(loop.nowMs() + 2_000, this::checkInvariants);
        long settleBy = loop.nowMs() + 60_000;
        while (violations.isEmpty() && loop.nowMs() < settleBy && !converged()) {
            loop.runUntil(loop.nowMs() + 100, this::checkInvariants);
        }
        if (violations.isEmpty() && !converged()) {
            violations.add("the replicas did not converge within 60 s of the heal: " + describe());
        }
        if (violations.isEmpty()) {
            checkAcknowledgedWrites();
        }
        if (violations.isEmpty()) {
            // Healed and caught up: the group's coordinator answers again (each answer checked as it comes).
            long answered = committer.fetchesAnswered();
            loop.runUntil(loop.nowMs() + 1_000, this::checkInvariants);
            if (committer.fetchesAnswered() == answered) {
                violations.add("no fetch of the committed offset was answered within 1 s of convergence: " + describe());
            }
        }
        return result();
    }

    private Result result() {
        long powerLosses = 0;
        long filesThatLostWrites = 0;
        long wrongReads = 0;
        for (SimNode node : nodes.values()) {
            wrongReads += node.disk().stats().bitFlips();
            powerLosses += node.disk().stats().powerLosses();
            filesThatLostWrites += node.disk().stats().filesThatLostWrites();
        }
        return new Result(options.seed(), loop.eventsRun(), producer.sent(), producer.acks().size(), producer.retries(),
                producer.duplicatesAnswered(), committer.commitsAcknowledged(),
                committer.fetchesAnswered(), faults, powerLosses, filesThatLostWrites, wrongReads, moves, deletes,
                List.copyOf(violations), List.copyOf(trace));
    }

    // ---- faults -------------------------------------------------------------------------------

    private void scheduleFaults(long until) {
        long at = 300 + random.nextInt(700);
        while (at < until - 500) {
            long start = at;
            loop.after(start - loop.nowMs(), () -> injectFault(until));
            at += 300 + random.nextInt(1_500);
        }
    }

    private void injectFault(long faultsEnd) {
        List<SimNode> up = nodes.values().stream().filter(SimNode::alive).toList();
        SimNode node = nodes.get(1 + random.nextInt(options.nodes()));
        long length = 100 + random.nextInt(3_000);
        length = Math.min(length, Math.max(50, faultsEnd - loop.nowMs()));
        faults++;
        if (options.moves() && random.nextInt(3) == 0) {
            move();
            return;
        }
        if (options.deletes() && random.nextInt(4) == 0) {
            deleteRecords();
            return;
        }
        switch (random.nextInt(options.bitFlips() ? 11 : 9)) {
            case 0 -> {
                if (!node.alive() || up.size() < options.nodes()) {
                    return; // one node down at a time: the fault budget of RF 3 and min.insync.replicas 2
                }
                node.crash();
                loop.after(length, node::start);
            }
            case 6 -> {
                if (!node.alive() || !everyReplicaInSync()) {
                    return; // a power loss while an earlier failure is unrepaired is two failures of the same data
                }
                node.losePower(random);
                loop.after(length, node::start);
            }
            case 7 -> {
                if (!topicConfig.containsKey("flush.messages") || up.size() < options.nodes()) {
                    return; // without an fsync per write, a power loss of every node may lose acknowledged writes by design
                }
                trace("the whole cluster loses power");
                for (SimNode each : nodes.values()) {
                    each.losePower(random);
                    loop.after(length + random.nextInt(500), each::start);
                }
            }
            case 1 -> {
                if (node.alive() && !node.paused()) {
                    node.pause(length);
                }
            }
            case 2 -> {
                trace("isolate node " + node.id() + " for " + length + " ms");
                for (int other = 0; other <= options.nodes(); other++) {
                    if (other != node.id()) {
                        cutFor(node.id(), other, length);
                        cutFor(other, node.id(), length);
                    }
                }
            }
            case 3 -> {
                trace("cut node " + node.id() + " from the controller for " + length + " ms");
                cutFor(node.id(), SimNetwork.CONTROLLER, length);
                cutFor(SimNetwork.CONTROLLER, node.id(), length);
            }
            case 8 -> {
                int other = random.nextInt(options.nodes() + 1); // 0: the controller
                if (other != node.id()) {
                    trace("duplicate messages " + node.id() + "<->" + other + " for " + length + " ms");
                    duplicateFor(node.id(), other, length);
                    duplicateFor(other, node.id(), length);
                }
            }
            case 9 -> {
                // A disk that reads back a wrong bit now and then (the platter is intact): what the
                // node reads to serve, replicate, recover or replay may be wrong, what it wrote is not.
                double chance = 0.0005 + random.nextDouble() * 0.002;
                trace("node " + node.id() + "'s disk flips a bit in " + Math.round(chance * 100_000) / 1000.0 + "% of reads for " + length + " ms");
                node.disk().flipBitsOnRead(chance, new java.util.Random(random.nextLong()));
                loop.after(length, () -> node.disk().flipBitsOnRead(0, null));
            }
            case 10 -> {
                if (!node.alive() || up.size() < options.nodes() || !everyReplicaInSync()) {
                    return; // one damaged replica at a time, while the others hold everything
                }
                if (options.compaction()) {
                    // Open: in a compacted log a base offset moved within a gap compaction left
                    // looks like any other gap, and recovery believes it (5 of 300 seeds failed,
                    // spate-testkit README).
                    return;
                }
                rot(node, length);
            }
            case 4 -> {
                int other = 1 + random.nextInt(options.nodes());
                if (other != node.id()) {
                    trace("drop " + node.id() + "->" + other + " for " + length + " ms");
                    cutFor(node.id(), other, length);
                }
            }
            default -> {
                int other = 1 + random.nextInt(options.nodes());
                if (other != node.id()) {
                    trace("cut " + node.id() + "<->" + other + " for " + length + " ms");
                    cutFor(node.id(), other, length);
                    cutFor(other, node.id(), length);
                }
            }
        }
    }

    /**
     * A bit of one of the node's files changes on the platter (a segment three times in four, else
     * one of the checkpoints it keeps as text), then the node is killed and started again, so that
     * its recovery meets the damage: in a segment below the recovery point it is corruption (the
     * log loads offline; a follower sets it aside and copies again, a leader hands the partition
     * to another in-sync replica first), above it a torn tail that is cut; a checkpoint fails its
     * checksum and is rebuilt or ignored.
     */
    /** The files next to the segments and in the data directory that a node keeps as text. */
    private static final List<String> PARTITION_CHECKPOINTS = List.of("leader-epoch-checkpoint", "partition.metadata");
    private static final List<String> DATA_DIR_CHECKPOINTS = List.of("recovery-point-offset-checkpoint", "log-start-offset-checkpoint",
            "replication-offset-checkpoint");

    /** More than the simulation's last few batches. */
    private static final int LAST_BATCHES_SPARED = 512;

    private void rot(SimNode node, long downMs) {
        try {
            java.nio.file.Path data = node.disk().root().resolve("data");
            List<java.nio.file.Path> partitions;
            try (java.util.stream.Stream<java.nio.file.Path> dirs = java.nio.file.Files.list(data)) {
                partitions = dirs.filter(d -> d.getFileName().toString().startsWith(TOPIC + "-")).sorted().toList();
            }
            if (partitions.isEmpty()) {
                return;
            }
            java.nio.file.Path dir = partitions.get(random.nextInt(partitions.size()));
            List<java.nio.file.Path> candidates;
            int kind = random.nextInt(4);
            if (kind == 0) {
                // The checkpoints of the partition, and one of its producer snapshots (one per
                // segment), so that each kind of file is as likely to rot as before they were many.
                List<java.nio.file.Path> files = new java.util.ArrayList<>(
                        PARTITION_CHECKPOINTS.stream().map(dir::resolve).filter(java.nio.file.Files::exists).toList());
                List<java.nio.file.Path> snapshots;
                try (java.util.stream.Stream<java.nio.file.Path> listed = java.nio.file.Files.list(dir)) {
                    snapshots = listed.filter(f -> f.getFileName().toString().endsWith(".snapshot")).sorted().toList();
                }
                if (!snapshots.isEmpty()) {
                    files.add(snapshots.get(random.nextInt(snapshots.size())));
                }
                candidates = files;
            } else if (kind == 1) {
                candidates = DATA_DIR_CHECKPOINTS.stream().map(data::resolve).filter(java.nio.file.Files::exists).toList();
            } else {
                try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(dir)) {
                    candidates = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
                }
            }
            if (candidates.isEmpty()) {
                return;
            }
            int pick = random.nextInt(candidates.size());
            java.nio.file.Path file = candidates.get(pick);
            // Open: the base offset or epoch of a log's last batch, damaged, is believed (no batch
            // after it gives it away; spate-testkit README). The last segment's tail is spared.
            boolean lastSegment = kind > 1 && pick == candidates.size() - 1;
            long at = node.disk().rot(file, random, lastSegment ? LAST_BATCHES_SPARED : 0);
            if (at < 0) {
                return;
            }
            trace("a bit of " + data.relativize(file) + " at byte " + at + " rots on node " + node.id()
                    + "'s disk; the node is killed and starts again in " + downMs + " ms");
            node.crash();
            loop.after(downMs, node::start);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Moves one replica of a partition of the topic to a node that does not hold it (first in the
     * new list: its preferred leader once in sync). A partition already moving is left alone.
     */
    private void move() {
        int p = random.nextInt(options.partitions());
        PartitionState state = controller.image().partition(TOPIC, p);
        if (state == null || state.reassigning()) {
            return;
        }
        List<Integer> others = new ArrayList<>(nodes.keySet());
        others.removeAll(state.replicas());
        if (others.isEmpty()) {
            return;
        }
        int to = others.get(random.nextInt(others.size()));
        int from = state.replicas().get(random.nextInt(state.replicas().size()));
        List<Integer> target = new ArrayList<>(List.of(to));
        state.replicas().stream().filter(r -> r != from).forEach(target::add);
        var result = controller.commit(new MetadataCommand.ReassignPartition(TOPIC, p, target));
        trace("move " + TOPIC + "-" + p + " from node " + from + " to node " + to + ": " + state.replicas() + " -> " + target + " (" + result + ")");
        if (result.succeeded()) {
            moves++;
        }
    }

    /**
     * DeleteRecords on a partition of the topic, sent to its leader in the controller's image, up
     * to a point near that leader's high watermark (most often within its last 50 records, so that
     * a follower a little behind finds the leader's log start past its own end).
     */
    private void deleteRecords() {
        int p = random.nextInt(options.partitions());
        PartitionState state = controller.image().partition(TOPIC, p);
        if (state == null || !state.hasLeader()) {
            return;
        }
        SimNode leader = nodes.get(state.leader());
        TopicPartition tp = new TopicPartition(TOPIC, p);
        Partition replica = leader.partitions().get(tp);
        if (replica == null) {
            return;
        }
        long start = replica.log().logStartOffset();
        long hw = replica.log().highWatermark();
        if (hw <= start) {
            return;
        }
        long target = hw - random.nextInt((int) Math.min(50, hw - start) + 1);
        deletes++;
        trace("delete records of " + tp + " below " + target + " on node " + leader.id() + " (log start " + start + ", hw " + hw + ")");
        leader.deleteRecordsWhenRunning(tp, target, newStart -> {
            trace("  node " + leader.id() + " " + tp + (newStart < 0 ? ": delete refused" : ": log start now " + newStart));
            if (newStart >= 0) {
                deletedBelow.merge(p, target, Math::max); // only a delete that was done may account for missing records
            }
        });
    }

    /**
     * Every node is up, registered as the process it is now, and in the in-sync set of every
     * partition it replicates: no earlier failure is still being repaired.
     */
    private boolean everyReplicaInSync() {
        ClusterImage image = controller.image();
        for (SimNode n : nodes.values()) {
            var info = image.node(n.id());
            if (!n.alive() || info == null || info.fenced() || info.incarnation() != n.incarnation()) {
                return false;
            }
        }
        TopicState topic = image.topic(TOPIC);
        if (topic == null) {
            return false;
        }
        for (PartitionState s : topic.partitions()) {
            if (s.isr().size() != s.replicas().size()) {
                return false;
            }
        }
        return true;
    }

    private void cutFor(int from, int to, long ms) {
        network.cut(from, to);
        loop.after(ms, () -> network.heal(from, to));
    }

    private void duplicateFor(int from, int to, long ms) {
        network.duplicate(from, to);
        loop.after(ms, () -> network.stopDuplicating(from, to));
    }

    private void heal() {
        trace("heal every fault");
        network.healAll();
        for (SimNode node : nodes.values()) {
            if (!node.alive()) {
                node.start();
            } else {
                node.resume();
            }
        }
    }

    // ---- checks -------------------------------------------------------------------------------

    private void checkInvariants() {
        if (!violations.isEmpty()) {
            return;
        }
        for (SimNode node : nodes.values()) {
            if (!node.alive()) {
                continue;
            }
            for (Partition p : node.partitions().values()) {
                PartitionLog log = p.log();
                String key = node.id() + "/" + node.incarnation() + "/" + p.topicPartition();
                long hw = log.highWatermark();
                Long before = highWatermarks.put(log, hw);
                if (TRACE_HIGH_WATERMARKS && before != null && hw != before) {
                    trace("node " + node.id() + " " + p.topicPartition() + " hw " + before + " -> " + hw + " (" + p.role() + " epoch "
                            + p.leaderEpoch() + " end " + log.logEndOffset() + " isr " + p.isr() + ")");
                }
                if (before != null && hw < before) {
                    violations.add("node " + node.id() + ": the high watermark of " + p.topicPartition() + " went back from " + before + " to " + hw);
                }
                if (hw > log.logEndOffset()) {
                    violations.add("node " + node.id() + ": the high watermark of " + p.topicPartition() + " is past its log end");
                }
                if (log.logStartOffset() > hw) {
                    violations.add("node " + node.id() + ": the log start " + log.logStartOffset() + " of " + p.topicPartition()
                            + " is past its high watermark " + hw);
                }
                Integer epochBefore = epochs.put(key, p.leaderEpoch());
                if (epochBefore != null && p.leaderEpoch() < epochBefore) {
                    violations.add("node " + node.id() + ": the leader epoch of " + p.topicPartition() + " went back from " + epochBefore
                            + " to " + p.leaderEpoch());
                }
                if (p.isLeader()) {
                    Integer other = leaders.putIfAbsent(p.topicPartition() + "@" + p.leaderEpoch(), node.id());
                    if (other != null && other != node.id()) {
                        violations.add(p.topicPartition() + ": nodes " + other + " and " + node.id() + " both led at epoch " + p.leaderEpoch());
                    }
                }
            }
        }
        ClusterImage image = controller.image();
        for (String name : List.of(TOPIC, SimOffsets.TOPIC)) {
            TopicState topic = image.topic(name);
            for (int i = 0; topic != null && i < topic.partitions().size(); i++) {
                PartitionState s = topic.partitions().get(i);
                if (s.hasLeader() && !s.isr().contains(s.leader())) {
                    violations.add(name + "-" + i + ": leader " + s.leader() + " is not in its in-sync set " + s.isr());
                }
            }
        }
    }

    private boolean converged() {
        return converged(TOPIC) && converged(SimOffsets.TOPIC);
    }

    private boolean converged(String name) {
        TopicState topic = controller.image().topic(name);
        if (topic == null) {
            return false;
        }
        for (int i = 0; i < topic.partitions().size(); i++) {
            PartitionState s = topic.partitions().get(i);
            if (!s.hasLeader() || s.isr().size() != s.replicas().size()) {
                return false;
            }
            TopicPartition tp = new TopicPartition(name, i);
            Partition leader = nodes.get(s.leader()).partitions().get(tp);
            if (leader == null || !leader.isLeader() || leader.log().highWatermark() != leader.log().logEndOffset()) {
                return false;
            }
            for (int r : s.replicas()) {
                Partition replica = nodes.get(r).partitions().get(tp);
                if (replica == null || replica.log().logEndOffset() != leader.log().logEndOffset()) {
                    return false;
                }
            }
        }
        return true;
    }

    private String describe() {
        StringBuilder b = new StringBuilder();
        TopicState topic = controller.image().topic(TOPIC);
        for (int i = 0; topic != null && i < topic.partitions().size(); i++) {
            PartitionState s = topic.partitions().get(i);
            b.append("p").append(i).append(" leader ").append(s.leader()).append(" epoch ").append(s.leaderEpoch())
                    .append(" isr ").append(s.isr()).append(" elr ").append(s.elr()).append(";");
            for (SimNode n : nodes.values()) {
                Partition p = n.partitions().get(new TopicPartition(TOPIC, i));
                if (p != null) {
                    b.append(" n").append(n.id()).append(' ').append(p.role()).append(" of ").append(p.leaderId()).append(" at ")
                            .append(p.leaderEpoch()).append(" end ").append(p.log().logEndOffset())
                            .append(" hw ").append(p.log().highWatermark()).append(" image ").append(n.imageVersion())
                            .append(n.holdsLease() ? "" : " no lease");
                }
            }
            b.append(" controller at ").append(controller.image().version()).append(" | ");
        }
        return b.toString();
    }

    private void checkAcknowledgedWrites() {
        TopicState topic = controller.image().topic(TOPIC);
        for (int i = 0; i < topic.partitions().size(); i++) {
            PartitionState s = topic.partitions().get(i);
            TopicPartition tp = new TopicPartition(TOPIC, i);
            PartitionLog leaderReplica = nodes.get(s.leader()).partitions().get(tp).log();
            // Below the newest log start of any replica, replicas may differ in what they still hold.
            long compareFrom = leaderReplica.logStartOffset();
            for (int r : s.replicas()) {
                long replicaStart = nodes.get(r).partitions().get(tp).log().logStartOffset();
                if (!options.deletes() && !options.retention() && replicaStart != leaderReplica.logStartOffset()) {
                    // Nothing moves a log start in these runs: a replica starting elsewhere lost or kept what it should not.
                    violations.add(tp + ": replica " + r + "'s log starts at " + replicaStart + ", the leader's at "
                            + leaderReplica.logStartOffset());
                }
                compareFrom = Math.max(compareFrom, replicaStart);
            }
            Map<Long, String> leaderLog = from(LogValues.read(leaderReplica), compareFrom);
            for (int r : s.replicas()) {
                Map<Long, String> replicaLog = from(LogValues.read(nodes.get(r).partitions().get(tp).log()), compareFrom);
                if (options.compaction()) {
                    compareCompacted(tp, s.leader(), leaderLog, r, replicaLog);
                } else if (!replicaLog.equals(leaderLog)) {
                    violations.add(tp + ": replica " + r + " differs from leader " + s.leader() + " after convergence"
                            + firstDifference(leaderLog, replicaLog));
                }
            }
            Map<Long, String> held = LogValues.read(leaderReplica);
            // Each value is sent by one write, retried until acknowledged: stored once, whatever the faults.
            Map<String, Long> firstAt = new HashMap<>();
            for (Map.Entry<Long, String> record : held.entrySet()) {
                Long earlier = firstAt.putIfAbsent(record.getValue(), record.getKey());
                if (earlier != null) {
                    violations.add(tp + ": write " + record.getValue() + " is in the log twice, at offsets " + earlier + " and " + record.getKey());
                    break;
                }
            }
            Map<String, Long> lastOfKey = options.compaction() ? lastOffsetOfEachKey(held) : Map.of();
            // Records below the highest point a delete asked for, or below the log start retention left, may be gone.
            long deleted = Math.max(deletedBelow.getOrDefault(i, 0L), options.retention() ? leaderReplica.logStartOffset() : 0L);
            for (SimProducer.Ack ack : producer.acks()) {
                if (!ack.partition().equals(tp) || ack.offset() < deleted) {
                    continue;
                }
                String there = held.get(ack.offset());
                if (options.compaction() && there == null && lastOfKey.getOrDefault(SimProducer.keyOf(ack.value()), -1L) > ack.offset()) {
                    continue; // compacted away under a later record of its key
                }
                if (!ack.value().equals(there)) {
                    violations.add(tp + ": write " + ack.value() + " acknowledged at offset " + ack.offset() + " is lost (offset holds "
                            + there + (deleted > 0 ? "; records were deleted below " + deleted : "")
                            + (options.compaction() ? "; the last record of key " + SimProducer.keyOf(ack.value()) + " is at "
                            + lastOfKey.get(SimProducer.keyOf(ack.value())) : "") + ")");
                }
            }
        }
    }

    /**
     * Compacted replicas compact on their own, so each may hold records the other dropped; what
     * both hold must be the same, and so must the latest record of every key.
     */
    private void compareCompacted(TopicPartition tp, int leader, Map<Long, String> leaderLog, int replica, Map<Long, String> replicaLog) {
        for (Map.Entry<Long, String> record : replicaLog.entrySet()) {
            String atLeader = leaderLog.get(record.getKey());
            if (atLeader != null && !atLeader.equals(record.getValue())) {
                violations.add(tp + ": replica " + replica + " holds " + record.getValue() + " at offset " + record.getKey() + ", leader "
                        + leader + " holds " + atLeader);
                return;
            }
        }
        Map<String, Long> leaderLast = lastOffsetOfEachKey(leaderLog);
        Map<String, Long> replicaLast = lastOffsetOfEachKey(replicaLog);
        if (!leaderLast.equals(replicaLast)) {
            violations.add(tp + ": replica " + replica + "'s latest record per key " + new TreeMap<>(replicaLast) + " differs from leader "
                    + leader + "'s " + new TreeMap<>(leaderLast));
        }
    }

    private static Map<String, Long> lastOffsetOfEachKey(Map<Long, String> values) {
        Map<String, Long> last = new HashMap<>();
        values.forEach((offset, value) -> last.merge(SimProducer.keyOf(value), offset, Math::max));
        return last;
    }

    private static Map<Long, String> from(Map<Long, String> values, long offset) {
        Map<Long, String> kept = new java.util.LinkedHashMap<>();
        values.forEach((o, v) -> {
            if (o >= offset) {
                kept.put(o, v);
            }
        });
        return kept;
    }

    private static String firstDifference(Map<Long, String> leader, Map<Long, String> replica) {
        java.util.TreeSet<Long> offsets = new java.util.TreeSet<>(leader.keySet());
        offsets.addAll(replica.keySet());
        for (long offset : offsets) {
            if (!java.util.Objects.equals(leader.get(offset), replica.get(offset))) {
                return " (first at offset " + offset + ": leader " + leader.get(offset) + ", replica " + replica.get(offset) + ")";
            }
        }
        return "";
    }


}
