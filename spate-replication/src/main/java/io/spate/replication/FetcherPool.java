package io.spate.replication;

import io.spate.log.TopicPartition;

import java.util.HashMap;
import java.util.Map;

/**
 * One {@link ReplicaFetcher} per leader node this node follows something from; a fetcher is
 * started when the first partition is followed from that leader and stopped with the last.
 */
public final class FetcherPool implements AutoCloseable {
    private final int localId;
    private final ReplicationSettings settings;
    private final Map<Integer, ReplicaFetcher> byLeader = new HashMap<>();
    private final Map<TopicPartition, Integer> leaderOf = new HashMap<>();

    private final io.spate.time.Time time;
    private final io.spate.replication.quota.ReplicationThrottles throttles;

    public FetcherPool(int localId, ReplicationSettings settings) {
        this(localId, settings, io.spate.time.Time.SYSTEM, io.spate.replication.quota.ReplicationThrottles.NONE);
    }

    /** As above; the fetchers read {@code time} for the follower logic's decisions and hold back throttled copies. */
    public FetcherPool(int localId, ReplicationSettings settings, io.spate.time.Time time, io.spate.replication.quota.ReplicationThrottles throttles) {
        this.time = time;
        this.localId = localId;
        this.settings = settings;
        this.throttles = throttles;
    }

    /** Follows {@code partition} from {@code leaderId} at {@code epoch}, moving it off any other leader's fetcher. */
    public synchronized void follow(Partition partition, int leaderId, String host, int port, int epoch) {
        TopicPartition tp = partition.topicPartition();
        Integer previous = leaderOf.put(tp, leaderId);
        if (previous != null && previous != leaderId) {
            detach(tp, previous);
        }
        ReplicaFetcher fetcher = byLeader.computeIfAbsent(leaderId, id -> {
            ReplicaFetcher f = new ReplicaFetcher(localId, id, host, port, settings, time, throttles);
            f.start();
            return f;
        });
        fetcher.updateAddress(host, port);
        fetcher.follow(partition, epoch);
    }

    public synchronized void unfollow(TopicPartition tp) {
        Integer previous = leaderOf.remove(tp);
        if (previous != null) {
            detach(tp, previous);
        }
    }

    private void detach(TopicPartition tp, int leaderId) {
        ReplicaFetcher fetcher = byLeader.get(leaderId);
        if (fetcher == null) {
            return;
        }
        fetcher.unfollow(tp);
        if (fetcher.isIdle()) {
            byLeader.remove(leaderId);
            fetcher.shutdown(false);
        }
    }

    @Override
    public synchronized void close() {
        byLeader.values().forEach(f -> f.shutdown(true));
        byLeader.clear();
        leaderOf.clear();
    }
}
