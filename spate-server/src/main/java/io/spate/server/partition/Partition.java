package io.spate.server.partition;

import io.spate.log.AppendResult;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A partition this node leads: its log, its leader epoch, and the fetches waiting for data.
 * On one node the node is the whole in-sync set, so the high watermark follows the log end
 * right after each append; replication will move it on follower acknowledgements instead.
 */
public final class Partition {
    private final TopicPartition topicPartition;
    private final PartitionLog log;
    private final Set<AppendListener> waiters = ConcurrentHashMap.newKeySet();
    private volatile int leaderEpoch;

    /** Told about appends; must not block (runs on the producer's thread). */
    public interface AppendListener {
        void onAppend(Partition partition, int bytes);
    }

    public Partition(TopicPartition topicPartition, PartitionLog log, int leaderEpoch) {
        this.topicPartition = topicPartition;
        this.log = log;
        this.leaderEpoch = leaderEpoch;
    }

    public TopicPartition topicPartition() {
        return topicPartition;
    }

    public PartitionLog log() {
        return log;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    public AppendResult appendAsLeader(ByteBuffer records, long nowMs) {
        int bytes = records.remaining();
        AppendResult result = log.appendAsLeader(records, leaderEpoch, nowMs);
        if (result.ok() && !result.duplicate()) {
            log.updateHighWatermark(log.logEndOffset());
            for (AppendListener waiter : waiters) {
                waiter.onAppend(this, bytes);
            }
        }
        return result;
    }

    public void addWaiter(AppendListener listener) {
        waiters.add(listener);
    }

    public void removeWaiter(AppendListener listener) {
        waiters.remove(listener);
    }
}
