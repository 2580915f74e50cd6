package io.spate.stream.engine;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A sub-topology's processors and stores on one partition. */
final class StreamTask implements Task {
    private final TaskContext ctx;
    private final Map<String, ProcessorNode.InputNode> sources;
    private final List<String> inputTopics;
    private final Map<String, String> restoreTopics;
    private final TaskContext.StreamTimeListener[] listeners;
    private final WallClockStreamTime wallClock;
    private String lastTopic;
    private ProcessorNode.InputNode lastSource;
    private boolean processing;
    private boolean closed;

    StreamTask(TaskContext ctx, Map<String, ProcessorNode.InputNode> sources, List<String> inputTopics, long windowCloseIdleMs) {
        this.ctx = ctx;
        this.wallClock = new WallClockStreamTime(windowCloseIdleMs);
        this.sources = new HashMap<>(sources);
        this.inputTopics = List.copyOf(inputTopics);
        Map<String, String> restore = new LinkedHashMap<>();
        ctx.stores.forEach((name, s) -> restore.put(name, s.restoreTopic()));
        this.restoreTopics = java.util.Collections.unmodifiableMap(restore);
        this.listeners = ctx.streamTimeListeners.toArray(new TaskContext.StreamTimeListener[0]);
    }

    @Override
    public int subTopologyId() {
        return ctx.subTopologyId;
    }

    @Override
    public int partition() {
        return ctx.partition;
    }

    @Override
    public List<String> inputTopics() {
        return inputTopics;
    }

    @Override
    public Map<String, String> changelogTopics() {
        return restoreTopics;
    }

    @Override
    public void restore(String store, List<ChangelogRecord> records) {
        if (closed) {
            throw new IllegalStateException("task " + this + " is closed");
        }
        if (processing) {
            throw new IllegalStateException("task " + this + " restores " + store + " after it started processing");
        }
        TaskContext.RegisteredStore s = ctx.stores.get(store);
        if (s == null) {
            throw new IllegalArgumentException("task " + this + " has no store " + store + ", only " + ctx.stores.keySet());
        }
        // A store's changes were made at a stream time at least their timestamps: at-least-once, the
        // changelog runs past the committed position, and windows it closed there must stay closed
        // (a replayed record rebuilding one from nothing would emit a smaller result than it had).
        // A source table's records are input, which moves stream time only when processed.
        boolean movesStreamTime = !inputTopics.contains(s.restoreTopic());
        for (ChangelogRecord r : records) {
            if (r.key() != null) {
                s.restorer().restore(r.key(), r.value());
            }
            if (movesStreamTime && r.timestamp() > ctx.streamTime) {
                ctx.streamTime = r.timestamp();
            }
        }
    }

    @Override
    public void restoreStreamTime(long streamTimeMs) {
        if (processing) {
            throw new IllegalStateException("task " + this + " restores its stream time after it started processing");
        }
        ctx.streamTime = Math.max(ctx.streamTime, streamTimeMs);
    }

    @Override
    public void process(List<InputRecord> batch, Output out, long wallClockMs) {
        if (closed) {
            throw new IllegalStateException("task " + this + " is closed");
        }
        processing = true;
        ctx.output = out;
        try {
            // Where the wall clock has brought stream time comes first: a record that arrives
            // after its windows closed that way is late whether or not the runtime has run the
            // close yet, so the outcome depends only on when the batch is processed.
            followWallClock(wallClockMs);
            for (InputRecord r : batch) {
                processOne(r);
            }
            if (!batch.isEmpty()) {
                wallClock.recordsArrived(wallClockMs, ctx.streamTime);
            }
        } finally {
            ctx.output = null;
        }
    }

    @Override
    public boolean advanceWallClock(long wallClockMs, Output out) {
        if (closed) {
            throw new IllegalStateException("task " + this + " is closed");
        }
        processing = true;
        ctx.output = out;
        try {
            return followWallClock(wallClockMs);
        } finally {
            ctx.output = null;
        }
    }

    @Override
    public long wallClockDeadlineMs() {
        if (!wallClock.enabled()) {
            return Long.MAX_VALUE;
        }
        long due = Long.MAX_VALUE;
        for (TaskContext.StreamTimeListener l : listeners) {
            due = Math.min(due, l.nextDueStreamTime());
        }
        return wallClock.wallClockTimeOf(due);
    }

    private boolean followWallClock(long wallClockMs) {
        long to = wallClock.streamTimeAt(wallClockMs, ctx.streamTime);
        if (to <= ctx.streamTime) {
            return false;
        }
        ctx.streamTime = to;
        try {
            for (TaskContext.StreamTimeListener l : listeners) {
                l.onStreamTime(to);
            }
        } catch (StreamProcessingException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StreamProcessingException("closing windows at stream time " + to + ", moved by the wall clock ("
                    + CompiledPipeline.WINDOW_CLOSE_IDLE_MS + ")", e);
        }
        return true;
    }

    private void processOne(InputRecord r) {
        String topic = r.topic();
        ProcessorNode.InputNode source;
        if (topic.equals(lastTopic)) {
            source = lastSource;
        } else {
            source = sources.get(topic);
            if (source == null) {
                throw new IllegalArgumentException("task " + this + " does not read " + topic + ", only " + inputTopics);
            }
            lastTopic = topic;
            lastSource = source;
        }
        if (r.partition() != ctx.partition) {
            throw new IllegalArgumentException("task " + this + " got a record of partition " + r.partition());
        }
        long ts = r.timestamp();
        boolean advanced = ts > ctx.streamTime && source.movesStreamTime();
        if (advanced) {
            ctx.streamTime = ts;
        }
        try {
            source.processInput(r);
            if (advanced) {
                for (TaskContext.StreamTimeListener l : listeners) {
                    l.onStreamTime(ts);
                }
            }
        } catch (StreamProcessingException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StreamProcessingException(topic, r.partition(), r.offset(), e);
        }
        ctx.recordsProcessed++;
    }

    @Override
    public TaskStats stats() {
        return ctx.stats();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            for (TaskContext.RegisteredStore s : ctx.stores.values()) {
                s.store().close();
            }
        }
    }

    @Override
    public String toString() {
        return ctx.subTopologyId + "_" + ctx.partition;
    }
}
