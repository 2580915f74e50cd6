package io.spate.chaos.fault;

import io.spate.chaos.RunClock;
import io.spate.chaos.cluster.ChaosCluster;
import io.spate.chaos.cluster.CpuThrottle;
import io.spate.chaos.cluster.NodeProcess;
import io.spate.chaos.history.NodeFault;
import io.spate.chaos.history.NodeFault.Cut;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Carries out a schedule against a cluster: each fault on a thread of its own, begun at its
 * planned offset, held, then healed; {@link #healAll()} cuts every hold short. Each fault is
 * recorded with the time it began and the time it was healed (for a killed node: when it serves
 * again). A node-level fault whose target is still busy (a restart that ran long) is skipped and
 * said so, never stacked.
 */
public final class FaultInjector {
    private final ChaosCluster cluster;
    private final RunClock clock;
    private final long sessionTimeoutMs;
    private final List<NodeFault> done = new CopyOnWriteArrayList<>();
    private final List<String> skipped = new CopyOnWriteArrayList<>();
    private final Set<Integer> busy = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = Collections.synchronizedList(new ArrayList<>());
    private final Object healSignal = new Object();
    private volatile boolean healing;
    private Thread scheduler;

    public FaultInjector(ChaosCluster cluster, RunClock clock, long sessionTimeoutMs) {
        this.cluster = cluster;
        this.clock = clock;
        this.sessionTimeoutMs = sessionTimeoutMs;
    }

    /** Starts injecting {@code plan}, offsets counted from {@code originUs} on the run clock. */
    public void start(List<PlannedFault> plan, long originUs) {
        scheduler = Thread.ofPlatform().name("fault-schedule").start(() -> {
            for (PlannedFault fault : plan) {
                long waitMs = (originUs / 1_000 + fault.atMs()) - clock.nowUs() / 1_000;
                if (waitMs > 0 && !holdOrHeal(waitMs)) {
                    return;
                }
                if (healing) {
                    return;
                }
                if (fault.kind().nodeLevel() && !busy.add(fault.targets().get(0))) {
                    skip(fault, "node " + fault.targets().get(0) + " is still recovering from an earlier fault");
                    continue;
                }
                Thread t = Thread.ofPlatform().name("fault-" + fault.index()).start(() -> run(fault));
                threads.add(t);
            }
        });
    }

    private void skip(PlannedFault fault, String why) {
        skipped.add(fault.describe() + ": skipped, " + why);
        cluster.log("fault " + fault.describe() + ": skipped, " + why);
    }

    /** Sleeps {@code ms} unless healing starts; returns false if it did. */
    private boolean holdOrHeal(long ms) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        synchronized (healSignal) {
            while (!healing) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return true;
                }
                try {
                    healSignal.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return false;
    }

    private void run(PlannedFault fault) {
        long start = clock.nowUs();
        List<Integer> down = List.of();
        List<Cut> cuts = List.of();
        String outcome = "";
        mark("begin " + fault.describe());
        cluster.log("fault " + fault.describe());
        try {
            switch (fault.kind()) {
                case KILL -> {
                    down = fault.targets();
                    NodeProcess node = node(fault);
                    node.kill9();
                    holdOrHeal(fault.holdMs());
                    node.start(ChaosCluster.START_TIMEOUT_MS);
                }
                case TERM -> {
                    down = fault.targets();
                    NodeProcess node = node(fault);
                    int exit = node.terminate(30_000);
                    outcome = "exit " + exit;
                    holdOrHeal(fault.holdMs());
                    node.start(ChaosCluster.START_TIMEOUT_MS);
                }
                case PAUSE -> {
                    down = fault.targets();
                    NodeProcess node = node(fault);
                    node.signal("STOP");
                    try {
                        holdOrHeal(fault.holdMs());
                    } finally {
                        node.signal("CONT");
                    }
                }
                case CPU_STARVE -> {
                    down = fault.targets();
                    starve(fault);
                }
                case DISK_FULL -> {
                    down = fault.targets();
                    outcome = fillDisk(fault);
                }
                case ISOLATE, SPLIT -> {
                    cuts = splitCuts(fault.targets());
                    cutFor(cuts, fault.holdMs());
                }
                case ONE_WAY -> {
                    cuts = List.of(new Cut(fault.targets().get(0), fault.targets().get(1)));
                    cutFor(cuts, fault.holdMs());
                }
            }
        } catch (Exception e) {
            outcome = "failed: " + e.getMessage();
            cluster.log("fault " + fault.describe() + " " + outcome);
        } finally {
            if (fault.kind().nodeLevel()) {
                busy.remove(fault.targets().get(0));
            }
        }
        long end = clock.nowUs();
        mark("end " + fault.describe() + (outcome.isEmpty() ? "" : " (" + outcome + ")"));
        done.add(new NodeFault(fault.kind().label(), fault.describe() + (outcome.isEmpty() ? "" : " (" + outcome + ")"),
                down, cuts, start, end));
    }

    private NodeProcess node(PlannedFault fault) {
        return cluster.node(fault.targets().get(0));
    }

    private List<Cut> splitCuts(List<Integer> side) {
        List<Cut> cuts = new ArrayList<>();
        for (int a : side) {
            for (int b : cluster.ids()) {
                if (!side.contains(b)) {
                    cuts.add(new Cut(a, b));
                    cuts.add(new Cut(b, a));
                }
            }
        }
        return cuts;
    }

    private void cutFor(List<Cut> cuts, long holdMs) {
        try {
            for (Cut c : cuts) {
                cluster.network().cut(c.from(), c.to());
            }
            holdOrHeal(holdMs);
        } finally {
            for (Cut c : cuts) {
                cluster.network().heal(c.from(), c.to());
            }
        }
    }

    private void starve(PlannedFault fault) throws Exception {
        NodeProcess node = node(fault);
        CpuThrottle throttle = cluster.throttle(node.id());
        long pid = node.pid();
        if (throttle != null) {
            throttle.starve(pid, 3);
            try {
                holdOrHeal(fault.holdMs());
            } finally {
                throttle.release(pid);
            }
            return;
        }
        // No cgroup: stopped 90 ms of every 100 ms comes close to a 10% share.
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(fault.holdMs());
        while (!healing && System.nanoTime() < deadline) {
            node.signal("STOP");
            try {
                Thread.sleep(90);
            } finally {
                node.signal("CONT");
            }
            Thread.sleep(10);
        }
    }

    /** Fills the disk, holds, frees it; restarts the node if it took itself out meanwhile. */
    private String fillDisk(PlannedFault fault) throws Exception {
        NodeProcess node = node(fault);
        var disk = cluster.disk(node.id());
        disk.fill();
        try {
            holdOrHeal(fault.holdMs());
        } finally {
            disk.free();
        }
        if (!node.isAlive()) {
            node.start(ChaosCluster.START_TIMEOUT_MS);
            return "the node had exited; restarted";
        }
        // A node whose data directory went offline stops heartbeating and is fenced; as an
        // operator would, restart it once the disk has room again.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && !healing) {
            try {
                if (cluster.liveNodes().contains(node.id())) {
                    return "";
                }
            } catch (Exception ignored) {
                // ask again
            }
            Thread.sleep(200);
        }
        node.terminate(30_000);
        node.start(ChaosCluster.START_TIMEOUT_MS);
        return "node fenced after the disk filled; restarted";
    }

    private void mark(String what) {
        for (int id : cluster.ids()) {
            cluster.node(id).mark(what);
        }
    }

    /**
     * Ends every fault now (resumes, heals links, frees disks, restarts nodes) and returns once no
     * fault is active and every node process runs.
     */
    public void healAll() throws Exception {
        healing = true;
        synchronized (healSignal) {
            healSignal.notifyAll();
        }
        if (scheduler != null) {
            scheduler.join(30_000);
        }
        for (Thread t : List.copyOf(threads)) {
            t.join(ChaosCluster.START_TIMEOUT_MS + 30_000);
        }
        for (int id : cluster.ids()) {
            NodeProcess node = cluster.node(id);
            if (!node.isAlive()) {
                cluster.log("heal: node " + id + " was not running; starting it");
                node.start(ChaosCluster.START_TIMEOUT_MS);
            }
        }
    }

    public List<NodeFault> faults() {
        List<NodeFault> sorted = new ArrayList<>(done);
        sorted.sort(java.util.Comparator.comparingLong(NodeFault::startUs));
        return sorted;
    }

    public List<String> skipped() {
        return List.copyOf(skipped);
    }
}
