package io.spate.replication;

/**
 * Follower and leader tuning, under Kafka's names where they exist.
 *
 * @param fetchWaitMaxMs              replica.fetch.wait.max.ms: how long a follower's fetch waits at the leader for data
 * @param fetchMaxBytes               replica.fetch.response.max.bytes
 * @param fetchMaxBytesPerPartition   replica.fetch.max.bytes
 * @param lagTimeMaxMs                replica.lag.time.max.ms: a follower not caught up for this long leaves the in-sync set
 * @param connectTimeoutMs            how long a follower waits for its connection to the leader to open
 * @param socketTimeoutMs             replica.socket.timeout.ms: how long a follower waits for any answer from its leader
 *                                    before it drops the connection and dials again (well above fetchWaitMaxMs)
 * @param rack                        broker.rack of this node ("" when unset); consumers in the same rack may read from it
 * @param nodeToken                   appended to the fetcher's client id: proves to the leader that the fetch comes from this node
 */
public record ReplicationSettings(int fetchWaitMaxMs, int fetchMaxBytes, int fetchMaxBytesPerPartition, long lagTimeMaxMs, int connectTimeoutMs,
                                  int socketTimeoutMs, String rack, String nodeToken) {
    /** Without a node token (tests of the replication module alone). */
    public ReplicationSettings(int fetchWaitMaxMs, int fetchMaxBytes, int fetchMaxBytesPerPartition, long lagTimeMaxMs, int connectTimeoutMs,
                               int socketTimeoutMs, String rack) {
        this(fetchWaitMaxMs, fetchMaxBytes, fetchMaxBytesPerPartition, lagTimeMaxMs, connectTimeoutMs, socketTimeoutMs, rack, "");
    }
}
