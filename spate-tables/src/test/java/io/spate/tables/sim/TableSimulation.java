package io.spate.tables.sim;

import io.spate.tables.Cell;
import io.spate.tables.Consistency;
import io.spate.tables.Durability;
import io.spate.tables.Envelope;
import io.spate.tables.HintStore;
import io.spate.tables.HybridLogicalClock;
import io.spate.tables.MemoryTableStore;
import io.spate.tables.Membership;
import io.spate.tables.NodeSettings;
import io.spate.tables.ReadResult;
import io.spate.tables.ReplicaNode;
import io.spate.tables.TableConfig;
import io.spate.tables.TokenRing;
import io.spate.tables.WriteResult;
import io.spate.time.ManualScheduler;
import io.spate.time.Time;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * A seeded simulation of one table on five nodes (N=3), in the manner of spate-testkit's
 * replication simulation: everything on one thread in simulated time (a {@link ManualScheduler},
 * the ordering spate-testkit's {@code EventLoop} wraps; spate-tables does not depend on the testkit),
 * so a seed replays exactly. The real {@link ReplicaNode}s run, each over {@link MemoryTableStore}s
 * whose crash model loses unsynced writes; the network, the membership (the cluster metadata's
 * liveness) and the clocks are models.
 *
 * <p>Faults while the workload runs: power losses and restarts (up to two nodes down at once),
 * isolated nodes and one-way cuts, messages dropped or held back up to 40 ms, clock skew that jumps
 * (backwards too) within ±{@code maxSkewMs}. Workload: clients that each own their keys (a single
 * writer per key), putting, deleting and getting at QUORUM/QUORUM and at ONE/ALL mixes through any
 * live node. Then every fault heals and hints and anti-entropy run.
 *
 * <p>Invariants, each named in a violation:
 * <ol>
 *   <li><b>read-your-acknowledged-writes</b> (checked on every read): a read at R started after a
 *       write at W was acknowledged, with W+R&gt;N, returns that write or a later attempt of the same
 *       writer, and nothing that was never written. Not checked on sloppy-quorum seeds, where a
 *       stand-in's acknowledgement counts toward W (the README says why);</li>
 *   <li><b>monotonic-reads</b> (checked on every read): a read at R2 started after a read at R1
 *       answered, R1+R2&gt;N, returns at least what that one returned (blocking read repair);</li>
 *   <li><b>replicas-converge</b> (at the end): every key's N replicas hold the same cell, a
 *       tombstone and no cell counting as the same (both are "deleted");</li>
 *   <li><b>no-resurrection / nothing-acknowledged-lost</b> (at the end, with tombstones collected
 *       along the run, grace {@code graceMs}): no replica holds a version older than the key's last
 *       acknowledged write, so no value deleted by an acknowledged delete is back.</li>
 * </ol>
 */
public final class TableSimulation {
    static final String TABLE = "t";
    static final int NODES = 5;
    static final int N = 3;

    /** What one run may vary. */
    /**
     * @param graceMs the table's tombstone grace. Short, so that tombstones are collected while
     *                faults still happen (the no-resurrection check needs that), but longer than
     *                a replica's usual time out of reach: every replica must hear of a delete
     *                within the grace, and the long schedule's dense faults sometimes keep the one
     *                holder of a delete acknowledged at ONE away for 3 s.
     */
    public record Options(long faultyMs, long settleMs, int clients, int keysPerClient, long maxSkewMs, long graceMs) {
        public static Options ci() {
            return new Options(5_000, 6_000, 5, 20, 150, 3_000);
        }

        public static Options longRun() {
            return new Options(20_000, 8_000, 8, 30, 200, 5_000);
        }
    }

    /** The outcome of one seed. */
    public record Result(long seed, List<String> violations, String summary, long fingerprint) {
        public boolean ok() {
            return violations.isEmpty();
        }
    }

    private final long seed;
    private final Options options;
    private final Random random;
    private final ManualScheduler scheduler = new ManualScheduler();
    private final TableConfig table;
    private final NodeSettings settings;
    private final List<SimNode> nodes = new ArrayList<>();
    private final Set<Long> cuts = new HashSet<>();
    private final List<String> violations = new ArrayList<>();
    private final Map<String, KeyHistory> histories = new LinkedHashMap<>();
    private long membershipEpoch;
    private boolean faulty = true;
    private boolean clientsRunning = true;
    private final long graceMs;
    private long opsAcked;
    private long opsFailed;
    private long readsChecked;
    private long powerLosses;
    private long unsyncedLost;

    private final class SimNode implements Time {
        final String id;
        final MemoryTableStore store;
        final MemoryTableStore hintBacking;
        ReplicaNode node;
        long skewMs;
        long incarnation;
        boolean up;

        SimNode(String id) {
            this.id = id;
            this.store = new MemoryTableStore(table.durability(), scheduler);
            this.hintBacking = new MemoryTableStore(table.durability(), scheduler);
        }

        @Override
        public long millis() {
            return scheduler.millis() + skewMs;
        }

        @Override
        public long nanos() {
            return scheduler.nanos();
        }

        void start() {
            HintStore hints = new HintStore(hintBacking, this, 1_000, graceMs - 1_000, 10 * graceMs);
            node = new ReplicaNode(id, ++incarnation, scheduler, this, (to, env) -> deliver(this, to, env), hints, settings);
            node.addTable(table, store);
            node.onMembership(membership());
            node.start();
            up = true;
        }

        void powerLoss() {
            node.stop();
            node = null;
            up = false;
            powerLosses++;
            unsyncedLost += store.crash(random) + hintBacking.crash(random);
        }
    }

    /** Every attempt at writing one key, in the order its single writer made them (versions increase). */
    private static final class KeyHistory {
        final List<Attempt> attempts = new ArrayList<>();
        final List<ReadSeen> reads = new ArrayList<>();
        long notBeforeMs;
        long lastSeenVersion;
    }

    /** A read that answered: when, at which R, what. */
    private record ReadSeen(long completedNanos, Consistency r, Cell cell) {
    }

    /** A write as its client knows it: the version is 0 until an answer tells it (never, when the coordinator died). */
    private static final class Attempt {
        final boolean tombstone;
        final byte[] value;
        final Consistency w;
        long version;
        long ackedAtNanos = -1;

        Attempt(boolean tombstone, byte[] value, Consistency w) {
            this.tombstone = tombstone;
            this.value = value;
            this.w = w;
        }

        long version() {
            return version;
        }
    }

    public TableSimulation(long seed, Options options) {
        this.seed = seed;
        this.options = options;
        this.random = new Random(seed);
        this.graceMs = options.graceMs();
        Durability durability = seed % 2 == 0 ? Durability.SYNC_EACH : Durability.batched(1 + random.nextInt(5));
        this.table = new TableConfig(TABLE, N, Consistency.QUORUM, Consistency.QUORUM, durability, graceMs, seed % 4 == 3);
        // Periods compressed to the simulation's scale: a request times out in 300 ms, anti-entropy starts a session every 10 ms.
        this.settings = new NodeSettings(8, 300, 10_000, 100, 50, 10, 6, 200, 500, 60_000);
        for (int i = 1; i <= NODES; i++) {
            nodes.add(new SimNode("n" + i));
        }
    }

    public static Result run(long seed, Options options) {
        return new TableSimulation(seed, options).run();
    }

    private Membership membership() {
        SortedIds members = new SortedIds();
        Set<String> live = new HashSet<>();
        for (SimNode n : nodes) {
            members.add(n.id);
            if (n.up) {
                live.add(n.id);
            }
        }
        return new Membership(membershipEpoch, members, live);
    }

    private static final class SortedIds extends TreeSet<String> {
    }

    /** The metadata's view moves after a detection delay, as a session timeout would; every live node hears it. */
    private void publishMembership(long delayMs) {
        scheduler.schedule(delayMs, () -> {
            membershipEpoch++;
            Membership m = membership();
            for (SimNode n : nodes) {
                if (n.up) {
                    n.node.onMembership(m);
                }
            }
        });
    }

    private static long link(int from, int to) {
        return (long) from << 32 | to;
    }

    private int index(String id) {
        return Integer.parseInt(id.substring(1)) - 1;
    }

    private void deliver(SimNode sender, String to, Envelope envelope) {
        if (!sender.up) {
            return;
        }
        int from = index(sender.id);
        int target = index(to);
        if (cuts.contains(link(from, target)) || faulty && random.nextInt(100) == 0) {
            return; // cut, or dropped
        }
        long delayMs = random.nextInt(15) == 0 ? 5 + random.nextInt(35) : 1 + random.nextInt(2);
        scheduler.schedule(delayMs, () -> {
            SimNode receiver = nodes.get(target);
            // A message still on the wire when its sender died arrives all the same, and one for the
            // receiver's previous run reaches its new one: request ids must tell them apart.
            if (receiver.up) {
                receiver.node.receive(envelope);
            }
        });
    }

    public Result run() {
        nodes.forEach(SimNode::start);
        publishMembership(0);
        for (int c = 0; c < options.clients(); c++) {
            int client = c;
            scheduler.schedule(random.nextInt(20), () -> clientStep(client));
        }
        scheduleFaults();
        scheduler.advance(options.faultyMs());
        heal();
        scheduler.advance(1_000);
        clientsRunning = false; // the last operations finish, then only repair runs
        scheduler.advance(options.settleMs());
        checkConvergence();
        return new Result(seed, List.copyOf(violations), summary(), fingerprint());
    }

    private void scheduleFaults() {
        long at = 200;
        while (at < options.faultyMs()) {
            long when = at;
            scheduler.schedule(when, this::injectFault);
            at += 100 + random.nextInt(400);
        }
    }

    private void injectFault() {
        if (!faulty) {
            return;
        }
        int which = random.nextInt(10);
        SimNode n = nodes.get(random.nextInt(NODES));
        if (which < 3) {
            long down = nodes.stream().filter(x -> !x.up).count();
            if (n.up && down < 2) {
                n.powerLoss();
                trace("power loss " + n.id);
                publishMembership(100 + random.nextInt(200));
                // Down for less than the tombstone grace minus a hand-off and an anti-entropy round:
                // an operator's duty (a node down longer must be rebuilt, as in Cassandra).
                scheduler.schedule(300 + random.nextInt(900), () -> {
                    if (!n.up) {
                        n.start();
                        trace("restart " + n.id);
                        publishMembership(50 + random.nextInt(100));
                    }
                });
            }
        } else if (which < 5) {
            int i = index(n.id);
            List<Long> cut = new ArrayList<>();
            for (int j = 0; j < NODES; j++) {
                if (j != i) {
                    cut.add(link(i, j));
                    cut.add(link(j, i));
                }
            }
            cutFor(cut, 200 + random.nextInt(1000));
        } else if (which < 7) {
            int i = index(n.id);
            int j = (i + 1 + random.nextInt(NODES - 1)) % NODES;
            cutFor(List.of(link(i, j)), 100 + random.nextInt(800));
        } else {
            n.skewMs = random.nextLong(-options.maxSkewMs(), options.maxSkewMs() + 1);
        }
    }

    private static final boolean TRACE = System.getProperty("spate.tables.trace") != null;

    private void trace(String what) {
        if (TRACE) {
            System.out.println(scheduler.millis() + " " + what);
        }
    }

    private void cutFor(List<Long> links, long ms) {
        trace("cut " + links.stream().map(l -> "n" + ((l >> 32) + 1) + ">n" + ((int) (long) l + 1)).toList() + " for " + ms);
        cuts.addAll(links);
        scheduler.schedule(ms, () -> links.forEach(cuts::remove));
    }

    private void heal() {
        faulty = false;
        cuts.clear();
        for (SimNode n : nodes) {
            if (!n.up) {
                n.start();
            }
        }
        publishMembership(50);
    }

    // ---- the workload ----

    private String keyOf(int client, int k) {
        return "c" + client + "-k" + k;
    }

    private void clientStep(int client) {
        if (!clientsRunning) {
            return;
        }
        int k = random.nextInt(options.keysPerClient());
        String key = keyOf(client, k);
        KeyHistory h = histories.computeIfAbsent(key, x -> new KeyHistory());
        List<SimNode> live = nodes.stream().filter(n -> n.up).toList();
        if (h.notBeforeMs > scheduler.millis() || live.isEmpty()) {
            scheduler.schedule(5, () -> clientStep(client));
            return;
        }
        SimNode coordinator = live.get(random.nextInt(live.size()));
        h.notBeforeMs = Long.MAX_VALUE; // one operation at a time per key: its single writer waits
        long[] opId = {0};
        Runnable next = () -> scheduler.schedule(1 + random.nextInt(10), () -> clientStep(client));
        // A coordinator that dies leaves the client without an answer: it gives up after 2 request timeouts.
        // Its next write on the key is then later than any timestamp the lost one can carry: the
        // client waited more than twice the largest skew.
        int op = random.nextInt(20);
        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        if (op < 12) {
            boolean delete = op >= 9;
            Consistency w = pick(new Consistency[]{Consistency.QUORUM, Consistency.QUORUM, Consistency.ALL, Consistency.ONE});
            byte[] value = delete ? null : (key + "#" + h.attempts.size()).getBytes(StandardCharsets.UTF_8);
            Attempt attempt = new Attempt(delete, value, w);
            h.attempts.add(attempt); // before it is sent: a value read back may be of a write whose answer never came
            boolean[] done = {false};
            scheduler.schedule(2 * settings.requestTimeoutMs(), () -> {
                if (!done[0]) {
                    done[0] = true;
                    opsFailed++;
                    h.notBeforeMs = scheduler.millis();
                    next.run();
                }
            });
            java.util.function.Consumer<WriteResult> onResult = r -> {
                if (done[0]) {
                    return;
                }
                done[0] = true;
                if (r.version() != 0) {
                    attempt.version = r.version();
                    attempt.ackedAtNanos = r.ok() ? scheduler.nanos() : -1;
                    h.lastSeenVersion = Math.max(h.lastSeenVersion, r.version());
                }
                if (System.getProperty("spate.tables.trace", "-").equals(key)) {
                    System.out.println(scheduler.millis() + " " + (delete ? "delete" : "put") + " " + key + " at " + w
                            + " via " + coordinator.id + ": " + r + " " + HybridLogicalClock.physicalMs(r.version()));
                }
                if (r.ok()) {
                    opsAcked++;
                } else {
                    opsFailed++;
                }
                h.notBeforeMs = scheduler.millis();
                next.run();
            };
            if (delete) {
                coordinator.node.delete(TABLE, keyBytes, w, h.lastSeenVersion, onResult);
            } else {
                coordinator.node.put(TABLE, keyBytes, value, w, h.lastSeenVersion, onResult);
            }
        } else {
            Consistency r = pick(new Consistency[]{Consistency.QUORUM, Consistency.QUORUM, Consistency.ONE, Consistency.ALL});
            long startNanos = scheduler.nanos();
            boolean[] done = {false};
            scheduler.schedule(2 * settings.requestTimeoutMs(), () -> {
                if (!done[0]) {
                    done[0] = true;
                    h.notBeforeMs = scheduler.millis();
                    next.run();
                }
            });
            coordinator.node.get(TABLE, keyBytes, r, result -> {
                if (done[0]) {
                    return;
                }
                done[0] = true;
                if (result.ok()) {
                    checkRead(key, h, r, startNanos, result, coordinator.id);
                    checkMonotonic(key, h, r, startNanos, result, coordinator.id);
                    h.reads.add(new ReadSeen(scheduler.nanos(), r, result.cell()));
                    if (h.reads.size() > 8) {
                        h.reads.remove(0);
                    }
                    h.lastSeenVersion = Math.max(h.lastSeenVersion, result.version());
                }
                h.notBeforeMs = scheduler.millis();
                next.run();
            });
        }
    }

    private Consistency pick(Consistency[] choices) {
        return choices[random.nextInt(choices.length)];
    }

    private void violation(String invariant, String detail) {
        violations.add(String.format("%s at %d ms: %s", invariant, scheduler.millis(), detail));
    }

    private void checkRead(String key, KeyHistory h, Consistency r, long startNanos, ReadResult result, String via) {
        readsChecked++;
        Cell cell = result.cell();
        if (cell != null && h.attempts.stream().noneMatch(a -> matches(a, cell))) {
            violation("read-your-acknowledged-writes", key + " read " + cell + " via " + via + ", never written");
            return;
        }
        if (table.sloppyQuorum()) {
            return;
        }
        Attempt required = null;
        for (Attempt a : h.attempts) {
            if (a.ackedAtNanos >= 0 && a.ackedAtNanos < startNanos && a.w.required(N) + r.required(N) > N) {
                required = a; // attempts are in version order: the last such is the one to see
            }
        }
        if (required == null) {
            return;
        }
        long got = cell == null ? 0 : cell.hlc();
        // Nothing is a right answer when the write to see is a delete, or a later delete (acknowledged
        // or not) may have been applied: its tombstone may already be collected.
        int from = h.attempts.indexOf(required);
        boolean goneAndDeleted = cell == null && h.attempts.subList(from, h.attempts.size()).stream().anyMatch(a -> a.tombstone);
        if (got < required.version && !goneAndDeleted) {
            violation("read-your-acknowledged-writes", key + " read at " + r + " via " + via + " returned "
                    + (cell == null ? "nothing" : cell) + ", older than " + (required.tombstone ? "the delete" : "the write")
                    + " acknowledged at " + required.w + " @" + HybridLogicalClock.physicalMs(required.version)
                    + "; replicas now: " + replicaStates(key));
        }
    }

    /** Values are unique per attempt; a tombstone of unknown version may be any delete whose answer never came. */
    /**
     * Monotonic reads: a read at R2 started after a read at R1 answered, R1+R2&gt;N, returns at
     * least what that read returned, even if it was a write never acknowledged. Blocking read repair
     * is what gives it (the earlier read wrote its answer to the replicas it consulted).
     */
    private void checkMonotonic(String key, KeyHistory h, Consistency r, long startNanos, ReadResult result, String via) {
        Cell cell = result.cell();
        for (ReadSeen seen : h.reads) {
            if (seen.completedNanos >= startNanos || seen.r.required(N) + r.required(N) <= N || seen.cell == null) {
                continue;
            }
            long got = cell == null ? 0 : cell.hlc();
            boolean collected = cell == null && (seen.cell.tombstone() || h.attempts.stream()
                    .anyMatch(a -> a.tombstone && (a.version == 0 || a.version > seen.cell.hlc())));
            if (got < seen.cell.hlc() && !collected) {
                violation("monotonic-reads", key + " read at " + r + " via " + via + " returned "
                        + (cell == null ? "nothing" : cell) + ", older than " + seen.cell + " read before at " + seen.r
                        + "; replicas now: " + replicaStates(key));
                return;
            }
        }
    }

    private String replicaStates(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        TokenRing ring = TokenRing.of(nodes.stream().map(n -> n.id).toList(), settings.vnodes());
        StringBuilder out = new StringBuilder();
        for (String id : ring.preferenceList(TokenRing.token(k), N)) {
            SimNode n = nodes.get(index(id));
            out.append(id).append(n.up ? "" : "(down)").append('=').append(n.store.get(k)).append(' ');
        }
        return out.toString().trim();
    }

    private static boolean matches(Attempt a, Cell c) {
        boolean sameVersion = a.version == c.hlc() || a.version == 0;
        return sameVersion && a.tombstone == c.tombstone() && (a.tombstone || java.util.Arrays.equals(a.value, c.value()));
    }

    // ---- the end state ----

    private void checkConvergence() {
        TokenRing ring = TokenRing.of(nodes.stream().map(n -> n.id).toList(), settings.vnodes());
        for (Map.Entry<String, KeyHistory> e : histories.entrySet()) {
            byte[] key = e.getKey().getBytes(StandardCharsets.UTF_8);
            List<String> replicas = ring.preferenceList(TokenRing.token(key), N);
            Cell first = null;
            String firstNode = null;
            long lastAcked = e.getValue().attempts.stream().filter(a -> a.ackedAtNanos >= 0)
                    .mapToLong(Attempt::version).max().orElse(0);
            for (String replica : replicas) {
                Cell c = nodes.get(index(replica)).store.get(key);
                Cell effective = c == null || c.tombstone() ? null : c;
                if (firstNode == null) {
                    first = effective;
                    firstNode = replica;
                } else if (!java.util.Objects.equals(first, effective)) {
                    violation("replicas-converge", e.getKey() + ": " + firstNode + " holds " + first + ", " + replica
                            + " holds " + effective);
                }
                if (effective != null && effective.hlc() < lastAcked) {
                    violation("no-resurrection", e.getKey() + ": " + replica + " holds " + effective
                            + ", older than the last acknowledged write @" + HybridLogicalClock.physicalMs(lastAcked));
                } else if (c == null && lastAcked != 0 && !lastAckedIsDelete(e.getValue(), lastAcked)) {
                    violation("nothing-acknowledged-lost", e.getKey() + ": " + replica + " holds nothing; a write was acknowledged @"
                            + HybridLogicalClock.physicalMs(lastAcked));
                }
            }
        }
    }

    /** Whether the last acknowledged write or any later attempt (answered or not) is a delete. */
    private static boolean lastAckedIsDelete(KeyHistory h, long version) {
        for (int i = 0; i < h.attempts.size(); i++) {
            if (h.attempts.get(i).version == version) {
                return h.attempts.subList(i, h.attempts.size()).stream().anyMatch(a -> a.tombstone);
            }
        }
        return false;
    }

    private String summary() {
        long purged = 0;
        long repaired = 0;
        long aeKeys = 0;
        long hintsDelivered = 0;
        for (SimNode n : nodes) {
            purged += n.node.metrics().tombstonesPurged();
            repaired += n.node.metrics().keysReadRepaired();
            aeKeys += n.node.metrics().keysPushedByAntiEntropy() + n.node.metrics().keysPulledByAntiEntropy();
            hintsDelivered += n.node.hints().deliveredCount();
        }
        return String.format("seed %d (%s%s): %d ops acknowledged, %d failed, %d reads checked, %d power losses"
                        + " (%d unsynced changes lost), read repairs of the last run %d keys, anti-entropy %d keys,"
                        + " hints delivered %d, tombstones collected %d, %d events",
                seed, table.durability(), table.sloppyQuorum() ? ", sloppy quorum" : "", opsAcked, opsFailed, readsChecked,
                powerLosses, unsyncedLost, repaired, aeKeys, hintsDelivered, purged, scheduler.tasksRun());
    }

    /** A digest of the final data and the run's length: equal for two runs of one seed. */
    private long fingerprint() {
        long[] h = {scheduler.tasksRun()};
        for (SimNode n : nodes) {
            n.store.scanAll((k, c) -> h[0] = h[0] * 31 + java.util.Arrays.hashCode(k) * 17L + c.hashCode());
        }
        return h[0];
    }
}
