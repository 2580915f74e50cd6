package io.spate.coordinator;

import io.spate.log.AppendOrigin;
import io.spate.log.LogScanner;
import io.spate.log.PartitionLog;
import io.spate.log.ScheduledTasks;
import io.spate.record.ControlBatches;
import io.spate.record.Record;
import io.spate.record.RecordBatch;
import io.spate.record.RecordBatchBuilder;
import io.spate.record.RecordReader;
import io.spate.replication.Acks;
import io.spate.replication.LeadershipListener;
import io.spate.replication.Partition;
import io.spate.replication.WriteError;
import io.spate.replication.Written;
import io.spate.time.Scheduler;
import io.spate.time.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Runs a coordinator (the group and the transaction coordinators) as shards, one per partition of its
 * internal topic, in the manner of Kafka's coordinator runtime: an operation on a shard returns
 * records and an answer; the runtime appends the records through the partition API with
 * {@code acks=all}, and once they are committed replays them into the shard and gives the answer.
 * A shard is loaded by replaying its partition's log when this node comes to lead it and dropped,
 * timers and all, when the leadership ends, each on the {@link LeadershipListener} call that says
 * so, in order (a standalone node too: it leads its partitions as the only voter of its own quorum).
 *
 * <p>A write may belong to a producer's transaction (KIP-98): its records go into a transactional
 * batch and reach the shard through {@link CoordinatorShard#replayTransactional}; the transaction's
 * end marker, written here by {@link #completeTransaction} (or found in the log at load), reaches
 * it through {@link CoordinatorShard#replayEndTransaction}, in log order with everything else.
 *
 * <p>Everything (operations, loads, commits, timers) runs as tasks of one {@link Scheduler},
 * which runs them one at a time: shards need no locks, and a test drives the whole runtime on a
 * manual clock.
 */
public final class CoordinatorRuntime<S extends CoordinatorShard<R>, R> {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorRuntime.class);
    /** How soon a failed load is tried again, while this node still leads the partition. */
    static final long LOAD_RETRY_MS = 1_000;

    /** Where the shards' partitions are and whether this node may act as their leader now. */
    public interface Partitions {
        /** The partition {@code p} of the coordinator's topic hosted here, or null. */
        Partition partition(int p);

        /** Whether this node serves {@code partition} as its leader now (role and lease). */
        boolean leads(Partition partition);
    }

    /** Makes the (empty) shard of a partition; the runtime then replays the partition's log into it. */
    public interface ShardFactory<S> {
        S create(ShardContext context);
    }

    private final String topic;
    private final Scheduler scheduler;
    private final Time time;
    private final Partitions partitions;
    private final ShardFactory<S> factory;
    private final RecordSerde<R> serde;
    private final long commitTimeoutMs;
    private final Executor thread;
    /** Loaded shards by partition; touched on the runtime's thread only. */
    private final Map<Integer, Loaded> shards = new HashMap<>();
    private volatile boolean closed;

    /**
     * @param topic             the coordinator's internal topic
     * @param scheduler         runs every task one at a time
     * @param time              the clock records are stamped with and shards read
     * @param commitTimeoutMs   how long a write waits for the in-sync replicas (Kafka's offsets.commit.timeout.ms)
     */
    public CoordinatorRuntime(String topic, Scheduler scheduler, Time time, Partitions partitions, ShardFactory<S> factory,
                              RecordSerde<R> serde, long commitTimeoutMs) {
        this.topic = topic;
        this.scheduler = scheduler;
        this.time = time;
        this.partitions = partitions;
        this.factory = factory;
        this.serde = serde;
        this.commitTimeoutMs = commitTimeoutMs;
        this.thread = task -> scheduler.schedule(0, ScheduledTasks.logged(topic + " coordinator task", task));
    }

    /** One loaded shard: the leadership epoch it serves and the timers that die with it. */
    private final class Loaded implements ShardContext {
        final int partition;
        int epoch;
        S shard;
        final Set<Scheduler.Timer> timers = new HashSet<>();
        /** Writes appended under this shard whose records are not replayed yet, in log order. */
        final ArrayDeque<PendingWrite<?>> pending = new ArrayDeque<>();
        /**
         * The log end when the shard was loaded: the shard answers nothing until the high watermark
         * reaches it, for what it replayed past the high watermark is not committed yet.
         */
        long loadedTo;
        /** The high watermark has reached {@link #loadedTo}: the shard serves, and was told so. */
        boolean active;
        boolean dropped;

        Loaded(int partition, int epoch) {
            this.partition = partition;
            this.epoch = epoch;
        }

        @Override
        public int partition() {
            return partition;
        }

        @Override
        public Time time() {
            return time;
        }

        @Override
        public Scheduler.Timer schedule(String name, long delayMs, Runnable task) {
            Runnable logged = ScheduledTasks.logged(name, task);
            Scheduler.Timer[] self = new Scheduler.Timer[1];
            Scheduler.Timer timer = scheduler.schedule(delayMs, () -> {
                timers.remove(self[0]);
                if (!dropped && !closed) {
                    // A timer acts on the shard as it is: a write answered as timed out that has
                    // committed since is replayed first (else only the next request here would,
                    // and a transaction coordinator's checks went on seeing a state long gone);
                    // only while this leadership lasts (a follower's log past a write's offsets
                    // holds the next leader's records).
                    Partition led = partitions.partition(partition);
                    if (led != null && partitions.leads(led) && led.leaderEpoch() == epoch) {
                        replayCommitted(this);
                    }
                    logged.run();
                }
            });
            self[0] = timer;
            timers.add(timer);
            return () -> {
                timers.remove(timer);
                timer.cancel();
            };
        }

        void drop() {
            dropped = true;
            List.copyOf(timers).forEach(Scheduler.Timer::cancel);
            timers.clear();
            shard.onUnloaded();
        }
    }

    // ---------------------------------------------------------------- loading

    /**
     * Loads a partition's shard when this node comes to lead it and drops it when that ends.
     * Leadership of the same partition that continues at a newer epoch keeps the shard: a leader's
     * log is never truncated under it.
     */
    public LeadershipListener leadership() {
        return new LeadershipListener() {
            @Override
            public void onBecameLeader(Partition partition, int leaderEpoch) {
                if (!closed && partition.topicPartition().topic().equals(topic)) {
                    int p = partition.topicPartition().partition();
                    thread.execute(() -> load(p, leaderEpoch));
                }
            }

            @Override
            public void onResigned(Partition partition, int leaderEpoch) {
                if (!closed && partition.topicPartition().topic().equals(topic)) {
                    int p = partition.topicPartition().partition();
                    thread.execute(() -> unload(p, leaderEpoch));
                }
            }
        };
    }

    private void load(int p, int leaderEpoch) {
        Partition partition = partitions.partition(p);
        if (closed || partition == null || !partition.isLeader() || partition.leaderEpoch() != leaderEpoch) {
            return; // this leadership has already ended: its resignation is queued behind
        }
        Loaded current = shards.get(p);
        if (current != null) {
            current.epoch = leaderEpoch;
            return;
        }
        try {
            Loaded loaded = loadFromLog(p, leaderEpoch, partition);
            shards.put(p, loaded);
            log.info("now coordinating {}-{} at leader epoch {}", topic, p, leaderEpoch);
        } catch (IOException | RuntimeException e) {
            // Nothing else would ask again until the leadership changes: the shard would answer
            // LOADING for good. Try again while this leadership lasts.
            log.error("could not load {}-{}; trying again in {} ms", topic, p, LOAD_RETRY_MS, e);
            scheduler.schedule(LOAD_RETRY_MS, () -> thread.execute(() -> load(p, leaderEpoch)));
            return;
        }
        Loaded loaded = shards.get(p);
        try {
            loaded.shard.onLoaded();
        } catch (RuntimeException e) {
            // The shard is loaded and serves; what it wanted to start on loading did not start.
            log.error("{}-{}: the shard's start after loading failed", topic, p, e);
        }
        if (partition.log().highWatermark() >= loaded.loadedTo) {
            activate(loaded);
        } else {
            // Nothing else may come to tell: the shard's clients are refused until then, and a
            // shard that waits for them (a group's members' sessions) would wait for ever.
            partition.awaitReplication(loaded.loadedTo, 1, leaderEpoch).whenComplete((ok, failure) -> thread.execute(() -> {
                Partition now = partitions.partition(p);
                if (!closed && shards.get(p) == loaded && now != null && now.log().highWatermark() >= loaded.loadedTo) {
                    activate(loaded);
                }
            }));
        }
    }

    /** The shard serves from now on: it hears so once (see {@link CoordinatorShard#onActive}). */
    private void activate(Loaded loaded) {
        if (loaded.active || loaded.dropped) {
            return;
        }
        loaded.active = true;
        try {
            loaded.shard.onActive();
        } catch (RuntimeException e) {
            log.error("{}-{}: the shard's start on becoming active failed", topic, loaded.partition, e);
        }
    }

    /**
     * Replays the whole log. What a new leader holds past the high watermark is what it will
     * replicate, unless it loses the leadership before that is committed and the next leader
     * truncates it: so the shard serves only once the high watermark has reached this end
     * ({@link #shardFor}). Answering from such a tail cost an exactly-once task its input once: a
     * transaction's offsets were accepted on the strength of an uncommitted record, the record was
     * truncated, and no marker ever ended the offsets' transaction.
     */
    private Loaded loadFromLog(int p, int leaderEpoch, Partition partition) throws IOException {
        Loaded loaded = new Loaded(p, leaderEpoch);
        loaded.shard = factory.create(loaded);
        if (partition != null) {
            loaded.loadedTo = partition.log().logEndOffset();
            if (partition.log().isOffline()) {
                throw new IOException(topic + "-" + p + " is offline: " + partition.log().offlineReason());
            }
            RecordReader reader = new RecordReader(PartitionLog.decompressor());
            S shard = loaded.shard;
            LogScanner.forEachBatch(partition.log(), partition.log().logStartOffset(), partition.log().logEndOffset(), batch -> {
                if (closed) {
                    // A node stopping does not wait for, nor interrupt, the replay of a big partition.
                    throw new IOException("the " + topic + " coordinator stopped while loading " + topic + "-" + p);
                }
                if (batch.isControl()) {
                    // Other control types than end markers mean nothing to a coordinator.
                    ControlBatches.EndTxnMarker marker = ControlBatches.readMarker(batch);
                    if (marker != null) {
                        shard.replayEndTransaction(batch.producerId(), marker.commit());
                    }
                } else if (batch.isTransactional()) {
                    long producerId = batch.producerId();
                    short producerEpoch = batch.producerEpoch();
                    reader.forEach(batch, record -> {
                        R decoded = decode(record);
                        if (decoded != null) {
                            shard.replayTransactional(producerId, producerEpoch, decoded);
                        }
                    });
                } else {
                    reader.forEach(batch, record -> {
                        R decoded = decode(record);
                        if (decoded != null) {
                            shard.replay(decoded);
                        }
                    });
                }
            });
        }
        return loaded;
    }

    /** The coordinator's record in a log record, or null for one it does not know (nor writes: it has no key). */
    private R decode(Record record) {
        return record.hasKey() ? serde.read(record.key(), record.hasValue() ? record.value() : null) : null;
    }

    private void unload(int p, int leaderEpoch) {
        Loaded loaded = shards.remove(p);
        if (loaded != null) {
            loaded.drop();
            log.info("no longer coordinating {}-{} (led at epoch {})", topic, p, leaderEpoch);
        }
    }

    /** On the runtime's thread: the shard an operation on {@code p} may use, or why there is none. */
    private Loaded shardFor(int p) {
        if (closed) {
            throw new CoordinatorException(CoordinatorException.Reason.NOT_AVAILABLE, "the " + topic + " coordinator is stopping");
        }
        Partition partition = partitions.partition(p);
        if (partition == null || !partitions.leads(partition)) {
            throw new CoordinatorException(CoordinatorException.Reason.NOT_COORDINATOR, "this node does not lead " + topic + "-" + p);
        }
        Loaded loaded = shards.get(p);
        if (loaded == null || loaded.epoch != partition.leaderEpoch()) {
            // Not loaded yet, or loaded under a leadership that has since ended (the calls that drop
            // and load it again are queued behind this operation): nothing here is current.
            throw new CoordinatorException(CoordinatorException.Reason.LOADING, topic + "-" + p + " is being loaded");
        }
        if (partition.log().highWatermark() < loaded.loadedTo) {
            throw new CoordinatorException(CoordinatorException.Reason.LOADING, topic + "-" + p
                    + " is loaded, but not all of what it replayed is committed yet");
        }
        // A leadership that moved to a newer epoch under the shard (its wait for the high watermark failed) activates it here.
        activate(loaded);
        return loaded;
    }

    // ---------------------------------------------------------------- operations

    /** Runs {@code op} on the shard of {@code p} and answers with what it returns; writes nothing. */
    public <T> CompletableFuture<T> read(int p, Function<S, T> op) {
        return write(p, shard -> CoordinatorResult.of(op.apply(shard)));
    }

    /**
     * Runs {@code op} on the shard of {@code p}; appends the records it returns and, once they are
     * committed, replays them into the shard and completes with its answer. Fails with a
     * {@link CoordinatorException} when the shard is not here or the records were not committed
     * (they may still be in the log: a later leader replays them), or with what {@code op} threw.
     */
    public <T> CompletableFuture<T> write(int p, Function<S, CoordinatorResult<R, T>> op) {
        return write(p, op, null);
    }

    /**
     * As {@link #write(int, Function)}; {@code onSettled}, when not null, runs on the runtime's
     * thread with the shard once the records are replayed or known not to be in the log, which
     * for a write answered as timed out may be long after its answer (not at all if the shard is
     * dropped first). A coordinator that decides on what is committed uses it to know which of
     * its writes may still land.
     */
    public <T> CompletableFuture<T> write(int p, Function<S, CoordinatorResult<R, T>> op, Consumer<S> onSettled) {
        return onShard(p, (loaded, result) -> {
            CoordinatorResult<R, T> decided = op.apply(loaded.shard);
            if (decided.records().isEmpty()) {
                result.complete(decided.response());
                if (onSettled != null) {
                    onSettled.accept(loaded.shard);
                }
            } else {
                append(p, loaded, decided, result, onSettled);
            }
        });
    }

    /**
     * Writes the end marker of {@code producerId}'s transaction (commit or abort, from the
     * transaction coordinator at {@code coordinatorEpoch}) to the partition {@code p} with
     * {@code acks=all}, after the shard's writes before it; once it is committed, replays it into
     * the shard ({@link CoordinatorShard#replayEndTransaction}) and completes. Fails as
     * {@link #write} does; the partition's refusal of the marker (a stale producer or
     * coordinator epoch) is a WRITE_FAILED with its {@link Written}.
     */
    public CompletableFuture<Void> completeTransaction(int p, long producerId, short producerEpoch, int coordinatorEpoch, boolean commit) {
        return onShard(p, (loaded, result) -> {
            Partition partition = partitions.partition(p);
            long now = time.millis();
            PendingWrite<Void> write = new PendingWrite<>(shard -> shard.replayEndTransaction(producerId, commit), null, result, null);
            appendPending(loaded, partition, write,
                    () -> partition.appendControl(producerId, producerEpoch, coordinatorEpoch, commit, commitTimeoutMs, now));
        });
    }

    /**
     * Runs {@code task} on the runtime's thread with the shard {@code p} may use (once writes the
     * high watermark has passed meanwhile are replayed); the task completes the result, now or later.
     */
    private <T> CompletableFuture<T> onShard(int p, BiConsumer<Loaded, CompletableFuture<T>> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new CoordinatorException(CoordinatorException.Reason.NOT_AVAILABLE, "the " + topic + " coordinator is stopping"));
            return result;
        }
        thread.execute(() -> {
            try {
                Loaded loaded = shardFor(p);
                replayCommitted(loaded);
                task.accept(loaded, result);
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    /** Runs {@code op} on every loaded shard (for listings across the coordinator), in partition order. */
    public <T> CompletableFuture<List<T>> readAll(Function<S, T> op) {
        CompletableFuture<List<T>> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new CoordinatorException(CoordinatorException.Reason.NOT_AVAILABLE, "the " + topic + " coordinator is stopping"));
            return result;
        }
        thread.execute(() -> {
            try {
                List<T> answers = new ArrayList<>();
                new java.util.TreeMap<>(shards).values().forEach(loaded -> answers.add(op.apply(loaded.shard)));
                result.complete(answers);
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    /** A write on its way: answered when its own outcome comes, replayed when it, or a later write, commits. */
    private final class PendingWrite<T> {
        /** What the write does to the shard once committed. */
        final Consumer<S> replay;
        final T response;
        final CompletableFuture<T> result;
        final Consumer<S> onSettled;
        /** The log end offset right after the append: the records are committed once the high watermark reaches it. */
        long endOffset = Long.MAX_VALUE;
        /** The caller has its answer (a failure, when the records stayed in the log and may still commit). */
        boolean answered;
        /** Replayed, or known not to be in the log. */
        boolean done;

        PendingWrite(Consumer<S> replay, T response, CompletableFuture<T> result, Consumer<S> onSettled) {
            this.replay = replay;
            this.response = response;
            this.result = result;
            this.onSettled = onSettled;
        }

        void fail(Throwable cause) {
            if (!answered) {
                answered = true;
                result.completeExceptionally(cause);
            }
        }
    }

    private <T> void append(int p, Loaded loaded, CoordinatorResult<R, T> decided, CompletableFuture<T> result, Consumer<S> onSettled) {
        PendingWrite<T> write = new PendingWrite<>(shard -> replayRecords(shard, p, decided), decided.response(), result, onSettled);
        Partition partition = partitions.partition(p);
        if (partition == null) {
            write.fail(new CoordinatorException(CoordinatorException.Reason.NOT_AVAILABLE, topic + "-" + p + " does not exist yet"));
            settle(loaded, write);
            return;
        }
        long now = time.millis();
        RecordBatchBuilder batch = new RecordBatchBuilder(now);
        CoordinatorResult.Transaction transaction = decided.transaction();
        if (transaction != null) {
            // No sequence, as Kafka's coordinators write it: the coordinator writes for the producer, outside
            // the sequence of the producer's own batches (the log takes it so from AppendOrigin.COORDINATOR).
            batch.producer(transaction.producerId(), transaction.producerEpoch(), RecordBatch.NO_SEQUENCE).attributes(true, false);
        }
        for (R record : decided.records()) {
            byte[] key = serde.key(record);
            byte[] value = serde.value(record);
            batch.append(now, key == null ? null : ByteBuffer.wrap(key), value == null ? null : ByteBuffer.wrap(value));
        }
        ByteBuffer records = batch.build();
        io.spate.log.TxnVerificationGuard verified = transaction == null ? null : transaction.verified();
        appendPending(loaded, partition, write, () -> partition.append(records, Acks.ALL, commitTimeoutMs, now, AppendOrigin.COORDINATOR, verified));
    }

    /** Appends through {@code appendToLog} (on this thread) and follows the outcome; the write is pending from now on. */
    private void appendPending(Loaded loaded, Partition partition, PendingWrite<?> write, Supplier<CompletableFuture<Written>> appendToLog) {
        loaded.pending.add(write);
        long endBefore = partition.log().logEndOffset();
        CompletableFuture<Written> appended;
        try {
            appended = appendToLog.get();
        } catch (RuntimeException e) {
            loaded.pending.remove(write);
            write.fail(e);
            settle(loaded, write);
            return;
        }
        // The append itself ran on this thread, the only one that writes this topic: what the log
        // end moved by is this batch (it did not move when the write was refused).
        long endAfter = partition.log().logEndOffset();
        if (endAfter > endBefore) {
            write.endOffset = endAfter;
        }
        appended.whenComplete((written, failure) -> thread.execute(() -> completed(loaded, write, written, failure)));
    }

    private void replayRecords(S shard, int p, CoordinatorResult<R, ?> decided) {
        CoordinatorResult.Transaction transaction = decided.transaction();
        for (R record : decided.records()) {
            try {
                if (transaction == null) {
                    shard.replay(record);
                } else {
                    shard.replayTransactional(transaction.producerId(), transaction.producerEpoch(), record);
                }
            } catch (RuntimeException e) {
                log.error("{}-{}: replaying a record it wrote failed; the shard may differ from its log until it is loaded again",
                        topic, p, e);
            }
        }
    }

    /**
     * On the runtime's thread, when a write's outcome comes. Outcomes come from several threads
     * (each follower's fetch moves the high watermark) and may hop here out of log order, and a
     * write answered as timed out may commit after all; so a commit replays, in log order, every
     * write of the shard still pending up to and including it: the high watermark passed them all.
     */
    private void completed(Loaded loaded, PendingWrite<?> write, Written written, Throwable failure) {
        if (write.done) {
            return; // replayed and answered already, when a later write committed
        }
        // NOT_ENOUGH_REPLICAS_AFTER_APPEND is told once the high watermark passed the records: committed, but not acknowledged.
        if (failure == null && (written.ok() || written.error() == WriteError.NOT_ENOUGH_REPLICAS_AFTER_APPEND)) {
            if (!written.ok()) {
                write.fail(CoordinatorException.writeFailed(written));
            }
            while (!loaded.pending.isEmpty()) {
                PendingWrite<?> earlier = loaded.pending.poll();
                replayAndAnswer(loaded, earlier);
                if (earlier == write) {
                    break;
                }
            }
            return;
        }
        write.fail(failure != null ? failure : CoordinatorException.writeFailed(written));
        if (failure != null || !inTheLog(written)) {
            loaded.pending.remove(write);
            settle(loaded, write);
        }
    }

    /** Replays the pending writes the high watermark has passed meanwhile (one answered as timed out, say). */
    private void replayCommitted(Loaded loaded) {
        Partition partition = partitions.partition(loaded.partition);
        if (partition == null || loaded.pending.isEmpty()) {
            return;
        }
        long highWatermark = partition.log().highWatermark();
        while (!loaded.pending.isEmpty() && loaded.pending.peek().endOffset <= highWatermark) {
            replayAndAnswer(loaded, loaded.pending.poll());
        }
    }

    private <T> void replayAndAnswer(Loaded loaded, PendingWrite<T> write) {
        // A shard dropped meanwhile has nothing to replay into: the records are committed and the next leader replays them.
        if (!loaded.dropped) {
            try {
                write.replay.accept(loaded.shard);
            } catch (RuntimeException e) {
                log.error("{}-{}: replaying what it wrote failed; the shard may differ from its log until it is loaded again",
                        topic, loaded.partition, e);
            }
        }
        if (!write.answered) {
            write.answered = true;
            write.result.complete(write.response);
        }
        settle(loaded, write);
    }

    /** The write is replayed or known not to be in the log: its caller's bookkeeping may let go of it. */
    private void settle(Loaded loaded, PendingWrite<?> write) {
        write.done = true;
        if (write.onSettled != null && !loaded.dropped) {
            try {
                write.onSettled.accept(loaded.shard);
            } catch (RuntimeException e) {
                log.error("{}-{}: a settled write's callback failed", topic, loaded.partition, e);
            }
        }
    }

    /** Whether a write that was not acknowledged left its records in the log (they commit if a later write does). */
    private static boolean inTheLog(Written written) {
        return switch (written.error()) {
            case NOT_ENOUGH_REPLICAS_AFTER_APPEND, TIMED_OUT, NOT_DURABLE -> true;
            // Refused before the append (no log start offset), or appended and then the epoch moved on (it has one).
            case NOT_LEADER -> written.logStartOffset() >= 0;
            case NONE, NOT_ENOUGH_REPLICAS, REFUSED -> false;
        };
    }

    /** Runs {@code task} on the runtime's thread (for a caller that holds no shard, such as a coordinator's own bookkeeping). */
    public void execute(Runnable task) {
        thread.execute(task);
    }

    /** Drops every shard; afterwards operations fail with NOT_AVAILABLE and no timer runs. */
    public void close() {
        closed = true;
        thread.execute(() -> {
            CoordinatorException stopping = new CoordinatorException(CoordinatorException.Reason.NOT_AVAILABLE,
                    "the " + topic + " coordinator stopped before the write was committed");
            for (Loaded loaded : shards.values()) {
                try {
                    loaded.drop();
                } catch (RuntimeException e) {
                    log.warn("{}-{}: unloading at the stop failed", topic, loaded.partition, e); // the other shards' writes are failed all the same
                }
                loaded.pending.forEach(write -> write.fail(stopping));
            }
            shards.clear();
        });
    }
}
