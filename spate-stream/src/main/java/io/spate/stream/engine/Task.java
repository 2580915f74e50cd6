package io.spate.stream.engine;

import java.util.List;
import java.util.Map;

/**
 * One sub-topology on one partition: its processors and stores. Single-threaded: the runtime
 * calls it from one thread at a time. Lifecycle: {@link #restore} for each store from its
 * changelog partition (the task's own partition), then {@link #process} per micro-batch, then
 * {@link #close}.
 */
public interface Task extends AutoCloseable {
    int subTopologyId();

    int partition();

    List<String> inputTopics();

    /**
     * Store name → the topic to restore it from, partition {@link #partition()}, from its start.
     * That is the store's internal changelog topic, except for a table read from a topic
     * ({@code builder.table(topic, ...)}): its store is restored from the table's own topic,
     * which has no changelog of its own (the topic is also one of {@link #inputTopics()}).
     */
    Map<String, String> changelogTopics();

    /** Replays changelog records into a store, in log order; called before any {@link #process}. */
    void restore(String store, List<ChangelogRecord> records);

    /**
     * Sets the task's stream time to what it was when its positions were last committed (the
     * runtime keeps it with them), before any {@link #process}: a window that closed before a
     * restart stays closed after it, and a late record stays late.
     */
    void restoreStreamTime(long streamTimeMs);

    /**
     * Processes one micro-batch; records may come from several of the task's input topics, each
     * topic's in log order. Results go to {@code out} before this returns.
     *
     * <p>{@code wallClockMs} is the runtime's clock now. It matters only with the pipeline setting
     * {@code window.close.idle.ms} ({@link CompiledPipeline#WINDOW_CLOSE_IDLE_MS}): stream time
     * first moves to where the wall clock has brought it (closing what that closes), then the
     * records are processed, and a non-empty batch marks the inputs as active at this time.
     *
     * @throws StreamProcessingException when a record cannot be processed; records before it were
     */
    void process(List<InputRecord> batch, Output out, long wallClockMs);

    /**
     * Moves stream time to where the wall clock has brought it by {@code wallClockMs} with
     * {@code window.close.idle.ms}, closing the windows that closes (their results go to
     * {@code out}); nothing without the setting. The runtime calls it when its inputs have nothing
     * and {@link #wallClockDeadlineMs()} has passed. Returns whether stream time moved.
     *
     * @throws StreamProcessingException when code run by a closing window fails
     */
    boolean advanceWallClock(long wallClockMs, Output out);

    /**
     * The wall-clock time at which, if no record comes before, {@link #advanceWallClock} closes
     * something (a window, a session, a join's buffered record); {@link Long#MIN_VALUE} when the
     * task holds something to close and has not been given the wall clock yet (a restored task:
     * the call starts its idle time); {@link Long#MAX_VALUE} when nothing would close, or without
     * {@code window.close.idle.ms}. Changes with each call that processes or advances.
     */
    long wallClockDeadlineMs();

    TaskStats stats();

    @Override
    void close();
}
