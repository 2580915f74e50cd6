package io.spate.stream.engine;

import io.spate.stream.store.StateStore;
import io.spate.stream.store.StoreFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** What a task's processors share: the partition, stream time, the output, stores and counters. */
final class TaskContext {
    /** Called after a record that advanced stream time has been processed. */
    interface StreamTimeListener {
        void onStreamTime(long streamTimeMs);

        /**
         * The smallest stream time at which {@link #onStreamTime} would close something it holds
         * now, or {@link Long#MAX_VALUE} when it holds nothing: when to wake an idle task.
         */
        long nextDueStreamTime();
    }

    /** A store of the task and how to replay its changelog into it. */
    record RegisteredStore(StateStore store, String restoreTopic, Restorer restorer) {
    }

    @FunctionalInterface
    interface Restorer {
        void restore(byte[] key, byte[] value);
    }

    final int subTopologyId;
    final int partition;
    final StoreFactory storeFactory;
    final Map<String, RegisteredStore> stores = new HashMap<>();
    final List<StreamTimeListener> streamTimeListeners = new ArrayList<>();
    Output output;
    long streamTime = Long.MIN_VALUE;

    long recordsProcessed;
    long lateRecordsDropped;
    long nullRecordsDropped;
    long recordsSent;
    long changelogRecordsSent;

    TaskContext(int subTopologyId, int partition, StoreFactory storeFactory) {
        this.subTopologyId = subTopologyId;
        this.partition = partition;
        this.storeFactory = storeFactory;
    }

    @SuppressWarnings("unchecked")
    <S extends StateStore> S store(String name) {
        RegisteredStore s = stores.get(name);
        if (s == null) {
            throw new IllegalStateException("store " + name + " is not in sub-topology " + subTopologyId);
        }
        return (S) s.store();
    }

    void send(String topic, int partition, byte[] key, byte[] value, long timestamp) {
        recordsSent++;
        output.send(topic, partition, key, value, timestamp);
    }

    void writeTable(String table, byte[] key, byte[] value, long timestamp) {
        recordsSent++;
        output.writeTable(table, key, value, timestamp);
    }

    /** A store change: to the changelog's partition of this task. */
    void log(String changelogTopic, byte[] key, byte[] value, long timestamp) {
        changelogRecordsSent++;
        output.sendChangelog(changelogTopic, partition, key, value, timestamp);
    }

    TaskStats stats() {
        return new TaskStats(recordsProcessed, lateRecordsDropped, nullRecordsDropped, recordsSent, changelogRecordsSent, streamTime);
    }
}
