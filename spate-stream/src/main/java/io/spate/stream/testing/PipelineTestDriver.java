package io.spate.stream.testing;

import io.spate.stream.Pipeline;
import io.spate.stream.Serde;
import io.spate.stream.engine.ChangelogRecord;
import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.engine.InputRecord;
import io.spate.stream.engine.Output;
import io.spate.stream.engine.Partitioning;
import io.spate.stream.engine.PipelineCompiler;
import io.spate.stream.engine.SubTopology;
import io.spate.stream.engine.Task;
import io.spate.stream.engine.TaskStats;
import io.spate.stream.store.InMemoryStores;
import io.spate.stream.store.StoreFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs every task of a compiled pipeline in-process, on one thread, over in-memory topics: every
 * topic (inputs, outputs, repartition, changelog) has {@code partitions} partitions, records sent
 * by key are placed with Kafka's partitioner, and records of repartition topics are fed back into
 * the tasks that read them. Each pipe processes until no task has input left, so outputs are
 * complete when {@code pipe} returns. {@link #restartTasks()} closes every task and builds it
 * again from its changelogs, as a node taking over a partition would.
 *
 * <p>The driver has a wall clock of its own, which moves only when a test calls
 * {@link #advanceWallClockTime}: with the pipeline setting {@code window.close.idle.ms} that is
 * what closes windows when no record comes (as Kafka Streams' {@code TopologyTestDriver}
 * advances wall-clock time for its punctuations). It starts at 0; only its moves matter.
 */
public final class PipelineTestDriver implements AutoCloseable {
    /** A record of an in-memory topic; {@code seq} orders writes across topics and partitions. */
    record StoredRecord(long seq, int partition, long offset, long timestamp, byte[] key, byte[] value) {
    }

    private static final int MAX_BATCHES = 10_000_000;

    private final CompiledPipeline pipeline;
    private final int partitions;
    private final StoreFactory storeFactory;
    private final Map<String, List<List<StoredRecord>>> topics = new HashMap<>();
    private final List<TaskSlot> tasks = new ArrayList<>();
    /** Each table's rows by key bytes, as {@code toTable} left them (a delete removes the row). */
    private final Map<String, Map<java.nio.ByteBuffer, byte[]>> tables = new HashMap<>();
    private final Output output = new Output() {
        @Override
        public void send(String topic, int partition, byte[] key, byte[] value, long timestamp) {
            append(topic, partition, key, value, timestamp);
        }

        @Override
        public void writeTable(String table, byte[] key, byte[] value, long timestamp) {
            Map<java.nio.ByteBuffer, byte[]> rows = tables.computeIfAbsent(table, t -> new java.util.LinkedHashMap<>());
            if (value == null) {
                rows.remove(java.nio.ByteBuffer.wrap(key.clone()));
            } else {
                rows.put(java.nio.ByteBuffer.wrap(key.clone()), value.clone());
            }
        }
    };
    private long seq;
    private int roundRobin;
    private long wallClockMs;

    private static final class TaskSlot {
        final int subTopologyId;
        final int partition;
        final Map<String, Integer> nextOffset = new HashMap<>();
        Task task;

        TaskSlot(int subTopologyId, int partition) {
            this.subTopologyId = subTopologyId;
            this.partition = partition;
        }
    }

    public PipelineTestDriver(String pipelineName, Pipeline pipeline, Map<String, String> settings, int partitions) {
        this(pipelineName, pipeline, settings, partitions, InMemoryStores.INSTANCE);
    }

    /** A driver whose tasks' stores come from {@code storeFactory} (a runtime's own stores, on disk say) instead of the heap. */
    public PipelineTestDriver(String pipelineName, Pipeline pipeline, Map<String, String> settings, int partitions, StoreFactory storeFactory) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions " + partitions);
        }
        this.pipeline = PipelineCompiler.compile(pipelineName, pipeline, settings);
        this.partitions = partitions;
        this.storeFactory = storeFactory;
        for (SubTopology sub : this.pipeline.subTopologies()) {
            for (int p = 0; p < partitions; p++) {
                TaskSlot slot = new TaskSlot(sub.id(), p);
                slot.task = this.pipeline.createTask(sub.id(), p, storeFactory);
                tasks.add(slot);
            }
        }
    }

    public CompiledPipeline pipeline() {
        return pipeline;
    }

    public int partitions() {
        return partitions;
    }

    public <K, V> TestInput<K, V> input(String topic, Serde<K> keySerde, Serde<V> valueSerde) {
        return new TestInput<>(this, topic, keySerde, valueSerde);
    }

    public <K, V> TestOutput<K, V> output(String topic, Serde<K> keySerde, Serde<V> valueSerde) {
        return new TestOutput<>(this, topic, keySerde, valueSerde);
    }

    /** What {@code toTable(table)} has written: each key's latest value, deleted keys absent. */
    public <K, V> Map<K, V> table(String table, Serde<K> keySerde, Serde<V> valueSerde) {
        Map<K, V> rows = new java.util.LinkedHashMap<>();
        tables.getOrDefault(table, Map.of()).forEach((key, value) ->
                rows.put(keySerde.deserialize(key.array()), valueSerde.deserialize(value)));
        return rows;
    }

    public TaskStats stats(int subTopologyId, int partition) {
        return slot(subTopologyId, partition).task.stats();
    }

    /** The stats of every task, summed (stream time: the largest). */
    public TaskStats totalStats() {
        TaskStats total = TaskStats.ZERO;
        for (TaskSlot s : tasks) {
            total = total.plus(s.task.stats());
        }
        return total;
    }

    /** The driver's wall clock: 0 until {@link #advanceWallClockTime} moves it. */
    public long wallClockTimeMs() {
        return wallClockMs;
    }

    /**
     * Moves the wall clock on by {@code by}, then gives every task the new time, as the runtime
     * does for an idle task whose deadline passed: with {@code window.close.idle.ms}, a task whose
     * inputs brought nothing for that long moves its stream time and closes the windows due by
     * then; what they emit is processed through the pipeline before this returns. Without the
     * setting nothing happens.
     */
    public void advanceWallClockTime(java.time.Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("the wall clock does not go back: " + by);
        }
        wallClockMs = Math.addExact(wallClockMs, by.toMillis());
        for (TaskSlot slot : tasks) {
            if (wallClockMs >= slot.task.wallClockDeadlineMs()) {
                slot.task.advanceWallClock(wallClockMs, output);
            }
        }
        runUntilIdle();
    }

    /** Number of records in a topic's partition (0 for a topic nothing was written to). */
    public int size(String topic, int partition) {
        List<List<StoredRecord>> t = topics.get(topic);
        return t == null ? 0 : t.get(partition).size();
    }

    /**
     * Closes every task and creates it again, restoring each store from its changelog partition
     * (the task's own) before any record; input positions are kept, as if committed, and so is
     * each task's stream time, which a node commits with them.
     */
    public void restartTasks() {
        for (TaskSlot slot : tasks) {
            long streamTime = slot.task.stats().streamTimeMs();
            slot.task.close();
            Task task = pipeline.createTask(slot.subTopologyId, slot.partition, storeFactory);
            if (streamTime != Long.MIN_VALUE) {
                task.restoreStreamTime(streamTime);
            }
            for (Map.Entry<String, String> e : task.changelogTopics().entrySet()) {
                List<ChangelogRecord> records = new ArrayList<>();
                for (StoredRecord r : partition(e.getValue(), slot.partition)) {
                    records.add(new ChangelogRecord(r.key(), r.value(), r.timestamp()));
                }
                task.restore(e.getKey(), records);
            }
            slot.task = task;
        }
    }

    @Override
    public void close() {
        for (TaskSlot slot : tasks) {
            slot.task.close();
        }
    }

    void pipe(String topic, int partition, byte[] key, byte[] value, long timestamp) {
        int p = partition;
        if (p < 0) {
            p = key == null ? Math.floorMod(roundRobin++, partitions) : Output.BY_KEY;
        }
        append(topic, p, key, value, timestamp);
        runUntilIdle();
    }

    private TaskSlot slot(int subTopologyId, int partition) {
        for (TaskSlot s : tasks) {
            if (s.subTopologyId == subTopologyId && s.partition == partition) {
                return s;
            }
        }
        throw new IllegalArgumentException("no task " + subTopologyId + "_" + partition);
    }

    private List<StoredRecord> partition(String topic, int partition) {
        return topics.computeIfAbsent(topic, t -> {
            List<List<StoredRecord>> parts = new ArrayList<>(partitions);
            for (int i = 0; i < partitions; i++) {
                parts.add(new ArrayList<>());
            }
            return parts;
        }).get(partition);
    }

    private void append(String topic, int partition, byte[] key, byte[] value, long timestamp) {
        int p = partition == Output.BY_KEY ? Partitioning.partition(key, partitions) : partition;
        if (p < 0 || p >= partitions) {
            throw new IllegalArgumentException("partition " + partition + " of topic " + topic + " with " + partitions + " partitions");
        }
        List<StoredRecord> log = partition(topic, p);
        log.add(new StoredRecord(seq++, p, log.size(), timestamp, key, value));
    }

    /** Feeds every task its unread input, in write order across its topics, until none has any. */
    private void runUntilIdle() {
        for (int batches = 0; batches < MAX_BATCHES; ) {
            boolean progress = false;
            for (TaskSlot slot : tasks) {
                List<InputRecord> batch = unread(slot);
                if (!batch.isEmpty()) {
                    slot.task.process(batch, output, wallClockMs);
                    progress = true;
                    batches++;
                }
            }
            if (!progress) {
                return;
            }
        }
        throw new IllegalStateException("the pipeline did not become idle after " + MAX_BATCHES + " batches (a loop through its topics?)");
    }

    private List<InputRecord> unread(TaskSlot slot) {
        record Pending(String topic, StoredRecord record) {
        }
        List<Pending> pending = new ArrayList<>();
        for (String topic : slot.task.inputTopics()) {
            List<StoredRecord> log = partition(topic, slot.partition);
            int from = slot.nextOffset.getOrDefault(topic, 0);
            for (int i = from; i < log.size(); i++) {
                pending.add(new Pending(topic, log.get(i)));
            }
            slot.nextOffset.put(topic, log.size());
        }
        pending.sort((a, b) -> Long.compare(a.record.seq(), b.record.seq()));
        List<InputRecord> batch = new ArrayList<>(pending.size());
        for (Pending p : pending) {
            StoredRecord r = p.record;
            batch.add(new InputRecord(p.topic, r.partition(), r.offset(), r.timestamp(), r.key(), r.value()));
        }
        return batch;
    }

    /** The records of a topic with {@code seq > afterSeq}, in write order. */
    List<StoredRecord> recordsAfter(String topic, long afterSeq) {
        List<StoredRecord> out = new ArrayList<>();
        List<List<StoredRecord>> parts = topics.get(topic);
        if (parts == null) {
            return out;
        }
        for (List<StoredRecord> log : parts) {
            for (StoredRecord r : log) {
                if (r.seq() > afterSeq) {
                    out.add(r);
                }
            }
        }
        out.sort((a, b) -> Long.compare(a.seq(), b.seq()));
        return out;
    }
}
