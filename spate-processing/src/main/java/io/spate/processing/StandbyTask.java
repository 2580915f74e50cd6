package io.spate.processing;

import io.spate.processing.store.RocksDbStores;
import io.spate.replication.Partition;
import io.spate.stream.engine.ChangelogRecord;
import io.spate.stream.engine.InputRecord;
import io.spate.stream.engine.Task;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A warm copy of a stateful task's stores, kept on a node that holds a follower replica
 * of the task's input (Kafka Streams' standby replica). It applies the task's changelogs from this
 * node's own replicas as they grow, reading what a consumer could read (to the high watermark;
 * exactly-once, to the last stable offset without aborted transactions), so nothing it holds can
 * be taken back by a leader change. When the task's leadership comes here, the task takes these
 * stores over and its restore reads only the changelog records written since. RocksDB stores
 * live in a directory of the standby's own ({@link #stateDir}), beside the task's: a task that
 * starts without them (the hand-over gave up) never opens a database the standby still holds.
 *
 * <p>A source table (a store restored from one of the task's own inputs, a compacted topic read
 * as a table) is applied only up to that input's committed position, read from the pipeline's
 * group every {@link #COMMITTED_READ_MS}: a starting task restores it to exactly that position and
 * replays the rest as input, so a standby past it would hold values the task must not see yet
 * (Kafka Streams' standbys stop at the committed offset of a source changelog too). Without a
 * committed position (the task never committed) nothing of it is applied: the task reads the
 * whole table at its start. Applying changelog records in offset order from any offset the log
 * still holds gives what a restore from the start gives, compacted or not: compaction keeps the
 * last record of a key, the one applied last.
 *
 * <p>What it applied is checked against the replica before each catch-up and at the hand-over,
 * as a Kafka follower checks its log against the leader's: the leader epoch of the last record
 * applied to each store must still end at or past that record. An unclean election that cut the
 * replica back and let it grow again under a newer epoch fails the check even when the log has
 * grown past the old position; the standby is then dropped, or handed over as nothing.
 *
 * <p>Thread-safety: catching up runs on the node's standby thread, the hand-over and closing on
 * its decisions thread; all three hold {@link #lock}. The hand-over and closing never wait long
 * for a catch-up (one stuck in the pipeline's own code would hold up every decision of the
 * node): a hand-over gives up after {@link #HAND_OVER_WAIT_MS}, the task then restores in full,
 * and a closing left undone is done by the catch-up when it returns.
 */
final class StandbyTask implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StandbyTask.class);
    /** A standby's state in its reports. */
    static final String STATE = "STANDBY";
    /** At most this many changelog records per catch-up: a hand-over waits for at most one. */
    static final int RECORDS_PER_CATCH_UP = 20_000;
    /** How long a hand-over waits for a catch-up in progress before the task starts without this standby. */
    static final long HAND_OVER_WAIT_MS = 1_000;
    /** How often a standby of source tables reads the committed positions of their inputs. */
    static final long COMMITTED_READ_MS = 1_000;

    /**
     * The committed positions of a pipeline's inputs, from its group (absent: none committed),
     * read off the caller's thread: the node's standbys share one thread, which a coordinator
     * that is away must not hold up.
     */
    @FunctionalInterface
    interface CommittedPositions {
        CompletableFuture<Map<TopicPartition, Long>> read(Set<TopicPartition> inputs);
    }

    /**
     * What a starting task takes over: each store in {@code positions} holds every changelog
     * record below its offset there. {@code onDisk} holds the task's stores when they are in
     * RocksDB (null: in memory); the task closes it after {@code task}.
     */
    record Warm(Task task, RocksDbStores onDisk, Map<String, Long> positions, long records) {
    }

    /** Where a standby of {@code id} keeps RocksDB stores, under the node's pipeline state directory. */
    static java.nio.file.Path stateDir(java.nio.file.Path pipelinesStateDir, TaskId id) {
        return pipelinesStateDir.resolve(id.pipeline()).resolve(id.subTopology() + "_" + id.partition() + ".standby");
    }

    private final TaskId id;
    private final long generation;
    private final Task task;
    private final RocksDbStores onDisk;
    /** Per store, the partition it is restored from: its changelog, or for a source table the task's input. */
    private final Map<String, TopicPartition> changelogs = new HashMap<>();
    /** The source tables among {@link #changelogs}, and where they read from. */
    private final Map<String, TopicPartition> sourceTables = new HashMap<>();
    private final CommittedPositions committed;
    private final LongSupplier clock;
    /**
     * The committed positions of the source tables' inputs as last read (standby thread only): a
     * source table is applied up to its input's and not past it.
     */
    private Map<TopicPartition, Long> limits = Map.of();
    private long limitsReadAtMs = Long.MIN_VALUE;
    /** The read under way, or null (standby thread only). */
    private CompletableFuture<Map<TopicPartition, Long>> reading;
    private final Map<String, Long> positions = new HashMap<>();
    /** Per store, the leader epoch of the batch holding the last record applied (the one below its position). */
    private final Map<String, Integer> epochs = new HashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    /** Set by a closing that found a catch-up in progress: the catch-up closes when it returns. */
    private volatile boolean closeWanted;
    private final boolean readCommitted;
    private final int maxBytes;
    private final Function<TopicPartition, Partition> localPartition;
    private final ClassLoader codeLoader;
    private volatile long applied;
    /** Changelog records readable here that it has not applied yet, as of its last catch-up. */
    private volatile long lag;
    /** Closed or handed over: guarded by {@link #lock}. */
    private boolean gone;

    /**
     * @param task          a fresh task of the pipeline's code, its stores empty (closed by this standby unless handed over)
     * @param onDisk        the stores of {@code task} when in RocksDB, opened empty in {@link #stateDir} (closed, and so
     *                      deleted, with the standby unless handed over); null for in-memory stores
     * @param codeLoader    the pipeline's class loader (a store's restore may call its serdes)
     * @param committed     reads the committed positions of source tables' inputs (called only when the task has source tables)
     */
    StandbyTask(TaskId id, long generation, Task task, RocksDbStores onDisk, boolean readCommitted, int maxBytes,
                Function<TopicPartition, Partition> localPartition, ClassLoader codeLoader, CommittedPositions committed,
                LongSupplier clock) {
        this.id = id;
        this.generation = generation;
        this.task = task;
        this.onDisk = onDisk;
        this.readCommitted = readCommitted;
        this.maxBytes = maxBytes;
        this.localPartition = localPartition;
        this.codeLoader = codeLoader;
        this.committed = committed;
        this.clock = clock;
        for (Map.Entry<String, String> store : task.changelogTopics().entrySet()) {
            TopicPartition tp = new TopicPartition(store.getValue(), id.partition());
            changelogs.put(store.getKey(), tp);
            if (task.inputTopics().contains(store.getValue())) {
                sourceTables.put(store.getKey(), tp);
            }
        }
    }

    TaskId id() {
        return id;
    }

    long generation() {
        return generation;
    }

    /** Its report, as {@code spate pipeline describe} lists standbys: records applied and still to apply. */
    TaskStatus report(int node, long nowMs) {
        long done = applied;
        return new TaskStatus(id.pipeline(), id.subTopology(), id.partition(), node, STATE, generation, 0, lag, 0, 0, 0, 0, 0, 0, -1, done,
                0, "", nowMs, 0, 0, done);
    }

    /**
     * Applies what the local changelog replicas gained since the last call, up to
     * {@link #RECORDS_PER_CATCH_UP} records. Throws when a changelog cannot be read here any more
     * (its replica left this node, or its log start moved past what was applied): this standby is
     * then of no use, and its node drops it.
     */
    void catchUp() throws Exception {
        readLimitsIfDue(); // outside the lock: a slow group coordinator must not hold up a hand-over
        lock.lock();
        try {
            if (!gone) {
                applyWhatIsNew();
            }
        } finally {
            lock.unlock();
            if (closeWanted) {
                close();
            }
        }
    }

    private void applyWhatIsNew() throws Exception {
        int budget = RECORDS_PER_CATCH_UP;
        long behind = 0;
        List<InputRecord> chunk = new ArrayList<>();
        for (Map.Entry<String, TopicPartition> store : changelogs.entrySet()) {
            Partition local = localPartition.apply(store.getValue());
            if (local == null && unread(store.getKey())) {
                continue; // a source table whose topic has no replica here: the task reads it from its leader
            }
            if (local == null) {
                throw new IllegalStateException(store.getValue() + " has no replica on this node");
            }
            String unheld = unheld(store.getKey(), local);
            if (unheld != null) {
                throw new IllegalStateException(unheld);
            }
            boolean sourceTable = sourceTables.containsKey(store.getKey());
            Long limit = sourceTable ? limits.get(store.getValue()) : null;
            Long reached = positions.get(store.getKey());
            if (limit != null && reached != null && limit < reached) {
                throw new IllegalStateException(store.getValue() + "'s committed position moved back to " + limit
                        + ", below the " + reached + " this standby applied its table to");
            }
            try (LocalInput changelog = new LocalInput(local, readCommitted)) {
                if (sourceTable && limit == null) {
                    behind += Math.max(0, changelog.end() - changelog.earliest()); // never committed: a starting task reads it whole
                    continue;
                }
                long until = limit != null ? limit : Long.MAX_VALUE;
                long position = positions.computeIfAbsent(store.getKey(), s -> changelog.earliest());
                long end = Math.min(changelog.end(), until);
                while (budget > 0 && position < end) {
                    chunk.clear();
                    long next = changelog.poll(position, budget, maxBytes, chunk, until); // out of range below the log start: thrown
                    if (next == position) {
                        break;
                    }
                    List<ChangelogRecord> entries = new ArrayList<>(chunk.size());
                    for (InputRecord r : chunk) {
                        entries.add(r.asChange());
                    }
                    CodeLoader.call(codeLoader, () -> {
                        task.restore(store.getKey(), entries);
                        return null;
                    });
                    budget -= entries.size();
                    applied += entries.size();
                    position = next;
                    positions.put(store.getKey(), position);
                    if (changelog.lastEpoch() >= 0) { // -1: no batch read, moved over a gap to a source table's limit
                        epochs.put(store.getKey(), changelog.lastEpoch());
                    }
                }
                behind += Math.max(0, changelog.end() - position); // a source table's past its committed position too
            }
        }
        lag = behind;
    }

    /**
     * Asks for the source tables' committed input positions when the last request is
     * {@link #COMMITTED_READ_MS} old and answered, and takes the answer once there. A failed read
     * keeps the last positions: one the task once committed is still one it reached, and the task
     * restores whatever the standby lacks.
     */
    private void readLimitsIfDue() {
        if (sourceTables.isEmpty()) {
            return;
        }
        long now = clock.getAsLong();
        if (reading == null && (limitsReadAtMs == Long.MIN_VALUE || now - limitsReadAtMs >= COMMITTED_READ_MS)) {
            limitsReadAtMs = now;
            try {
                reading = committed.read(Set.copyOf(sourceTables.values()));
            } catch (RuntimeException e) {
                reading = CompletableFuture.failedFuture(e);
            }
        }
        if (reading != null && reading.isDone()) {
            if (!reading.isCompletedExceptionally()) {
                limits = Map.copyOf(reading.join()); // the coordinator away or slow: the last positions stay
            }
            reading = null;
        }
    }

    /** A source table this standby has applied nothing of (a store it does not hand over). */
    private boolean unread(String store) {
        return sourceTables.containsKey(store) && !positions.containsKey(store);
    }

    /**
     * Why the local replica of {@code store}'s changelog no longer holds what was applied from it,
     * or null when it does: the epoch of the last record applied must still be in the log and end
     * at or past that record (it ends at the next epoch's first offset, or at the log end).
     */
    private String unheld(String store, Partition local) {
        Long position = positions.get(store);
        Integer epoch = epochs.get(store);
        if (position == null || epoch == null) {
            return null;
        }
        long[] end = local.log().endOffsetForEpoch(epoch);
        if (end[0] != epoch || end[1] < position) {
            return local.topicPartition() + " no longer holds the records this standby applied below " + position + " (epoch " + epoch
                    + " ends at " + end[1] + " there, as epoch " + end[0] + "): an unclean election replaced them, or retention removed them";
        }
        return null;
    }

    /**
     * The stores and how far each is applied, for the task starting here; null if this standby was
     * closed, is no longer held by the local replicas, or is stuck in a catch-up for longer than
     * {@link #HAND_OVER_WAIT_MS} (it is then closed once that catch-up returns). After a non-null
     * answer the standby neither applies nor closes anything: the task owns it all.
     */
    Warm handOver() {
        boolean locked;
        try {
            locked = lock.tryLock(HAND_OVER_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            locked = false;
        }
        if (!locked) {
            closeWanted = true;
            log.warn("{} is not handed over: a catch-up has held its stores for over {} ms; the task restores in full", this, HAND_OVER_WAIT_MS);
            return null;
        }
        try {
            if (gone) {
                log.info("{} is not handed over: it was closed", this);
                return null;
            }
            for (Map.Entry<String, TopicPartition> store : changelogs.entrySet()) {
                Partition local = localPartition.apply(store.getValue());
                if (local == null && unread(store.getKey())) {
                    log.info("{} hands over without store {}: it has applied nothing of that source table yet", this, store.getKey());
                    continue;
                }
                String unheld = local == null ? store.getValue() + " has no replica on this node" : unheld(store.getKey(), local);
                if (unheld != null) {
                    closeWanted = true;
                    log.warn("{} is not handed over: {}", this, unheld);
                    return null;
                }
            }
            gone = true;
            // A store not read yet is not in it: the task restores that one from the start.
            return new Warm(task, onDisk, Map.copyOf(positions), applied);
        } finally {
            lock.unlock();
            if (closeWanted) {
                close();
            }
        }
    }

    /** Closes its stores now, or when the catch-up in progress returns. */
    @Override
    public void close() {
        closeWanted = true;
        if (!lock.tryLock()) {
            return; // the catch-up holding it closes on its way out
        }
        try {
            if (gone) {
                return;
            }
            gone = true;
            try {
                CodeLoader.call(codeLoader, () -> {
                    task.close();
                    return null;
                });
            } catch (RuntimeException e) {
                // the pipeline's own close failing leaves nothing of the node's behind
            }
            if (onDisk != null) {
                try {
                    onDisk.close(); // not kept: its directory goes
                } catch (RuntimeException e) {
                    // a database that fails to close is deleted with its directory all the same
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "standby " + id + " (generation " + generation + ")";
    }
}
