package io.spate.processing;

import io.spate.processing.store.RocksDbStores;
import io.spate.processing.store.StateCheckpoint;
import io.spate.processing.store.StoreFailedException;
import io.spate.replication.ParkedReads;
import io.spate.replication.Partition;
import io.spate.stream.engine.ChangelogRecord;
import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.engine.InputRecord;
import io.spate.stream.engine.Task;
import io.spate.stream.store.InMemoryStores;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Runs one task on a thread of its own: restores its stores, then takes micro-batches from its
 * input partitions (read in place when this node holds them), hands them to the engine, sends
 * the results and commits its positions every commit interval. Any failure restarts it from its
 * last commit, state restored from the changelogs; a failure of the pipeline's own code three
 * times running fails it for good (until the pipeline is resumed or redeployed), and the node
 * goes on serving. It tells its node when it ends, so that a task of the same id starts only
 * after this one is gone.
 */
final class TaskRunner implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);
    private static final int RESTORE_CHUNK = 10_000;
    /** A restore that reads nothing for this long fails (and is tried again); a large one that progresses never does. */
    private static final long RESTORE_STALL_MS = TimeUnit.MINUTES.toMillis(2);
    private static final int USER_FAILURES_BEFORE_GIVING_UP = 3;
    /** How long a restore waits for a changelog's readable end to reach what the task's standby applied. */
    private static final long STANDBY_END_WAIT_MS = 5_000;
    /**
     * Exactly-once in place, the group's position is only where a restart starts looking for the
     * positions in the output (and what lag monitors read): written at most once a second, not
     * every (short) exactly-once interval, each write being a replicated offset commit.
     */
    private static final long ANCHORED_GROUP_COMMIT_MS = 1_000;
    /** How the status names a passing failure of an append in place being retried. */
    private static final String RETRYING = "retrying an append in place: ";
    /** How often a held task looks whether it may go on. */
    private static final long HOLD_CHECK_MS = 5;
    private static final long HELD_LAG_EVERY_MS = 200;

    /** How a task ended: what its node does next depends on it. */
    enum Ending { STOPPED, FAILED, FENCED, NOT_LEADER }

    private final TaskId id;
    private final long generation;
    private final CompiledPipeline pipeline;
    private final PipelineSettings settings;
    private final TaskEnvironment env;
    private final PositionStore positions;
    private final ClassLoader codeLoader;
    private final BooleanSupplier stillLeads;
    private final Consumer<Ending> onEnded;
    private final Thread thread;
    private final TaskInterrupts interrupts;
    private final Recorder latency = new Recorder(TimeUnit.MINUTES.toMicros(10), 2);
    private volatile boolean stopped;
    private volatile boolean holding;
    /** The pipeline is deleted or redeployed: a clean stop keeps no state on disk. */
    private volatile boolean discardState;
    private volatile boolean ended;
    private volatile String state = "STARTING";
    private volatile String error = "";
    private volatile long processingSinceMs = -1;
    private volatile long processed;
    private volatile long lateRecords;
    private volatile long inputLag;
    private volatile int restores;
    private volatile long lastRestoreMs = -1;
    private volatile long restoredRecords;
    /** Changelog records the stores held from this node's standby when the task last restored here (not read again). */
    private volatile long standbyRecords;
    /** Stores kept warm by this node's standby of the task, for its first attempt only. */
    private volatile StandbyTask.Warm warm;
    private final java.util.concurrent.atomic.LongAdder resultsInPlace = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder resultsSent = new java.util.concurrent.atomic.LongAdder();
    private volatile int failures;
    /** Commits made since the task was created here: an attempt that made one made progress. */
    private volatile long commits;
    private final Map<TopicPartition, TaskInput> inputs = new LinkedHashMap<>();
    private long reportedProcessed;
    private long reportedAtMs;

    /** @param warm stores this node's standby kept warm, taken over by the first attempt (null: none) */
    TaskRunner(TaskId id, long generation, CompiledPipeline pipeline, PipelineSettings settings, TaskEnvironment env, PositionStore positions,
               ClassLoader codeLoader, BooleanSupplier stillLeads, Consumer<Ending> onEnded, StandbyTask.Warm warm) {
        this.id = id;
        this.warm = warm;
        this.generation = generation;
        this.pipeline = pipeline;
        this.settings = settings;
        this.env = env;
        this.positions = positions;
        this.codeLoader = codeLoader;
        this.stillLeads = stillLeads;
        this.onEnded = onEnded;
        this.thread = Thread.ofPlatform().daemon().name("spate-task-" + id).unstarted(this);
        this.interrupts = new TaskInterrupts(thread);
    }

    TaskId id() {
        return id;
    }

    long generation() {
        return generation;
    }

    void start() {
        reportedAtMs = env.clock().get();
        thread.start();
    }

    /** Asks the task to stop after its current micro-batch; at-least-once, it first commits what was acknowledged. */
    /**
     * Holds the task ({@code true}) while its node's leadership of its partition is in doubt: the
     * node fenced itself, unanswered by the controller for a session (a controller failing over,
     * mostly), and may get the same leadership back a moment later. A held task takes no new input
     * and writes nothing, and keeps its stores for when it goes on ({@code false}) or is stopped.
     */
    void hold(boolean held) {
        holding = held;
    }

    void stop() {
        // No interrupt: a task blocked in its client would lose the hand-over commit; an idle one
        // wakes within idle.wait.ms.
        stopped = true;
    }

    /** As {@link #stop}, for a pipeline deleted or redeployed: its stores are not kept for a next start. */
    void stopAndDiscardState() {
        discardState = true;
        stop();
    }

    boolean awaitStopped(long timeoutMs) throws InterruptedException {
        thread.join(Math.max(1, timeoutMs));
        return !thread.isAlive();
    }

    boolean hasEnded() {
        return ended;
    }

    boolean failedForGood() {
        return state.equals("FAILED");
    }

    /** True when a micro-batch has been in the pipeline's code longer than {@code task.timeout.ms}. */
    boolean stuck(long nowMs) {
        long since = processingSinceMs;
        return since >= 0 && !failedForGood() && nowMs - since > settings.taskTimeoutMs();
    }

    /**
     * Fails a task whose code does not return: its thread is left to end by itself (Java cannot
     * stop it). False when the code returned meanwhile: nothing is done.
     */
    boolean abandon(String why, long nowMs) {
        // Only while the thread is still in the pipeline's code it was found stuck in (it may have
        // returned since); the interrupt unblocks that code and never lands in a read or an append of a log.
        return interrupts.abandon(() -> stuck(nowMs), () -> {
            error = why;
            state = "FAILED";
            failures++;
            processingSinceMs = -1;
            stopped = true;
        });
    }

    @Override
    public void run() {
        interrupts.bindToCurrentThread();
        Ending ending = Ending.STOPPED;
        try {
            ending = runAttempts();
        } finally {
            StandbyTask.Warm unused = warm;
            warm = null;
            if (unused != null) {
                closeQuietly(unused); // stopped, or no longer leading, before its first attempt
            }
            state = ending == Ending.FAILED ? "FAILED" : "STOPPED";
            ended = true;
            onEnded.accept(ending);
        }
    }

    private Ending runAttempts() {
        int userFailuresInARow = 0;
        long backoffMs = 100;
        while (!stopped) {
            if (!stillLeads.getAsBoolean()) {
                // Leadership moved while this task waited to start again: the new leader runs it.
                return Ending.NOT_LEADER;
            }
            long commitsBefore = commits;
            try {
                attempt();
                return failedForGood() ? Ending.FAILED : Ending.STOPPED;
            } catch (InterruptedException e) {
                return failedForGood() ? Ending.FAILED : Ending.STOPPED;
            } catch (ProducerFencedException | InvalidProducerEpochException e) {
                // A newer instance of this task took over (a leadership this node has not heard of yet).
                log.info("task {} was fenced by a newer instance of itself; its node decides whether to start it again", id);
                return Ending.FENCED;
            } catch (TaskOutput.OutputMovedException e) {
                if (stopped) {
                    return failedForGood() ? Ending.FAILED : Ending.STOPPED;
                }
                // A passing failure: the partition its results were appended to in place is led by
                // another node now. The task goes back to its last commit (exactly-once in place, it
                // settles from the new leader) and is not counted as failed.
                if (commits > commitsBefore) {
                    backoffMs = 100;
                }
                log.info("task {}: {}; starting again from its last commit in {} ms", id, e.getMessage(), backoffMs);
            } catch (AttemptAgain e) {
                log.info("task {}: {}; starting again from what its output committed", id, e.getMessage());
                backoffMs = 100;
            } catch (UserCodeException e) {
                if (stopped) {
                    // Abandoned past task.timeout.ms (its code threw on the interrupt) or stopped: no
                    // attempt follows, and a failure for good stays one (it was restarted before).
                    return failedForGood() ? Ending.FAILED : Ending.STOPPED;
                }
                if (awaitCommitInFlight()) {
                    committed(); // a commit that lands as the attempt fails is progress too
                }
                failures++;
                error = e.getMessage();
                // Only a commit is progress: records processed again since the last one (a backlog
                // worked through before the failing record) came back the next time too, and a
                // task failing at the same record restarted for good, writing them again each time.
                userFailuresInARow = commits > commitsBefore ? 1 : userFailuresInARow + 1;
                log.warn("task {}: the pipeline's code failed ({} in a row)", id, userFailuresInARow, e.getCause());
                if (userFailuresInARow >= USER_FAILURES_BEFORE_GIVING_UP) {
                    state = "FAILED";
                    log.error("task {} failed {} times in a row in its own code and stays failed until the pipeline is resumed or"
                            + " redeployed: {}", id, userFailuresInARow, e.getMessage());
                    return Ending.FAILED;
                }
            } catch (Throwable e) {
                if (stopped) {
                    return failedForGood() ? Ending.FAILED : Ending.STOPPED;
                }
                if (awaitCommitInFlight()) {
                    committed();
                }
                failures++;
                error = causes(e);
                // Only a commit is progress: an attempt that processed and could not commit (a table
                // that does not exist, too few replicas) fails the same way next time, later and later.
                if (commits > commitsBefore) {
                    backoffMs = 100;
                }
                log.warn("task {} failed; restarting from its last commit in {} ms", id, backoffMs, e);
            } finally {
                awaitCommitInFlight();
                closeInputs();
                processingSinceMs = -1;
                interrupts.leftUserCode(); // the task's close ran the pipeline's code too
            }
            if (!stopped) {
                state = "RESTARTING";
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException e) {
                    return failedForGood() ? Ending.FAILED : Ending.STOPPED;
                }
                backoffMs = Math.min(backoffMs * 2, 10_000);
            }
        }
        return failedForGood() ? Ending.FAILED : Ending.STOPPED;
    }

    private void attempt() throws Exception {
        // Left in place until this attempt's stores are open: a failure before then leaves them to the next attempt, or to run()'s close.
        StandbyTask.Warm fromStandby = warm;
        boolean onDisk = settings.stateStore() == StateStoreType.ROCKSDB;
        java.nio.file.Path keptDir = onDisk && fromStandby == null ? keptStateDir() : null;
        StateCheckpoint checkpoint = null;
        if (onDisk && fromStandby != null) {
            // The standby's databases are the stores now: what a clean stop kept here before is older.
            RocksDbStores.deleteRecursively(taskStateDir());
        } else if (onDisk) {
            checkpoint = StateCheckpoint.take(keptDir, env.clock().get());
        }
        try {
            attempt(checkpoint, keptDir, fromStandby);
        } catch (CheckpointUnusableException e) {
            log.info("task {}: {}; rebuilding its stores from their changelogs", id, e.getMessage());
            closeInputs(); // the next attempt opens them again
            attempt(null, null, null);
        }
    }

    private java.nio.file.Path taskStateDir() {
        return env.stateDir().resolve(id.pipeline()).resolve(id.subTopology() + "_" + id.partition());
    }

    /**
     * Where the last clean stop here kept the task's RocksDB stores: its own directory, or its
     * standby's when the task ran on the stores it took over from a standby; its own directory
     * when neither holds a checkpoint. No standby of the task is open here while it starts.
     */
    private java.nio.file.Path keptStateDir() {
        java.nio.file.Path own = taskStateDir();
        java.nio.file.Path standby = StandbyTask.stateDir(env.stateDir(), id);
        return !java.nio.file.Files.exists(own.resolve(StateCheckpoint.FILE)) && java.nio.file.Files.exists(standby.resolve(StateCheckpoint.FILE))
                ? standby : own;
    }

    /**
     * One attempt, its stores those of {@code fromStandby} when there is one, else its RocksDB
     * stores reopened in {@code checkpointDir} from {@code checkpoint} when there is one, else empty.
     */
    private void attempt(StateCheckpoint checkpoint, java.nio.file.Path checkpointDir, StandbyTask.Warm fromStandby) throws Exception {
        state = "RESTORING";
        boolean exactlyOnce = settings.guarantee() == Guarantee.EXACTLY_ONCE;
        // Stores on disk are this attempt's: kept only past a clean stop, with a checkpoint.
        try (RocksDbStores onDisk = settings.stateStore() != StateStoreType.ROCKSDB ? null
                : fromStandby != null && fromStandby.onDisk() != null ? fromStandby.onDisk()
                : checkpoint != null ? RocksDbStores.reopen(checkpointDir, checkpoint) : RocksDbStores.open(taskStateDir());
             Task task = fromStandby != null ? fromStandby.task() : inUserCode(() -> pipeline.createTask(id.subTopology(), id.partition(),
                     onDisk != null ? onDisk : InMemoryStores.INSTANCE))) {
            warm = null; // this attempt owns them now; a later one restores from the changelogs, as they may hold this one's changes
            Producer<byte[], byte[]> producer = env.sharedProducer();
            Producer<byte[], byte[]> own = null;
            try {
                if (exactlyOnce) {
                    own = env.producerFactory().apply(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                            PipelineNames.transactionalId(id.pipeline(), anchorTopic(task), id.partition())));
                    // Fences the task's previous instance, wherever it ran, and aborts what it left open,
                    // before the positions are read: they are then stable (KIP-447).
                    own.initTransactions();
                    producer = own;
                }
                Map<TopicPartition, Long> at = openInputs(task, exactlyOnce);
                restore(task, exactlyOnce, committedPositions(at), checkpoint, fromStandby);
                state = "RUNNING";
                boolean clean;
                if (exactlyOnce && committedAnchor != null) {
                    settleAnchor(task, producer, at);
                }
                Boolean anchored = anchorable(task, exactlyOnce) ? processAnchored(task, producer, at) : null;
                clean = anchored != null ? anchored : process(task, producer, exactlyOnce, at);
                if (clean && onDisk != null && !discardState) {
                    Map<String, Long> offsets = KeptStores.checkpointOffsets(task.changelogTopics().values(), id.partition(), at, changelogLedAt, env.localPartition(),
                            exactlyOnce);
                    if (offsets != null) {
                        onDisk.keepOnClose(offsets, env.clock().get());
                    } else {
                        log.info("task {}: its stores are not kept: a changelog partition is not led here as when it started", id);
                    }
                }
                if (attemptInPlaceNext && !stopped) {
                    attemptInPlaceNext = false;
                    throw new AttemptAgain("its partitions are all led here again: its results commit in place from now on");
                }
            } finally {
                if (own != null) {
                    try {
                        // Closing aborts a transaction still open: its results are never read_committed.
                        own.close(java.time.Duration.ofSeconds(5));
                    } catch (RuntimeException ignored) {
                        // the next instance's initTransactions aborts it then
                    }
                }
            }
        }
    }

    /** A checkpoint that does not fit the changelogs as they are now (truncated, deleted past, or for other stores). */
    private static final class CheckpointUnusableException extends Exception {
        CheckpointUnusableException(String message) {
            super(message);
        }
    }

    private <T> T inCodeLoader(java.util.function.Supplier<T> code) {
        return CodeLoader.call(codeLoader, code);
    }

    /**
     * The pipeline's code run outside a micro-batch (its stores made, its serdes restoring them):
     * watched for {@code task.timeout.ms} and its failure counted as a micro-batch's would be, or
     * a restore that throws would restart forever and one that hangs would go unseen.
     */
    private <T> T inUserCode(java.util.function.Supplier<T> code) {
        processingSinceMs = env.clock().get();
        interrupts.enteredUserCode();
        try {
            return inCodeLoader(code);
        } catch (RuntimeException | StackOverflowError e) {
            StoreFailedException failedStore = StoreFailedException.findIn(e);
            if (failedStore != null) {
                throw failedStore;
            }
            throw new UserCodeException(e);
        } finally {
            processingSinceMs = -1;
            interrupts.leftUserCode();
        }
    }

    /**
     * The node's failure behind a micro-batch's exception, to be thrown as such (the task restarts
     * from its last commit, nothing counted against its code), or null when it is the code's own.
     */
    private static RuntimeException nodeFailure(Throwable e, String sendFailed) {
        TaskOutput.OutputMovedException moved = TaskOutput.OutputMovedException.findIn(e);
        if (moved != null) {
            return moved;
        }
        TaskOutput.OutputFailedException failedSend = outputFailure(e);
        if (failedSend != null) {
            return new KafkaException(sendFailed, failedSend.getCause());
        }
        return StoreFailedException.findIn(e);
    }

    private static String anchorTopic(Task task) {
        return TaskPlacement.anchor(task.inputTopics());
    }

    /** Where the committed position says this task's exactly-once positions are anchored in its output, or null. */
    private AnchoredOutput.Anchor committedAnchor;
    /** Why results of this task cannot be committed in place (then it uses transactions), or null. */
    private String anchoredRefusal;
    /**
     * The partition whose leadership elsewhere is the only reason this task commits in
     * transactions (an output, or a changelog), or null: a leadership split for a while (a
     * fail-over that elected the task's input and its output apart, until the preferred leaders
     * come back together). Once this node leads it, the task goes back to committing in place.
     */
    private TopicPartition ledElsewhere;
    /** Set when an attempt in transactions ended because {@link #ledElsewhere} is led here now. */
    private boolean attemptInPlaceNext;

    /** The inputs' positions that were committed (not defaulted to the log start): where a source table's restore stops. */
    private final Map<TopicPartition, Long> committedInputs = new HashMap<>();
    /** This attempt's: the leader epoch of each changelog partition this node led when it restored it. */
    private final Map<TopicPartition, Integer> changelogLedAt = new HashMap<>();

    private Map<TopicPartition, Long> committedPositions(Map<TopicPartition, Long> at) {
        Map<TopicPartition, Long> limits = new HashMap<>(committedInputs);
        limits.keySet().retainAll(at.keySet());
        return limits;
    }

    private Map<TopicPartition, Long> openInputs(Task task, boolean readCommitted) throws Exception {
        for (String topic : task.inputTopics()) {
            TopicPartition tp = new TopicPartition(topic, id.partition());
            inputs.put(tp, openInput(tp, readCommitted, false));
        }
        Map<TopicPartition, OffsetAndMetadata> committed = positions.committed(inputs.keySet());
        Map<TopicPartition, Long> at = new HashMap<>();
        for (TaskInput input : inputs.values()) {
            OffsetAndMetadata position = committed.get(input.topicPartition());
            at.put(input.topicPartition(), position != null ? position.offset() : input.earliest());
            if (position != null) {
                committedInputs.put(input.topicPartition(), position.offset());
            } else {
                committedInputs.remove(input.topicPartition());
            }
        }
        committedAnchor = inputs.size() != 1 ? null
                : AnchoredOutput.Anchor.parse(committed.containsKey(inputs.keySet().iterator().next())
                        ? committed.get(inputs.keySet().iterator().next()).metadata() : null);
        long streamTime = Long.MIN_VALUE;
        for (OffsetAndMetadata position : committed.values()) {
            streamTime = Math.max(streamTime, PositionStore.streamTimeOf(position));
        }
        if (streamTime != Long.MIN_VALUE) {
            task.restoreStreamTime(streamTime);
        }
        return at;
    }

    /**
     * In place when this node holds a replica; for a restore only when it leads it (a follower's
     * copy may lack the last transaction the committed positions already count).
     */
    private TaskInput openInput(TopicPartition tp, boolean readCommitted, boolean mustBeCurrent) {
        Partition local = env.localPartition().apply(tp);
        if (local != null && (!mustBeCurrent || local.isLeader())) {
            return new LocalInput(local, readCommitted);
        }
        return new RemoteInput(tp, env.bootstrap(), readCommitted, settings.batchMaxBytes());
    }

    /**
     * Fills the task's stores from their changelogs, to their end as the leader has it now. A
     * source table (a store whose changelog is one of the task's inputs) stops at the committed
     * input position when there is one: the records past it are replayed as input, in the order
     * they were first processed with the stream, so a replayed join sees the table as it was
     * then, not its later values. Without a committed position (a first start) the whole table
     * is loaded before the first record is joined.
     */
    private void restore(Task task, boolean readCommitted, Map<TopicPartition, Long> committedInputs, StateCheckpoint checkpoint,
                         StandbyTask.Warm fromStandby) throws Exception {
        changelogLedAt.clear();
        if (task.changelogTopics().isEmpty()) {
            return;
        }
        long started = env.clock().get();
        long records = 0;
        for (Map.Entry<String, String> store : task.changelogTopics().entrySet()) {
            TopicPartition tp = new TopicPartition(store.getValue(), id.partition());
            try (TaskInput changelog = openInput(tp, readCommitted, true)) {
                if (changelog instanceof LocalInput local) {
                    awaitCaughtUpLeader(local.partition(), tp);
                    changelogLedAt.put(tp, local.partition().leaderEpoch());
                }
                long position = changelog.earliest();
                long end = changelog.end();
                Long committed = committedInputs.get(tp);
                if (committed != null) {
                    end = Math.min(end, committed);
                }
                if (checkpoint != null) {
                    // The kept stores hold everything below the checkpoint: only what follows is read.
                    Long from = checkpoint.changelogOffsets().get(StateCheckpoint.partitionKey(tp.topic(), tp.partition()));
                    if (from == null || from < position || from > end) {
                        throw new CheckpointUnusableException("its state checkpoint has " + tp + " at " + from + ", the changelog now runs "
                                + position + " to " + end);
                    }
                    position = from;
                }
                Long applied = fromStandby == null ? null : fromStandby.positions().get(store.getKey());
                if (applied != null) {
                    // The standby's stores hold everything below what it applied. It applied only what its
                    // replica knew to be committed, which a new leader's readable end can still trail until
                    // its followers report: that is waited for, briefly. (A source table's standby stopped
                    // at a committed position; one past the task's, moved back since, is of no use.)
                    long waitUntil = env.clock().get() + STANDBY_END_WAIT_MS;
                    while ((committed == null || applied <= committed) && applied > end && env.clock().get() < waitUntil && !stopped) {
                        Thread.sleep(20);
                        end = committed == null ? changelog.end() : Math.min(changelog.end(), committed);
                    }
                    if (applied < position || applied > end) {
                        throw new CheckpointUnusableException("its standby applied " + tp + " to " + applied + ", the changelog now runs "
                                + position + " to " + end);
                    }
                    position = applied;
                }
                List<InputRecord> chunk = new ArrayList<>();
                long progressedAt = env.clock().get();
                while (position < end) {
                    if (stopped) {
                        throw new InterruptedException("stopped while restoring");
                    }
                    if (env.clock().get() - progressedAt > RESTORE_STALL_MS) {
                        throw new java.util.concurrent.TimeoutException("restoring " + tp + " stopped at " + position + " of " + end
                                + ": nothing read for " + RESTORE_STALL_MS + " ms");
                    }
                    chunk.clear();
                    long next = changelog.poll(position, RESTORE_CHUNK, settings.batchMaxBytes(), chunk);
                    if (next != position) {
                        progressedAt = env.clock().get();
                    }
                    if (next == position) {
                        Thread.sleep(5); // a remote read still on its way
                        continue;
                    }
                    List<ChangelogRecord> entries = new ArrayList<>(chunk.size());
                    for (InputRecord r : chunk) {
                        if (r.offset() < end) { // a batch read whole may run past a source table's committed position
                            entries.add(r.asChange());
                        }
                    }
                    inUserCode(() -> {
                        task.restore(store.getKey(), entries);
                        return null;
                    });
                    records += entries.size();
                    position = next;
                }
            }
        }
        restores++;
        restoredRecords = records;
        standbyRecords = fromStandby == null ? 0 : fromStandby.records();
        lastRestoreMs = env.clock().get() - started;
        if (fromStandby != null) {
            log.info("task {} took over {} changelog records from its standby and restored {} more in {} ms", id, fromStandby.records(),
                    records, lastRestoreMs);
        } else {
            log.info("task {} restored {} changelog records in {} ms", id, records, lastRestoreMs);
        }
    }

    /**
     * Exactly-once without transactions where the task allows it: one input; stores only when this
     * node leads each changelog partition and no window closes by the wall clock (what it emits
     * comes without a micro-batch to carry its changes); and (found while it runs) every result
     * of a micro-batch for one partition this node leads.
     */
    private boolean anchorable(Task task, boolean exactlyOnce) {
        if (!exactlyOnce || !settings.inPlaceExactlyOnce() || anchoredRefusal != null || inputs.size() != 1) {
            return false;
        }
        ledElsewhere = null;
        if (task.changelogTopics().isEmpty()) {
            return true;
        }
        if (pipeline.windowCloseIdleMs() >= 0) {
            return false;
        }
        for (String topic : task.changelogTopics().values()) {
            TopicPartition tp = new TopicPartition(topic, id.partition());
            Partition changelog = env.localPartition().apply(tp);
            if (task.inputTopics().contains(topic) || changelog == null) {
                return false;
            }
            if (!changelog.isLeader()) {
                ledElsewhere = tp;
                return false;
            }
        }
        return true;
    }

    /**
     * {@code tp} when it is the task's own partition of its topic (co-located, led with the
     * input), else null: a re-keyed result for another partition is no leadership that comes back.
     */
    private TopicPartition ownPartition(TopicPartition tp) {
        return tp != null && tp.partition() == id.partition() ? tp : null;
    }

    /**
     * Exactly-once in transactions only because {@link #ledElsewhere} was led by another node,
     * which has just moved here: the caller ends the attempt after its commit, and the next one
     * commits in place.
     */
    private boolean ledHereAgain() {
        TopicPartition tp = ledElsewhere;
        if (tp == null || !settings.inPlaceExactlyOnce()) {
            return false;
        }
        Partition replica = env.localPartition().apply(tp);
        if (replica == null || !replica.isLeader()) {
            return false;
        }
        ledElsewhere = null;
        anchoredRefusal = null;
        return true;
    }

    /** A stateful task's micro-batch bound in place, halved when one micro-batch's results and changes did not fit a batch. */
    private int anchoredMaxRecords = Integer.MAX_VALUE;

    /** The attempt ends to start again at once from what is committed (its stores hold changes no batch committed). */
    static final class AttemptAgain extends Exception {
        AttemptAgain(String message) {
            super(message);
        }
    }

    /** Between micro-batches: waits while the task is held (see {@link #hold}), or until it is stopped. */
    private void waitWhileHeld() throws InterruptedException {
        waitWhileHeld(() -> false);
    }

    /** As above, and also while {@code notLedHere} holds (an input led elsewhere, or fenced a moment ago). */
    private void waitWhileHeld(java.util.function.BooleanSupplier notLedHere) throws InterruptedException {
        if (!holding && !notLedHere.getAsBoolean()) {
            return;
        }
        String before = state;
        state = "HELD";
        log.info("task {} holds: its node is not sure it still leads the task's partition", id);
        long lagMeasuredAt = 0;
        while ((holding || notLedHere.getAsBoolean()) && !stopped) {
            Thread.sleep(HOLD_CHECK_MS);
            // A held task processes nothing, so nothing else moves its lag: without this its reports
            // kept the lag it had when the hold began, 0 while records waited.
            long now = env.clock().get();
            if (lagPositions != null && now - lagMeasuredAt >= HELD_LAG_EVERY_MS) {
                lagMeasuredAt = now;
                updateLag(lagPositions);
            }
        }
        state = before;
        if (!stopped) {
            log.info("task {} goes on: its node leads the partition again", id);
        }
    }

    /**
     * A leader that has just taken over can have a high watermark below records the previous
     * leader acknowledged (its followers have not reported yet): a restore that stopped there
     * would leave committed store changes out, and processing would go on from the committed
     * position without them.
     */
    private void awaitCaughtUpLeader(Partition changelog, TopicPartition tp) throws Exception {
        long waitUntil = env.clock().get() + RESTORE_STALL_MS;
        while (changelog.isLeader() && !changelog.caughtUpToEpochStart()) {
            if (stopped) {
                throw new InterruptedException("stopped while waiting to restore");
            }
            if (env.clock().get() > waitUntil) {
                throw new java.util.concurrent.TimeoutException("restoring " + tp + ": its leader's high watermark has not reached"
                        + " what it held when it took over within " + RESTORE_STALL_MS + " ms");
            }
            awaitHighWatermark(changelog);
        }
    }

    /** Whether {@code replica} (null: an input read from elsewhere) is still led here at {@code epoch}. */
    static boolean leadsInputAt(Partition replica, int epoch) {
        return replica == null || (replica.isLeader() && replica.leaderEpoch() == epoch);
    }

    /** Whether {@code replica} is led here at an epoch later than {@code epoch}. */
    static boolean ledAtNewerEpoch(Partition replica, int epoch) {
        return replica != null && replica.isLeader() && replica.leaderEpoch() > epoch;
    }

    private String taskKey() {
        return id.pipeline() + "/" + id.subTopology() + "/" + id.partition();
    }

    /**
     * Exactly-once with each micro-batch's results and input position appended as one batch
     * ({@link AnchoredOutput}). Returns whether it stopped cleanly, or null when a result did not
     * fit that way: the position reached is then committed to the group, and the caller goes on
     * from it with a transaction per interval.
     */
    private Boolean processAnchored(Task task, Producer<byte[], byte[]> producer, Map<TopicPartition, Long> at) throws Exception {
        try {
            return processAnchoredBatches(task, producer, at);
        } finally {
            if (groupCommit != null) {
                // Leaving on a failure: the producer is not handed back while its transaction runs.
                try {
                    groupCommit.get(settings.requestTimeoutMs() * 2L, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof ProducerFencedException || e.getCause() instanceof InvalidProducerEpochException) {
                        // Fenced says more than the failure it ends with: a newer instance runs the task.
                        throw (RuntimeException) e.getCause();
                    }
                    log.info("task {}: its last group position commit did not complete ({})", id, e.getCause().toString());
                } catch (java.util.concurrent.TimeoutException e) {
                    log.info("task {}: its last group position commit did not complete in time", id);
                } finally {
                    groupCommit = null;
                }
            }
        }
    }

    private Boolean processAnchoredBatches(Task task, Producer<byte[], byte[]> producer, Map<TopicPartition, Long> at) throws Exception {
        TaskInput input = inputs.values().iterator().next();
        TopicPartition in = input.topicPartition();
        // Results go in place only while this node leads the input at the epoch this attempt began
        // under: a newer instance on the input's new leader reads the output's last position once,
        // when it starts, and a batch appended after that would be processed again from there.
        Partition inputReplica = input instanceof LocalInput local ? local.partition() : null;
        int inputEpoch = inputReplica == null ? -1 : inputReplica.leaderEpoch();
        // This attempt names its output partition in the group before its first batch, whatever an earlier one named.
        AnchoredOutput.Anchor anchor = null;
        Map<String, Integer> partitionCounts = new HashMap<>();
        boolean stateful = !task.changelogTopics().isEmpty();
        AnchoredOutput output = new AnchoredOutput(taskKey(), env.localPartition(),
                topic -> partitionCounts.computeIfAbsent(topic, t -> {
                    try {
                        return TaskInterrupts.shielded(() -> producer.partitionsFor(t)).size(); // looked up inside the pipeline's code
                    } catch (RuntimeException e) {
                        throw new TaskOutput.OutputFailedException(e);
                    }
                }), java.util.Set.copyOf(task.changelogTopics().values()),
                // The epoch this instance's initTransactions gave it: a newer instance's settle writes a
                // newer one to the output, after which these batches are refused (the instance is fenced).
                ProducerIdentity.of(producer));
        AppendRetry retry = appendRetry(() -> leadsInputAt(inputReplica, inputEpoch));
        // The changelogs are written in place once the batch carrying their changes is acknowledged.
        TaskOutput changelogs = stateful ? new TaskOutput(producer, env.localPartition(), new java.util.concurrent.atomic.LongAdder(),
                new java.util.concurrent.atomic.LongAdder(), TableWrites.NONE, retry) : null;
        List<InputRecord> batch = new ArrayList<>();
        int maxRecords = stateful ? Math.min(anchoredMaxRecords, settings.batchMaxRecords()) : settings.batchMaxRecords();
        boolean dirty = false;
        // The input position the output's batches have committed (with the stores' changes): the
        // group's position never passes it. Behind the read position only while changes are held.
        long carried = at.get(in);
        // The stream time at that position: a restart from it must not find records late that were not.
        long carriedStreamTime = task.stats().streamTimeMs();
        long lastCommitMs = env.clock().get();
        while (!stopped) {
            if (ledAtNewerEpoch(inputReplica, inputEpoch)) {
                // Still led here, under a newer epoch (a reassignment that kept the leader): the node
                // starts no new task for it, so this attempt makes way for one under the new epoch.
                throw new AttemptAgain("the input " + in + " is led here at a newer epoch than " + inputEpoch);
            }
            // An input led elsewhere, or fenced a moment ago, holds the task too: its node is about
            // to hold or stop it, and nothing may be read or appended under an epoch that ended.
            waitWhileHeld(() -> !leadsInputAt(inputReplica, inputEpoch) && !ledAtNewerEpoch(inputReplica, inputEpoch));
            if (stopped) {
                break; // stopped while held: nothing more is read or written
            }
            batch.clear();
            long position = at.get(in);
            long next;
            try {
                next = input.poll(position, maxRecords, settings.batchMaxBytes(), batch);
            } catch (PositionOutOfRangeException e) {
                log.warn("task {}: {}; going on from the log start", id, e.getMessage());
                next = e.logStartOffset;
            }
            long now = env.clock().get();
            if (!batch.isEmpty()) {
                output.begin(next);
                processingSinceMs = now;
                interrupts.enteredUserCode();
                long wallClockMs = now;
                try {
                    inCodeLoader(() -> {
                        task.process(batch, output, wallClockMs);
                        return null;
                    });
                } catch (RuntimeException | StackOverflowError e) {
                    RuntimeException ofTheNode = nodeFailure(e, "looking up an output topic failed");
                    if (ofTheNode != null) {
                        throw ofTheNode;
                    }
                    AnchoredOutput.NotAnchorable refused = AnchoredOutput.NotAnchorable.findIn(e);
                    if (refused == null) {
                        throw new UserCodeException(e);
                    }
                    if (stateful) {
                        // The stores already hold the micro-batch's changes: the task starts again from
                        // what its batches committed, with fewer records at a time or with transactions.
                        if (refused.fewerRecords && batch.size() > 1) {
                            anchoredMaxRecords = Math.max(1, batch.size() / 2);
                        } else {
                            anchoredRefusal = refused.getMessage();
                            ledElsewhere = ownPartition(refused.notLedHere);
                        }
                        throw new AttemptAgain(refused.getMessage());
                    }
                    if (refused.fewerRecords && batch.size() > 1) {
                        maxRecords = Math.max(1, batch.size() / 2); // nothing was appended: the same records again, fewer at a time
                        continue;
                    }
                    awaitGroupCommit();
                    commitInTransaction(producer, anchoredOffsets(in, position, task.stats().streamTimeMs(), anchor == null ? null : anchor.output()));
                    committed();
                    anchoredRefusal = refused.getMessage(); // only once committed: until then a restart settles the anchor first
                    ledElsewhere = ownPartition(refused.notLedHere);
                    log.info("task {}: {}; its results commit in transactions from now on", id, anchoredRefusal);
                    return null;
                } finally {
                    processingSinceMs = -1;
                    interrupts.leftUserCode();
                }
                if (!stateful) {
                    maxRecords = Math.min(settings.batchMaxRecords(), maxRecords * 2);
                }
                if (output.target() != null && (anchor == null || !anchor.output().equals(output.target()))) {
                    // The partition is named in the group before it holds any position: a restart knows where to look.
                    awaitGroupCommit();
                    commitInTransaction(producer, anchoredOffsets(in, carried, carriedStreamTime, output.target()));
                    anchor = committedAnchor;
                }
                int results = output.records();
                if (!leadsInputAt(inputReplica, inputEpoch)) {
                    // The input moved while the micro-batch ran: its results are not appended.
                    if (stateful || ledAtNewerEpoch(inputReplica, inputEpoch)) {
                        throw new AttemptAgain("the input " + in + " is no longer led here at epoch " + inputEpoch);
                    }
                    continue;
                }
                try {
                    // A passing failure (too few in-sync replicas, a timeout) is retried without a second
                    // batch of this position; a lost leadership throws OutputMovedException.
                    if (output.appendAcknowledged(retry, System.currentTimeMillis(), task.stats().streamTimeMs())) {
                        resultsInPlace.add(results);
                        if (error.startsWith(RETRYING)) {
                            error = ""; // past it: the group commit that clears a failure may be a while away here
                        }
                        if (stateful) {
                            // The changelogs' writer shares the producer: no send beside an open group commit.
                            awaitGroupCommit();
                            writeChangelogs(changelogs, output.delta());
                        }
                        carried = next;
                        carriedStreamTime = task.stats().streamTimeMs();
                    } else if (!output.holdsState()) {
                        carried = next; // nothing to carry: no result, no change
                        carriedStreamTime = task.stats().streamTimeMs();
                    }
                } catch (TaskOutput.LocalAppendException e) {
                    throw new KafkaException("a result was not acknowledged; the task goes back to its last position", e);
                }
                processed += batch.size();
                long done = env.clock().get();
                for (InputRecord r : batch) {
                    latency.recordValue(Math.min(Math.max(0, (done - r.timestamp()) * 1000), TimeUnit.MINUTES.toMicros(10)));
                }
            }
            if (next != position) {
                at.put(in, next);
                dirty = true;
                if (batch.isEmpty() && !output.holdsState()) {
                    carried = next; // records skipped (a transaction's marker, aborted records)
                    carriedStreamTime = task.stats().streamTimeMs();
                }
            }
            updateLag(at);
            now = env.clock().get();
            if (groupCommit != null && groupCommit.isDone()) {
                awaitGroupCommit();
            }
            if (dirty && groupCommit == null && now - lastCommitMs >= Math.max(settings.commitIntervalMs(), ANCHORED_GROUP_COMMIT_MS)) {
                // The group's position is a hint for a restart (the output holds the real one): its
                // transaction goes on another thread while this one goes on with micro-batches.
                Map<TopicPartition, OffsetAndMetadata> offsets = anchoredOffsets(in, carried, carriedStreamTime, anchor == null ? null : anchor.output());
                groupCommit = java.util.concurrent.CompletableFuture.runAsync(() -> commitInTransaction(producer, offsets), GROUP_COMMITTERS);
                dirty = false;
                lastCommitMs = now;
            }
            if (batch.isEmpty()) {
                long untilCommit = dirty ? Math.max(1, Math.max(settings.commitIntervalMs(), ANCHORED_GROUP_COMMIT_MS) - (now - lastCommitMs))
                        : settings.idleWaitMs();
                if (groupCommit != null) {
                    untilCommit = Math.min(untilCommit, COMMIT_IN_FLIGHT_POLL_MS);
                }
                awaitInput(inputs.values(), at, Math.min(untilCommit, settings.idleWaitMs()));
            }
        }
        awaitGroupCommit();
        if (dirty) {
            Partition out = anchor == null ? null : env.localPartition().apply(anchor.output());
            if (anchor != null && (out == null || !out.servesAsLeader())) {
                return false; // gone elsewhere with the output: the next instance settles from the output itself
            }
            commitInTransaction(producer, anchoredOffsets(in, carried, carriedStreamTime, anchor == null ? null : anchor.output()));
        }
        // Stores holding changes no batch committed are not kept: the next start rebuilds them.
        return !output.holdsState();
    }

    /**
     * Writes the changes a batch just committed to the stores' changelogs, in place, and returns
     * once they are acknowledged: until then the group's anchor may not move past that batch.
     */
    private void writeChangelogs(TaskOutput changelogs, StateDelta delta) throws Exception {
        for (Map.Entry<String, List<StateDelta.Change>> topic : delta.changes().entrySet()) {
            TopicPartition tp = new TopicPartition(topic.getKey(), id.partition());
            Partition changelog = env.localPartition().apply(tp);
            if (changelog == null || !changelog.isLeader()) {
                throw new TaskOutput.OutputMovedException("the changelog partition " + tp + " is no longer led by this node");
            }
            for (StateDelta.Change c : topic.getValue()) {
                changelogs.send(tp.topic(), tp.partition(), c.key(), c.value(), c.timestamp());
            }
        }
        delta.clear();
        changelogs.flush();
        Exception failed = changelogs.takeFailure();
        if (failed != null) {
            throw new KafkaException("a changelog write was not acknowledged; the task starts again from its output", failed);
        }
    }

    /**
     * Commits positions in a transaction of their own on the task's producer, which the task's
     * next instance fenced when it started: an instance that lost its task (a hand-over it has not
     * heard of) cannot move the group's position back, nor point a restart's scan past the new
     * instance's batches.
     */
    /**
     * Exactly-once in place, the group position's transaction in flight, if any (task thread only).
     * One at a time: the producer runs one transaction at a time.
     */
    private java.util.concurrent.CompletableFuture<Void> groupCommit;

    /** Where the group positions' transactions of tasks exactly-once in place run: a virtual thread each, about once a second per task. */
    private static final java.util.concurrent.ExecutorService GROUP_COMMITTERS =
            java.util.concurrent.Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("spate-group-commit-", 0).factory());

    /** The group commit in flight, waited for: counted, or thrown as the synchronous commit would have thrown it. */
    private void awaitGroupCommit() {
        if (groupCommit != null) {
            try {
                groupCommit.join();
            } catch (java.util.concurrent.CompletionException e) {
                groupCommit = null;
                if (e.getCause() instanceof RuntimeException failure) {
                    throw failure;
                }
                throw e;
            }
            groupCommit = null;
            committed();
        }
    }

    private void commitInTransaction(Producer<byte[], byte[]> producer, Map<TopicPartition, OffsetAndMetadata> offsets) {
        producer.beginTransaction();
        producer.sendOffsetsToTransaction(offsets, new ConsumerGroupMetadata(PipelineNames.group(id.pipeline())));
        producer.commitTransaction();
    }

    /**
     * Takes over the exactly-once positions an earlier instance anchored in its output (see
     * {@link AnchoredOutput}): the last one recorded after the group's, found in the output's log
     * in place when this node leads it, else read from its leader once an aborted write has made
     * everything before it decided. Done whichever way this attempt then commits.
     */
    private void settleAnchor(Task task, Producer<byte[], byte[]> producer, Map<TopicPartition, Long> at) throws Exception {
        AnchoredOutput.Anchor anchor = committedAnchor;
        TopicPartition in = inputs.keySet().iterator().next();
        Partition out = env.localPartition().apply(anchor.output());
        long last;
        List<StateDelta.Decoded> changes = new ArrayList<>();
        if (out != null && out.servesAsLeader()) {
            AnchoredOutput.Found found = AnchoredOutput.lastPosition(out, anchor.scanFrom(), taskKey(), () -> stopped, changes::add);
            if (found == null) {
                return;
            }
            // Found past the high watermark: appended here, its replication unconfirmed. Going on from it
            // is safe only once it is committed (a leader that took over without it would lose it).
            long deadline = env.clock().get() + TaskOutput.REPLICATION_WAIT_MS;
            while (out.readLimit(io.spate.replication.ReadBound.HIGH_WATERMARK) < found.batchEnd()) {
                if (stopped || !out.servesAsLeader() || env.clock().get() > deadline) {
                    throw new KafkaException("the batch holding this task's last position in " + anchor.output()
                            + " is not yet replicated; settling again");
                }
                awaitHighWatermark(out);
            }
            last = found.position();
        } else {
            last = remoteLastPosition(producer, anchor, changes::add);
        }
        applyChanges(task, producer, changes);
        if (last > at.get(in)) {
            log.info("task {} resumes at {} of {}, the position its last result in {} records (the group's is {})", id, last, in,
                    anchor.output(), at.get(in));
            at.put(in, last);
        }
    }

    /**
     * Applies the store changes the output holds past the anchor, after the changelogs' (which may
     * lack the last of them: they are written once their batch is acknowledged), and writes them to
     * the changelogs again, in a transaction: whichever way the task then commits, its changelogs
     * hold every change its committed results reflect. Values are a key's latest, so a change
     * applied or written twice, in order, leaves the same state.
     */
    private void applyChanges(Task task, Producer<byte[], byte[]> producer, List<StateDelta.Decoded> changes) {
        if (changes.isEmpty()) {
            return;
        }
        Map<String, String> storeOf = new HashMap<>();
        task.changelogTopics().forEach((store, topic) -> storeOf.put(topic, store));
        long streamTime = Long.MIN_VALUE;
        long count = 0;
        for (StateDelta.Decoded decoded : changes) {
            streamTime = Math.max(streamTime, decoded.streamTimeMs());
            for (Map.Entry<String, List<StateDelta.Change>> topic : decoded.changes().entrySet()) {
                String store = storeOf.get(topic.getKey());
                if (store == null) {
                    throw new IllegalStateException("task " + id + "'s output carries changes for " + topic.getKey()
                            + ", not the changelog of one of its stores " + task.changelogTopics());
                }
                List<ChangelogRecord> records = new ArrayList<>(topic.getValue().size());
                for (StateDelta.Change c : topic.getValue()) {
                    records.add(new ChangelogRecord(c.key(), c.value(), c.timestamp()));
                }
                inUserCode(() -> {
                    task.restore(store, records);
                    return null;
                });
                count += records.size();
            }
        }
        task.restoreStreamTime(streamTime);
        producer.beginTransaction();
        for (StateDelta.Decoded decoded : changes) {
            for (Map.Entry<String, List<StateDelta.Change>> topic : decoded.changes().entrySet()) {
                for (StateDelta.Change c : topic.getValue()) {
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic.getKey(), id.partition(), c.timestamp(),
                            c.key(), c.value()));
                }
            }
        }
        producer.commitTransaction();
        restoredRecords += count;
        log.info("task {} applied {} store changes its output holds past its anchor", id, count);
    }

    private void awaitHighWatermark(Partition out) throws InterruptedException {
        long hw = out.readLimit(io.spate.replication.ReadBound.HIGH_WATERMARK);
        java.util.concurrent.CompletableFuture<Void> moved = env.parkedReads()
                .parkUntilWoken(List.of(new ParkedReads.Position(out, hw)), io.spate.replication.ReadBound.HIGH_WATERMARK, 1);
        try {
            moved.get(100, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // looked at again either way
        } finally {
            moved.complete(null);
        }
    }

    /**
     * The output partition is led by another node: a write to it in a transaction, aborted (never
     * read_committed), is acknowledged only once everything before it is committed there, so that
     * reading up to its end then sees every batch of this task that will ever be readable.
     */
    private long remoteLastPosition(Producer<byte[], byte[]> producer, AnchoredOutput.Anchor anchor,
                                    java.util.function.Consumer<StateDelta.Decoded> states) throws Exception {
        TopicPartition tp = anchor.output();
        producer.beginTransaction();
        try {
            // Keyed (by the task), as a compacted output (one anchored before it was compacted) takes
            // no record without a key: the settle would fail at every start (found by a review).
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(tp.topic(), tp.partition(), null,
                    taskKey().getBytes(java.nio.charset.StandardCharsets.UTF_8), null, List.of(new org.apache.kafka.common.header.internals.RecordHeader("spate.settle", taskKey().getBytes(
                            java.nio.charset.StandardCharsets.UTF_8))))).get(TaskOutput.REPLICATION_WAIT_MS, TimeUnit.MILLISECONDS);
        } finally {
            producer.abortTransaction();
        }
        Map<String, Object> config = new HashMap<>();
        config.put(org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, env.bootstrap());
        config.put(org.apache.kafka.clients.consumer.ConsumerConfig.CLIENT_ID_CONFIG, "spate-task-settle-" + id);
        config.put(org.apache.kafka.clients.consumer.ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(org.apache.kafka.clients.consumer.ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        config.put(org.apache.kafka.clients.consumer.ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(config,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            consumer.assign(List.of(tp));
            long end = consumer.endOffsets(List.of(tp), java.time.Duration.ofSeconds(30)).get(tp);
            long start = Math.max(anchor.scanFrom(), consumer.beginningOffsets(List.of(tp), java.time.Duration.ofSeconds(30)).get(tp));
            consumer.seek(tp, start);
            long last = -1;
            long deadline = env.clock().get() + RESTORE_STALL_MS;
            while (consumer.position(tp, java.time.Duration.ofSeconds(30)) < end) {
                if (stopped || env.clock().get() > deadline) {
                    throw new KafkaException("reading this task's last position from " + tp + " did not finish");
                }
                for (var record : consumer.poll(java.time.Duration.ofMillis(200))) {
                    var header = record.headers().lastHeader(AnchoredOutput.POSITION_HEADER);
                    if (header != null) {
                        long position = AnchoredOutput.positionIn(header.key(), header.value(), taskKey());
                        if (position >= 0) {
                            last = position;
                        }
                    }
                    var state = record.headers().lastHeader(StateDelta.HEADER);
                    StateDelta.Decoded decoded = state == null ? null : StateDelta.decode(state.value(), taskKey());
                    if (decoded != null) {
                        states.accept(decoded);
                    }
                }
            }
            return last;
        }
    }

    /**
     * The group position {@code offset} of input {@code in}, with the output partition the task's
     * later positions will be in and the offset from which to look for them: its end now (every
     * batch appended so far is acknowledged).
     */
    private Map<TopicPartition, OffsetAndMetadata> anchoredOffsets(TopicPartition in, long offset, long streamTimeMs, TopicPartition output) {
        AnchoredOutput.Anchor anchor = null;
        if (output != null) {
            Partition out = env.localPartition().apply(output);
            if (out == null || !out.servesAsLeader()) {
                throw new TaskOutput.OutputMovedException("the output partition " + output + " is no longer led by this node");
            }
            // The high watermark, not the log's end: at most where this task's next batch can land on
            // whichever replica leads next (every batch of this task so far is acknowledged, below it).
            anchor = new AnchoredOutput.Anchor(output, out.readLimit(io.spate.replication.ReadBound.HIGH_WATERMARK));
        }
        committedAnchor = anchor;
        return Map.of(in, new OffsetAndMetadata(offset, PositionStore.metadata(streamTimeMs, anchor)));
    }

    /** Runs micro-batches until stopped; true when it stopped cleanly, everything processed committed. */
    private boolean process(Task task, Producer<byte[], byte[]> producer, boolean exactlyOnce, Map<TopicPartition, Long> at) throws Exception {
        // At-least-once, results for partitions this node leads are appended in place.
        TaskOutput output = new TaskOutput(producer, exactlyOnce ? null : env.localPartition(), resultsInPlace, resultsSent, env.tables(),
                appendRetry(), !exactlyOnce && !task.changelogTopics().isEmpty());
        ConsumerGroupMetadata group = new ConsumerGroupMetadata(PipelineNames.group(id.pipeline()));
        List<InputRecord> batch = new ArrayList<>();
        long[] pendingStamps = new long[1024];
        int pending = 0;
        boolean inTransaction = false;
        boolean dirty = false;
        // This attempt's own: a commit marked by a failed attempt is never made by the next one.
        DeferredCommit deferredCommit = null;
        long lastCommitMs = env.clock().get();
        boolean merging = inputs.size() > 1;
        List<List<InputRecord>> parts = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            parts.add(new ArrayList<>());
        }
        boolean[] more = new boolean[inputs.size()];
        long[] polledTo = new long[inputs.size()];
        boolean[] readSome = new boolean[inputs.size()];
        boolean[] caughtUp = new boolean[inputs.size()];
        boolean[] waitFor = new boolean[inputs.size()];
        InputReadiness readiness = new InputReadiness(inputs.size(), settings.maxTaskIdleMs());
        while (!stopped) {
            waitWhileHeld();
            if (stopped) {
                break;
            }
            batch.clear();
            int room = settings.batchMaxRecords();
            int part = 0;
            for (TaskInput input : inputs.values()) {
                TopicPartition tp = input.topicPartition();
                long position = at.get(tp);
                List<InputRecord> into = merging ? parts.get(part) : batch;
                into.clear();
                long next;
                try {
                    // Several inputs (a join): each may bring up to the limit, so that a busy stream
                    // does not hold its table's updates back to a later micro-batch.
                    next = input.poll(position, room, settings.batchMaxBytes(), into);
                } catch (PositionOutOfRangeException e) {
                    log.warn("task {}: {}; going on from the log start", id, e.getMessage());
                    next = e.logStartOffset;
                }
                if (merging) {
                    // Its position moves once the merge says how much of what it read is processed.
                    more[part] = !into.isEmpty() && input.lag(next) > 0;
                    readSome[part] = !into.isEmpty();
                    caughtUp[part] = !readSome[part] && input.caughtUp(next);
                    polledTo[part++] = next;
                    continue;
                }
                if (next != position) {
                    at.put(tp, next);
                    dirty = true;
                }
                room = settings.batchMaxRecords() - batch.size();
                if (room <= 0) {
                    break;
                }
            }
            long readAtMs = env.clock().get();
            List<TaskInput> waitingFor = merging && readiness.waitFor(readSome, caughtUp, readAtMs, waitFor) ? waitedFor(waitFor) : List.of();
            if (merging) {
                // While an input holds the others back, nothing is merged: positions stay, and what was read is read again.
                int[] taken = waitingFor.isEmpty() ? mergeByTimestamp(parts, more, batch) : new int[parts.size()];
                part = 0;
                for (TaskInput input : inputs.values()) {
                    List<InputRecord> read = parts.get(part);
                    // Records read but not merged are read again by the next micro-batch (in place: a read of the page cache).
                    long next = taken[part] < read.size() ? read.get(taken[part]).offset() : polledTo[part];
                    part++;
                    if (next != at.get(input.topicPartition())) {
                        at.put(input.topicPartition(), next);
                        dirty = true;
                    }
                }
            }
            long now = env.clock().get();
            // window.close.idle.ms: inputs that brought nothing (none held back for max.task.idle.ms)
            // let the wall clock move stream time once the task's deadline has passed, closing the
            // windows due by then; their results are sent and committed like any others.
            boolean wallClockDue = batch.isEmpty() && waitingFor.isEmpty() && now >= task.wallClockDeadlineMs();
            if (!batch.isEmpty() || wallClockDue) {
                if (exactlyOnce && !inTransaction) {
                    producer.beginTransaction();
                    inTransaction = true;
                }
                processingSinceMs = now;
                interrupts.enteredUserCode();
                long wallClockMs = now;
                try {
                    inCodeLoader(() -> {
                        if (wallClockDue) {
                            task.advanceWallClock(wallClockMs, output);
                        } else {
                            task.process(batch, output, wallClockMs);
                        }
                        return null;
                    });
                } catch (RuntimeException | StackOverflowError e) {
                    RuntimeException ofTheNode = nodeFailure(e, "sending a result failed");
                    if (ofTheNode != null) {
                        throw ofTheNode;
                    }
                    throw new UserCodeException(e);
                } finally {
                    processingSinceMs = -1;
                    interrupts.leftUserCode();
                }
                // The node's own append, outside the pipeline's code: its time is not the code's to
                // be abandoned for, nor its failure counted against the code.
                output.appendBuffered();
                processed += batch.size();
                if (wallClockDue) {
                    // Stream time moved (it goes into the committed metadata) and, exactly-once, a
                    // transaction is open: both are committed at the next interval.
                    dirty = true;
                }
                if (pending + batch.size() > pendingStamps.length) {
                    pendingStamps = java.util.Arrays.copyOf(pendingStamps, Math.max(pendingStamps.length * 2, pending + batch.size()));
                }
                for (InputRecord r : batch) {
                    pendingStamps[pending++] = r.timestamp();
                }
                if (!exactlyOnce) {
                    // At-least-once results are readable once acknowledged, moments after they are sent: measured at the send.
                    recordLatencies(pendingStamps, pending, env.clock().get());
                    pending = 0;
                }
            }
            updateLag(at);
            now = env.clock().get();
            if (commitInFlight != null && commitInFlight.isDone()) {
                settleCommit();
            }
            if (dirty && now - lastCommitMs >= settings.commitIntervalMs() && commitInFlight == null && deferredCommit == null) {
                Map<TopicPartition, OffsetAndMetadata> offsets = offsets(at, task.stats().streamTimeMs());
                if (exactlyOnce) {
                    if (!inTransaction) {
                        producer.beginTransaction();
                    }
                    // Table writes are not in the transaction: acknowledged before it commits the positions past them.
                    output.awaitTableWrites();
                    checkSends(output);
                    producer.sendOffsetsToTransaction(offsets, group);
                    producer.commitTransaction();
                    committed();
                    inTransaction = false;
                    checkSends(output);
                    recordLatencies(pendingStamps, pending, env.clock().get());
                    pending = 0;
                } else {
                    long mark = output.inPlaceMark();
                    if (mark >= 0) {
                        // Committed once the results appended so far are acknowledged, looked at
                        // between micro-batches below: no wait for a replication round here.
                        deferredCommit = new DeferredCommit(mark, offsets);
                    } else {
                        output.flush();
                        checkSends(output);
                        // What the flush acknowledged is committed on the store's thread while this one goes on.
                        commitInFlight = positions.commitAsync(offsets);
                    }
                }
                lateRecords = task.stats().lateRecordsDropped();
                dirty = false;
                lastCommitMs = now;
            }
            if (exactlyOnce && !inTransaction && !dirty && ledHereAgain()) {
                // Everything is committed: the attempt ends cleanly (stores kept on disk) and the next one commits in place.
                attemptInPlaceNext = true;
                break;
            }
            if (deferredCommit != null && commitInFlight == null && output.acknowledgedUpTo(deferredCommit.mark())) {
                // The store deletions held behind the acknowledged results go now, and are
                // acknowledged before the position passes their inputs.
                long heldMark = output.releaseHeldAtMark();
                if (heldMark >= 0) {
                    deferredCommit = new DeferredCommit(heldMark, deferredCommit.offsets());
                } else {
                    checkSends(output);
                    commitInFlight = positions.commitAsync(deferredCommit.offsets());
                    deferredCommit = null;
                }
            }
            if (batch.isEmpty()) {
                long untilCommit = dirty ? Math.max(commitInFlight == null ? 1 : COMMIT_IN_FLIGHT_POLL_MS, settings.commitIntervalMs() - (now - lastCommitMs))
                        : settings.idleWaitMs();
                if (deferredCommit != null) {
                    untilCommit = Math.min(untilCommit, COMMIT_IN_FLIGHT_POLL_MS);
                }
                long wait = Math.min(untilCommit, settings.idleWaitMs());
                // Woken when the wall clock next closes a window (window.close.idle.ms), not only by input.
                long deadline = task.wallClockDeadlineMs();
                wait = deadline <= now ? 1 : Math.min(wait, deadline - now);
                if (waitingFor.isEmpty()) {
                    awaitInput(inputs.values(), at, wait);
                } else {
                    awaitInput(waitingFor, at, Math.min(wait, readiness.untilNextDeadline(waitFor, now)));
                }
            }
        }
        if (deferredCommit != null) {
            deferredCommit = null;
            dirty = true; // the commit below covers it, from where the task is
        }
        if (!exactlyOnce && commitInFlight != null) {
            if (awaitCommitInFlight()) {
                committed();
            } else {
                dirty = true; // committed again below, from where the task is
            }
        }
        if (!exactlyOnce && dirty) {
            // A clean hand-over: what was acknowledged is committed, so the next owner repeats nothing.
            output.flush();
            if (output.takeFailure() != null) {
                return false;
            }
            positions.commit(offsets(at, task.stats().streamTimeMs()));
        }
        if (exactlyOnce && dirty) {
            // Committing the open transaction keeps what was processed, and lets the stores be kept.
            try {
                if (!inTransaction) {
                    producer.beginTransaction();
                }
                output.awaitTableWrites();
                checkSends(output);
                producer.sendOffsetsToTransaction(offsets(at, task.stats().streamTimeMs()), group);
                producer.commitTransaction();
                checkSends(output);
            } catch (RuntimeException e) {
                log.info("task {}: its last transaction did not commit at the stop ({}); the next owner repeats it", id, e.toString());
                return false;
            }
        }
        return true;
    }

    /**
     * Merges the inputs' records, each input's in its log order, by timestamp (the lowest head
     * first; on a tie the input named first): a table update stamped before a stream record is
     * applied before that record is joined, whichever topic the micro-batch read first.
     *
     * <p>An input with {@code more[i]} has records past what it read: the merge stops as soon as
     * all of its read records are taken, since its next record, unseen, may be older than the
     * other inputs' remaining heads (Kafka Streams likewise picks only while every partition's
     * buffer holds a record, and does not wait for one that is caught up: its default
     * {@code max.task.idle.ms} of 0). Returns how many records of each input were taken; the rest
     * are read again by the next micro-batch.
     */
    static int[] mergeByTimestamp(List<List<InputRecord>> parts, boolean[] more, List<InputRecord> into) {
        int[] heads = new int[parts.size()];
        while (true) {
            int pick = -1;
            long lowest = Long.MAX_VALUE;
            for (int i = 0; i < parts.size(); i++) {
                List<InputRecord> part = parts.get(i);
                if (heads[i] < part.size()) {
                    long ts = part.get(heads[i]).timestamp();
                    if (pick < 0 || ts < lowest) {
                        pick = i;
                        lowest = ts;
                    }
                } else if (more[i]) {
                    return heads;
                }
            }
            if (pick < 0) {
                return heads;
            }
            into.add(parts.get(pick).get(heads[pick]++));
        }
    }

    private static TaskOutput.OutputFailedException outputFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TaskOutput.OutputFailedException failed) {
                return failed;
            }
        }
        return null;
    }

    /**
     * Retries this task's appends in place that fail for a passing reason, for up to the
     * pipeline's {@code delivery.timeout.ms}; its status says why meanwhile.
     */
    private AppendRetry appendRetry() {
        return appendRetry(() -> true);
    }

    /** As above, appending again only while {@code inputLed}: see {@link AppendRetry}. */
    private AppendRetry appendRetry(BooleanSupplier inputLed) {
        return new AppendRetry(() -> env.clock().get(), Thread::sleep, settings.deliveryTimeoutMs(), settings.requestTimeoutMs(),
                () -> stopped, inputLed, why -> {
                    String text = RETRYING + why;
                    if (!text.equals(error)) {
                        log.info("task {}: {}", id, text);
                        error = text;
                    }
                });
    }

    /**
     * An at-least-once commit handed to the position store and not yet known done (task thread
     * only): at most one at a time, so a slow group coordinator delays the next commit, never the
     * task's micro-batches.
     */
    private java.util.concurrent.CompletableFuture<Void> commitInFlight;
    /** How often an idle task looks whether its commit in flight is done, so that the next one can go. */
    private static final long COMMIT_IN_FLIGHT_POLL_MS = 5;

    /** An at-least-once commit due: its positions, committed once the appends in place before {@code mark} are acknowledged. */
    private record DeferredCommit(long mark, Map<TopicPartition, OffsetAndMetadata> offsets) {
    }


    /** The finished commit in flight: counted, or thrown as the synchronous commit would have thrown it. */
    private void settleCommit() {
        java.util.concurrent.CompletableFuture<Void> done = commitInFlight;
        commitInFlight = null;
        try {
            done.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            throw e;
        }
        committed();
    }

    /**
     * Waits for the commit in flight, if any: true when one was in flight and landed. Before the
     * next attempt reads the committed positions the last attempt's commit ends (its failure does
     * not matter there: the next attempt goes on from what is committed); at a clean stop a
     * failed one is committed again from where the task stopped.
     */
    private boolean awaitCommitInFlight() {
        java.util.concurrent.CompletableFuture<Void> pending = commitInFlight;
        commitInFlight = null;
        if (pending == null) {
            return false;
        }
        try {
            pending.get(PositionStore.COMMIT_TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.debug("task {}: its last commit did not complete: {}", id, e.toString());
        }
        return false;
    }

    /** The last failure stays in the task's status until a commit shows the task past it. */
    private void committed() {
        commits++;
        if (!error.isEmpty()) {
            error = "";
        }
    }

    /** A failure and its causes, each message once: what an operator reads in {@code describe}. */
    static String causes(Throwable e) {
        StringBuilder text = new StringBuilder(e.toString());
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        seen.add(e);
        for (Throwable c = e.getCause(); c != null && seen.add(c); c = c.getCause()) {
            String message = c.getMessage();
            if (message != null && !text.toString().contains(message)) {
                text.append(": ").append(message);
            }
        }
        return text.toString();
    }

    private void checkSends(TaskOutput output) {
        Exception failed = output.takeFailure();
        if (failed instanceof TaskOutput.OutputMovedException moved) {
            throw moved;
        }
        if (failed != null) {
            throw new KafkaException("a result was not acknowledged; the task goes back to its last commit", failed);
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> offsets(Map<TopicPartition, Long> at, long streamTimeMs) {
        String metadata = PositionStore.streamTimeMetadata(streamTimeMs);
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        at.forEach((tp, offset) -> offsets.put(tp, new OffsetAndMetadata(offset, metadata)));
        return offsets;
    }

    private void recordLatencies(long[] stamps, int count, long nowMs) {
        for (int i = 0; i < count; i++) {
            long micros = Math.max(0, (nowMs - stamps[i]) * 1000);
            latency.recordValue(Math.min(micros, TimeUnit.MINUTES.toMicros(10)));
        }
    }

    private void updateLag(Map<TopicPartition, Long> at) {
        lagPositions = at;
        long lag = 0;
        for (TaskInput input : inputs.values()) {
            Long position = at.get(input.topicPartition());
            if (position != null) {
                lag += input.lag(position);
            }
        }
        inputLag = lag;
    }

    /** The positions the lag was last measured from: a held task measures again from them while records arrive. */
    private Map<TopicPartition, Long> lagPositions;

    /** The inputs {@code waitFor} marks, in the task's order of inputs. */
    private List<TaskInput> waitedFor(boolean[] waitFor) {
        List<TaskInput> which = new ArrayList<>();
        int i = 0;
        for (TaskInput input : inputs.values()) {
            if (waitFor[i++]) {
                which.add(input);
            }
        }
        return which;
    }

    /** Waits until one of {@code which} (those read in place) grows, at most {@code maxWaitMs}. */
    private void awaitInput(java.util.Collection<TaskInput> which, Map<TopicPartition, Long> at, long maxWaitMs) throws InterruptedException {
        List<ParkedReads.Position> local = new ArrayList<>();
        io.spate.replication.ReadBound bound = null;
        boolean remote = false;
        for (TaskInput input : which) {
            if (input instanceof LocalInput l) {
                local.add(new ParkedReads.Position(l.partition(), at.get(input.topicPartition())));
                bound = l.bound();
            } else {
                remote = true;
            }
        }
        if (remote || local.isEmpty()) {
            // A remote input waits in its consumer's own poll.
            return;
        }
        // The task's own thread keeps the deadline: a timer on the node's scheduler would wake
        // that thread at every one of these waits (a few hundred a second per task under load).
        java.util.concurrent.CompletableFuture<Void> woken = env.parkedReads().parkUntilWoken(local, bound, 1);
        try {
            woken.get(maxWaitMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // looked at again either way
        } finally {
            woken.complete(null); // withdraws the wait when it timed out
        }
    }

    private void closeInputs() {
        for (TaskInput input : inputs.values()) {
            try {
                input.close();
            } catch (RuntimeException ignored) {
                // closing a consumer that failed
            }
        }
        inputs.clear();
    }

    /** This task's report now, with the rate and latencies since the last one. */
    TaskStatus report(long nowMs) {
        Histogram interval = latency.getIntervalHistogram();
        long done = processed;
        double seconds = Math.max(0.001, (nowMs - reportedAtMs) / 1000.0);
        double rate = (done - reportedProcessed) / seconds;
        reportedProcessed = done;
        reportedAtMs = nowMs;
        boolean none = interval.getTotalCount() == 0;
        return new TaskStatus(id.pipeline(), id.subTopology(), id.partition(), env.nodeId(), state, generation, done, inputLag, rate,
                none ? 0 : interval.getValueAtPercentile(50), none ? 0 : interval.getValueAtPercentile(99),
                none ? 0 : interval.getValueAtPercentile(99.9), lateRecords, restores, lastRestoreMs, restoredRecords, failures, error, nowMs,
                resultsInPlace.sum(), resultsSent.sum(), standbyRecords);
    }

    private void closeQuietly(StandbyTask.Warm unused) {
        try {
            try {
                inCodeLoader(() -> {
                    unused.task().close();
                    return null;
                });
            } finally {
                interrupts.leftUserCode();
                if (unused.onDisk() != null) {
                    unused.onDisk().close(); // not kept: its directory goes
                }
            }
        } catch (RuntimeException e) {
            log.warn("task {}: closing the stores taken from its standby failed", id, e);
        }
    }
}
