package io.spate.processing;

import io.spate.replication.ParkedReads;
import io.spate.stream.engine.ChangelogRecord;
import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.engine.InputRecord;
import io.spate.stream.engine.Task;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one task on a thread of its own: restores its stores, then takes micro-batches from its
 * input partitions (read in place when this node holds them), hands them to the engine, sends
 * the results and commits its positions every commit interval. Any failure restarts it from its
 * last commit; a failure of the pipeline's own code three times running fails it for good (until
 * the pipeline is resumed or redeployed), and the node goes on serving.
 */
final class TaskRunner implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);
    private static final int RESTORE_CHUNK = 10_000;
    private static final int USER_FAILURES_BEFORE_GIVING_UP = 3;

    private final TaskId id;
    private final long generation;
    private final CompiledPipeline pipeline;
    private final PipelineSettings settings;
    private final TaskEnvironment env;
    private final PositionStore positions;
    private final Thread thread;
    private final Recorder latency = new Recorder(TimeUnit.MINUTES.toMicros(10), 2);
    private volatile boolean stopped;
    private volatile String state = "STARTING";
    private volatile String error = "";
    private volatile long processingSinceMs = -1;
    private volatile long processed;
    private volatile long lateRecords;
    private volatile long inputLag;
    private volatile int restores;
    private volatile long lastRestoreMs = -1;
    private volatile long restoredRecords;
    private volatile int failures;
    private final Map<TopicPartition, TaskInput> inputs = new LinkedHashMap<>();
    private long reportedProcessed;
    private long reportedAtMs;

    TaskRunner(TaskId id, long generation, CompiledPipeline pipeline, PipelineSettings settings, TaskEnvironment env, PositionStore positions) {
        this.id = id;
        this.generation = generation;
        this.pipeline = pipeline;
        this.settings = settings;
        this.env = env;
        this.positions = positions;
        this.thread = Thread.ofPlatform().daemon().name("spate-task-" + id).unstarted(this);
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

    /** Asks the task to stop after its current micro-batch (it commits nothing more at-least-once past what it acknowledged). */
    void stop() {
        // No interrupt: a task blocked in its client would lose the hand-over commit; an idle one
        // wakes within idle.wait.ms.
        stopped = true;
    }

    boolean awaitStopped(long timeoutMs) throws InterruptedException {
        thread.join(timeoutMs);
        return !thread.isAlive();
    }

    boolean failedForGood() {
        return state.equals("FAILED");
    }

    /** True when a micro-batch has been in the pipeline's code longer than {@code task.timeout.ms}. */
    boolean stuck(long nowMs) {
        long since = processingSinceMs;
        return since >= 0 && nowMs - since > settings.taskTimeoutMs();
    }

    /** Fails a task whose code does not return: its thread is left to end by itself (Java cannot stop it). */
    void abandon(String why) {
        error = why;
        state = "FAILED";
        failures++;
        stopped = true;
        thread.interrupt();
    }

    @Override
    public void run() {
        int userFailuresInARow = 0;
        long backoffMs = 100;
        while (!stopped) {
            try {
                attempt();
                return;
            } catch (InterruptedException e) {
                return;
            } catch (ProducerFencedException e) {
                // Another node runs this task now (a leadership it has not heard of yet): leave it.
                log.info("task {} was fenced by a newer instance; stopping here", id);
                state = "STOPPED";
                return;
            } catch (UserCodeException e) {
                failures++;
                error = e.getMessage();
                userFailuresInARow++;
                log.warn("task {}: the pipeline's code failed ({} in a row)", id, userFailuresInARow, e.getCause());
                if (userFailuresInARow >= USER_FAILURES_BEFORE_GIVING_UP) {
                    state = "FAILED";
                    log.error("task {} failed {} times in its own code and stays failed until the pipeline is resumed or redeployed: {}",
                            id, userFailuresInARow, e.getMessage());
                    return;
                }
            } catch (Throwable e) {
                if (stopped) {
                    return;
                }
                failures++;
                error = e.toString();
                log.warn("task {} failed; restarting from its last commit in {} ms", id, backoffMs, e);
            } finally {
                closeInputs();
                processingSinceMs = -1;
            }
            if (!stopped) {
                state = "RESTARTING";
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException e) {
                    return;
                }
                backoffMs = Math.min(backoffMs * 2, 10_000);
            }
        }
    }

    private void attempt() throws Exception {
        state = "RESTORING";
        boolean exactlyOnce = settings.guarantee() == Guarantee.EXACTLY_ONCE;
        try (Task task = pipeline.createTask(id.subTopology(), id.partition())) {
            Producer<byte[], byte[]> producer = env.sharedProducer();
            Producer<byte[], byte[]> own = null;
            try {
                if (exactlyOnce) {
                    own = env.producerFactory().apply(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                            PipelineNames.transactionalId(id.pipeline(), id.subTopology(), id.partition())));
                    // Fences the task's previous instance, wherever it ran, and aborts what it left open.
                    own.initTransactions();
                    producer = own;
                }
                Map<TopicPartition, Long> at = openInputs(task, exactlyOnce);
                restore(task, exactlyOnce);
                state = "RUNNING";
                error = "";
                process(task, producer, exactlyOnce, at);
            } finally {
                if (own != null) {
                    try {
                        own.close(java.time.Duration.ofSeconds(5));
                    } catch (RuntimeException ignored) {
                        // an open transaction is aborted by the next instance's initTransactions
                    }
                }
            }
        }
    }

    private Map<TopicPartition, Long> openInputs(Task task, boolean readCommitted) throws Exception {
        for (String topic : task.inputTopics()) {
            TopicPartition tp = new TopicPartition(topic, id.partition());
            inputs.put(tp, openInput(tp, readCommitted));
        }
        Map<TopicPartition, Long> committed = positions.committed(inputs.keySet());
        Map<TopicPartition, Long> at = new HashMap<>();
        for (TaskInput input : inputs.values()) {
            Long position = committed.get(input.topicPartition());
            at.put(input.topicPartition(), position != null ? position : input.earliest());
        }
        return at;
    }

    private TaskInput openInput(TopicPartition tp, boolean readCommitted) {
        io.spate.replication.Partition local = env.localPartition().apply(tp);
        if (local != null) {
            return new LocalInput(local, readCommitted);
        }
        return new RemoteInput(tp, env.bootstrap(), readCommitted, settings.batchMaxBytes());
    }

    /** Fills the task's stores from their changelogs: the local replica when this node holds one (co-location), else over the network. */
    private void restore(Task task, boolean readCommitted) throws Exception {
        if (task.changelogTopics().isEmpty()) {
            return;
        }
        long started = env.clock().get();
        long records = 0;
        for (Map.Entry<String, String> store : task.changelogTopics().entrySet()) {
            TopicPartition tp = new TopicPartition(store.getValue(), id.partition());
            try (TaskInput changelog = openInput(tp, readCommitted)) {
                long position = changelog.earliest();
                long end = position + changelog.lag(position);
                List<InputRecord> chunk = new ArrayList<>();
                while (position < end && !stopped) {
                    chunk.clear();
                    long next = changelog.poll(position, RESTORE_CHUNK, settings.batchMaxBytes(), chunk);
                    if (next == position) {
                        // What remains lies past what can be read now (an open transaction): restored to here.
                        end = Math.min(end, position + changelog.lag(position));
                        if (changelog.lag(position) == 0) {
                            break;
                        }
                        continue;
                    }
                    List<ChangelogRecord> entries = new ArrayList<>(chunk.size());
                    for (InputRecord r : chunk) {
                        entries.add(new ChangelogRecord(r.key(), r.value()));
                    }
                    task.restore(store.getKey(), entries);
                    records += entries.size();
                    position = next;
                }
            }
        }
        restores++;
        restoredRecords = records;
        lastRestoreMs = env.clock().get() - started;
        log.info("task {} restored {} changelog records in {} ms", id, records, lastRestoreMs);
    }

    private void process(Task task, Producer<byte[], byte[]> producer, boolean exactlyOnce, Map<TopicPartition, Long> at) throws Exception {
        TaskOutput output = new TaskOutput(producer);
        ConsumerGroupMetadata group = new ConsumerGroupMetadata(PipelineNames.group(id.pipeline()));
        List<InputRecord> batch = new ArrayList<>();
        long[] pendingStamps = new long[1024];
        int pending = 0;
        boolean inTransaction = false;
        boolean dirty = false;
        long lastCommitMs = env.clock().get();
        while (!stopped) {
            batch.clear();
            int room = settings.batchMaxRecords();
            for (TaskInput input : inputs.values()) {
                TopicPartition tp = input.topicPartition();
                long position = at.get(tp);
                long next;
                try {
                    next = input.poll(position, room, settings.batchMaxBytes(), batch);
                } catch (PositionOutOfRangeException e) {
                    log.warn("task {}: {}; going on from the log start", id, e.getMessage());
                    next = e.logStartOffset;
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
            long now = env.clock().get();
            if (!batch.isEmpty()) {
                if (exactlyOnce && !inTransaction) {
                    producer.beginTransaction();
                    inTransaction = true;
                }
                processingSinceMs = now;
                try {
                    task.process(batch, output);
                } catch (TaskOutput.OutputFailedException e) {
                    throw new KafkaException("sending a result failed", e.getCause());
                } catch (RuntimeException | StackOverflowError e) {
                    throw new UserCodeException(e);
                } finally {
                    processingSinceMs = -1;
                }
                processed += batch.size();
                if (pending + batch.size() > pendingStamps.length) {
                    pendingStamps = java.util.Arrays.copyOf(pendingStamps, Math.max(pendingStamps.length * 2, pending + batch.size()));
                }
                for (InputRecord r : batch) {
                    pendingStamps[pending++] = r.timestamp();
                }
                if (!exactlyOnce) {
                    // At-least-once results are readable once acknowledged, moments after they are sent.
                    now = env.clock().get();
                    recordLatencies(pendingStamps, pending, now);
                    pending = 0;
                }
            }
            updateLag(at);
            now = env.clock().get();
            if (dirty && now - lastCommitMs >= settings.commitIntervalMs()) {
                if (exactlyOnce) {
                    if (!inTransaction) {
                        producer.beginTransaction();
                    }
                    producer.sendOffsetsToTransaction(offsets(at), group);
                    producer.commitTransaction();
                    inTransaction = false;
                    checkSends(output);
                    now = env.clock().get();
                    recordLatencies(pendingStamps, pending, now);
                    pending = 0;
                } else {
                    producer.flush();
                    checkSends(output);
                    positions.commit(at);
                }
                lateRecords = task.stats().lateRecordsDropped();
                dirty = false;
                lastCommitMs = now;
            }
            if (batch.isEmpty()) {
                long untilCommit = dirty ? Math.max(1, settings.commitIntervalMs() - (now - lastCommitMs)) : settings.idleWaitMs();
                awaitInput(at, Math.min(untilCommit, settings.idleWaitMs()));
            }
        }
        if (!exactlyOnce && dirty) {
            // A clean hand-over: what was acknowledged is committed, so the next owner repeats nothing.
            producer.flush();
            if (output.takeFailure() == null) {
                positions.commit(at);
            }
        }
    }

    private void checkSends(TaskOutput output) {
        Exception failed = output.takeFailure();
        if (failed != null) {
            throw new KafkaException("a result was not acknowledged; the task goes back to its last commit", failed);
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> offsets(Map<TopicPartition, Long> at) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        at.forEach((tp, offset) -> offsets.put(tp, new OffsetAndMetadata(offset)));
        return offsets;
    }

    private void recordLatencies(long[] stamps, int count, long nowMs) {
        for (int i = 0; i < count; i++) {
            long micros = Math.max(0, (nowMs - stamps[i]) * 1000);
            latency.recordValue(Math.min(micros, TimeUnit.MINUTES.toMicros(10)));
        }
    }

    private void updateLag(Map<TopicPartition, Long> at) {
        long lag = 0;
        for (TaskInput input : inputs.values()) {
            lag += input.lag(at.get(input.topicPartition()));
        }
        inputLag = lag;
    }

    /** Waits until one of the inputs read in place grows, at most {@code maxWaitMs}. */
    private void awaitInput(Map<TopicPartition, Long> at, long maxWaitMs) throws InterruptedException {
        List<ParkedReads.Position> local = new ArrayList<>();
        io.spate.replication.ReadBound bound = null;
        boolean remote = false;
        for (TaskInput input : inputs.values()) {
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
        try {
            env.parkedReads().park(local, bound, 1, maxWaitMs).get(maxWaitMs + 1000, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // woken by the deadline either way
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
                none ? 0 : interval.getValueAtPercentile(99.9), lateRecords, restores, lastRestoreMs, restoredRecords, failures, error, nowMs);
    }
}
