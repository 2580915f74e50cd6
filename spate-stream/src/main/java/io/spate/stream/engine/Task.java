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
     * @throws StreamProcessingException when a record cannot be processed; records before it were
     */
    void process(List<InputRecord> batch, Output out);

    TaskStats stats();

    @Override
    void close();
}
