package io.spate.replication;

/**
 * Follower and leader tuning, under Kafka's names where they exist.
 *
 * @param fetchWaitMaxMs              replica.fetch.wait.max.ms: how long a follower's fetch waits at the leader for data
 * @param fetchMaxBytes               replica.fetch.response.max.bytes
 * @param fetchMaxBytesPerPartition   replica.fetch.max.bytes
 * @param lagTimeMaxMs                replica.lag.time.max.ms: a follower not caught up for this long leaves the in-sync set
 * @param rack                        broker.rack of this node ("" when unset); consumers in the same rack may read from it
 * @param nodeToken                   appended to the fetcher's client id: proves to the leader that the fetch comes from this node
 */
public record ReplicationSettings(int fetchWaitMaxMs, int fetchMaxBytes, int fetchMaxBytesPerPartition, long lagTimeMaxMs, int connectTimeoutMs, String rack,
                                  String nodeToken) {
    /** Without a node token (tests of the replication module alone). */
    public ReplicationSettings(int fetchWaitMaxMs, int fetchMaxBytes, int fetchMaxBytesPerPartition, long lagTimeMaxMs, int connectTimeoutMs, String rack) {
        this(fetchWaitMaxMs, fetchMaxBytes, fetchMaxBytesPerPartition, lagTimeMaxMs, connectTimeoutMs, rack, "");
    }
}
