package io.spate.replication;

/**
 * Follower and leader tuning, under Kafka's names where they exist.
 *
 * @param fetchWaitMaxMs              replica.fetch.wait.max.ms: how long a follower's fetch waits at the leader for data
 * @param fetchMaxBytes               replica.fetch.response.max.bytes
 * @param fetchMaxBytesPerPartition   replica.fetch.max.bytes
 * @param lagTimeMaxMs                replica.lag.time.max.ms: a follower not caught up for this long leaves the in-sync set
 * @param rack                        broker.rack of this node ("" when unset); consumers in the same rack may read from it
 */
public record ReplicationSettings(int fetchWaitMaxMs, int fetchMaxBytes, int fetchMaxBytesPerPartition, long lagTimeMaxMs, int connectTimeoutMs, String rack) {
}
