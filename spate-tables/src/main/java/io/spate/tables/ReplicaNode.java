package io.spate.tables;

import io.spate.time.Scheduler;
import io.spate.time.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * One node's side of the tables: it is a replica (stores cells, answers reads, stands in for down
 * replicas with hints, answers anti-entropy) and a coordinator (any node takes any request: there
 * is no leader). Everything runs on one event thread, the {@link Scheduler}'s: messages from
 * {@link #receive}, requests from clients, timeouts and periodic work (hint delivery,
 * anti-entropy, tombstone collection). That single thread is why none of the parts lock, and
 * why the simulation can drive the very same code.
 *
 * <p>The seams for the next slice: a {@link Transport} for messages between nodes, a
 * {@link Membership} from the cluster metadata ({@link #onMembership}), the tables' settings and
 * stores from the node's configuration ({@link #addTable}).
 */
public final class ReplicaNode {
    private static final Logger log = LoggerFactory.getLogger(ReplicaNode.class);

    record Table(TableConfig config, TableStore store) {
    }

    final String id;
    final Scheduler scheduler;
    final Time clock;
    final HybridLogicalClock hlc;
    final NodeSettings settings;
    /** Which run of the process this is (the next slice: the broker epoch of its registration): request ids start from it, so a late answer to the previous run's request never matches one of this run's. */
    final long incarnation;
    final HintStore hints;
    final TableMetrics metrics = new TableMetrics();
    private final Transport transport;
    final Map<String, Table> tables = new HashMap<>();
    private final RequestCoordinator coordinator;
    private final HintDelivery hintDelivery;
    private final AntiEntropy antiEntropy;
    /** The next run of each periodic duty: hint delivery, anti-entropy, tombstone collection. */
    private final Scheduler.Timer[] periodic = new Scheduler.Timer[3];
    private Membership membership = new Membership(0, new TreeSet<>(), Set.of());
    private TokenRing ring = TokenRing.of(List.of(), 1);
    private boolean running;

    /**
     * @param clock     this node's wall clock (skewed in the simulation); timestamps come from it
     * @param scheduler the event thread's timers
     * @param incarnation larger with every start of the node's process
     */
    public ReplicaNode(String id, long incarnation, Scheduler scheduler, Time clock, Transport transport, HintStore hints,
                       NodeSettings settings) {
        if (incarnation < 0 || incarnation >= 1L << 30) {
            throw new IllegalArgumentException("incarnation " + incarnation);
        }
        this.id = id;
        this.incarnation = incarnation;
        this.scheduler = scheduler;
        this.clock = clock;
        this.transport = transport;
        this.hints = hints;
        this.settings = settings;
        this.hlc = new HybridLogicalClock(clock, settings.maxClockForwardMs());
        seedClock("hint", hints.maxHlc());
        this.coordinator = new RequestCoordinator(this);
        this.hintDelivery = new HintDelivery(this);
        this.antiEntropy = new AntiEntropy(this);
    }

    public void addTable(TableConfig config, TableStore store) {
        if (tables.putIfAbsent(config.name(), new Table(config, store)) != null) {
            throw new IllegalArgumentException("table " + config.name() + " already added");
        }
        seedClock("table '" + config.name() + "'", store.maxHlc()); // before any write of the table is coordinated here
        antiEntropy.ringChanged(); // the new table's ranges join the rounds
    }

    /**
     * Starts the clock above what a store holds (its timestamps the previous run issued or took
     * in), however far ahead that is: see {@link HybridLogicalClock#seed}. Far ahead means this
     * node's clock stepped back, or a node with a clock far ahead wrote here; either way the
     * writes coordinated here must still order after what the store holds.
     */
    private void seedClock(String store, long stored) {
        long aheadMs = HybridLogicalClock.physicalMs(stored) - clock.millis();
        if (aheadMs > settings.maxClockForwardMs()) {
            log.warn("tables: node {}: the {} store holds timestamps {} ms ahead of this node's clock (its clock stepped back, or a node's "
                    + "clock ran ahead); this node's timestamps start after them", id, store, aheadMs);
        }
        hlc.seed(stored);
    }

    /** Starts the periodic work. */
    public void start() {
        running = true;
        every(0, "hint delivery", settings.hintIntervalMs(), hintDelivery::tick);
        every(1, "anti-entropy", settings.antiEntropyIntervalMs(), antiEntropy::tick);
        every(2, "tombstone collection", settings.gcIntervalMs(), this::collectTombstones);
    }

    /** Stops everything: pending requests are never answered (as when the process dies), timers are cancelled. */
    public void stop() {
        running = false;
        for (int i = 0; i < periodic.length; i++) {
            if (periodic[i] != null) {
                periodic[i].cancel();
                periodic[i] = null;
            }
        }
        coordinator.abandonAll();
    }

    /**
     * Runs {@code action} every period. A run that throws (a full disk under the hint store, a
     * store's I/O error) is logged and the duty runs again at its next period: a transient
     * failure must not stop hint delivery or tombstone collection for the rest of the process.
     */
    private void every(int slot, String duty, long periodMs, Runnable action) {
        Runnable[] self = new Runnable[1];
        self[0] = () -> {
            if (!running) {
                return;
            }
            try {
                action.run();
            } catch (RuntimeException e) {
                log.error("tables: node {}: {} failed, next try in {} ms: {}", id, duty, periodMs, e.toString(), e);
            } finally {
                if (running) {
                    periodic[slot] = scheduler.schedule(periodMs, self[0]);
                }
            }
        };
        periodic[slot] = scheduler.schedule(periodMs, self[0]);
    }

    /** A new view of the cluster; an older one (by epoch) than the one held is ignored. */
    public void onMembership(Membership next) {
        if (next.epoch() < membership.epoch()) {
            return;
        }
        if (!next.members().equals(membership.members())) {
            ring = TokenRing.of(next.members(), settings.vnodes());
            antiEntropy.ringChanged();
        }
        membership = next;
    }

    Membership membership() {
        return membership;
    }

    TokenRing ring() {
        return ring;
    }

    boolean running() {
        return running;
    }

    public String id() {
        return id;
    }


    public TableMetrics metrics() {
        return metrics;
    }

    public HintStore hints() {
        return hints;
    }

    public HybridLogicalClock clock() {
        return hlc;
    }

    /** Writes {@code value} at consistency {@code w}; {@code after} is the last version the client saw (0 if none). */
    public void put(String table, byte[] key, byte[] value, Consistency w, long after, Consumer<WriteResult> done) {
        coordinator.write(table, key, false, value, w, after, done);
    }

    /** Deletes the key: a tombstone, written like a value. */
    public void delete(String table, byte[] key, Consistency w, long after, Consumer<WriteResult> done) {
        coordinator.write(table, key, true, null, w, after, done);
    }

    public void get(String table, byte[] key, Consistency r, Consumer<ReadResult> done) {
        coordinator.read(table, key, r, done);
    }

    /** The first id of this run's requests of one kind: the incarnation in the high bits. */
    long firstId() {
        return (incarnation << 32) + 1;
    }

    void send(String to, TableMessage message) {
        Envelope envelope = new Envelope(id, hlc.current(), message);
        if (to.equals(id)) {
            scheduler.schedule(0, () -> receive(envelope)); // to itself: through the queue as well, never reentrant
        } else {
            transport.send(to, envelope);
        }
    }

    /** A message from another node (or this one), on the event thread. */
    public void receive(Envelope envelope) {
        if (!running) {
            return;
        }
        hlc.observe(envelope.senderHlc());
        String from = envelope.from();
        switch (envelope.message()) {
            case TableMessage.Write w -> onWrite(from, w);
            case TableMessage.WriteAck a -> {
                if (!coordinator.onWriteAck(from, a) && !hintDelivery.onAck(from, a)) {
                    log.trace("late ack {} from {}", a.id(), from);
                }
            }
            case TableMessage.Read r -> {
                Table t = tables.get(r.table());
                if (t != null) {
                    send(from, new TableMessage.ReadReply(r.id(), t.store().get(r.key())));
                }
            }
            case TableMessage.ReadReply r -> coordinator.onReadReply(from, r);
            case TableMessage.TreeRequest m -> antiEntropy.onTreeRequest(from, m);
            case TableMessage.TreeReply m -> antiEntropy.onTreeReply(from, m);
            case TableMessage.DigestRequest m -> antiEntropy.onDigestRequest(from, m);
            case TableMessage.DigestReply m -> antiEntropy.onDigestReply(from, m);
            case TableMessage.Push m -> antiEntropy.onPush(m);
            case TableMessage.PullRequest m -> antiEntropy.onPullRequest(from, m);
            case TableMessage.PullReply m -> antiEntropy.onPullReply(from, m);
        }
    }

    private void onWrite(String from, TableMessage.Write w) {
        Table t = tables.get(w.table());
        if (t == null) {
            return; // a table this node has not heard of yet: no ack, the coordinator hints it
        }
        Runnable ack = () -> {
            if (running) {
                send(from, new TableMessage.WriteAck(w.id()));
            }
        };
        if (w.hintFor() == null || w.hintFor().equals(id)) {
            t.store().merge(w.key(), w.cell(), ack);
        } else {
            hints.add(w.hintFor(), w.table(), w.key(), w.cell(), ack); // refused (full or too old): no ack
        }
    }

    /**
     * Anti-entropy for one table now: every range this node replicates, with each other live
     * replica, one session after another; {@code done} gets what they found.
     */
    public void repair(String table, Consumer<RepairResult> done) {
        if (!running || !tables.containsKey(table)) {
            done.accept(new RepairResult(0, 0, 0, 0, 0));
            return;
        }
        antiEntropy.repair(table, done);
    }

    /** Whether this node serves the table (its store is open). */
    public boolean hasTable(String table) {
        return tables.containsKey(table);
    }

    /** Every key of the table this node holds, with its cell, in token order (tombstones included). */
    /** This node's cells of the table in one token range, in token order; false when it holds no such table. */
    public boolean scan(String table, TokenRange range, java.util.function.BiConsumer<byte[], Cell> visitor) {
        Table t = tables.get(table);
        if (t == null) {
            return false;
        }
        t.store().scan(range, visitor);
        return true;
    }

    public void scan(String table, java.util.function.BiConsumer<byte[], Cell> visitor) {
        Table t = tables.get(table);
        if (t != null) {
            t.store().scanAll(visitor);
        }
    }

    /** Starts an anti-entropy session now if none runs (tests drive rounds instead of waiting for the period). */
    void antiEntropyRound() {
        antiEntropy.tick();
    }

    /**
     * The ring in this many token slices for tombstone collection, one task each on the node's
     * thread. Collecting a whole table in one task held every request queued behind it: in RocksDB,
     * 100,000 keys of 1 KB took 260-380 ms (a slice: under 5 ms), once a period, and that was the
     * slowest requests of a node serving 2,000 a second (238-252 ms).
     */
    static final int GC_SLICES = 1024;
    /** A collection round's slices are still being posted (a round is not started over another). */
    private boolean collecting;

    private void collectTombstones() {
        if (collecting || tables.isEmpty()) {
            return;
        }
        collecting = true;
        collectSlice(List.copyOf(tables.keySet()), 0, 0);
    }

    /** Slice {@code slice} of table {@code names[table]}, then the next as a task of its own, so that requests run in between. */
    private void collectSlice(List<String> names, int table, int slice) {
        if (!running) {
            collecting = false;
            return;
        }
        try {
            Table t = tables.get(names.get(table));
            if (t != null) { // dropped meanwhile otherwise
                metrics.tombstonesPurged += t.store().purgeTombstones(TokenRange.slice(slice, GC_SLICES), purgeBeforeMs(t.config()));
            }
        } catch (RuntimeException e) {
            collecting = false; // the round ends here; the next period starts another
            log.error("tables: node {}: tombstone collection failed, next try in {} ms: {}", id, settings.gcIntervalMs(), e.toString(), e);
            return;
        }
        int nextSlice = slice + 1 == GC_SLICES ? 0 : slice + 1;
        int nextTable = nextSlice == 0 ? table + 1 : table;
        if (nextTable == names.size()) {
            collecting = false;
            return;
        }
        // After what waits, not at once: where the node's thread is also its network's event loop,
        // what is posted for now runs before the loop reads its sockets again, so a chain of slices
        // posted for now held every request until the round ended (measured: 130-230 ms stalls).
        scheduler.yieldThen(() -> collectSlice(names, nextTable, nextSlice));
    }

    /** Tombstones written before this (on this node's clock) may be collected, and count as gone when comparing replicas. */
    long purgeBeforeMs(TableConfig config) {
        return clock.millis() - config.tombstoneGraceMs();
    }
}
