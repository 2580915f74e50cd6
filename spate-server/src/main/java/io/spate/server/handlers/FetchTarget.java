package io.spate.server.handlers;

import io.spate.replication.Partition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;

/**
 * One partition a fetch reads, with what the client asked for and what the server last told it
 * (for incremental fetch sessions, which only report partitions that changed).
 */
final class FetchTarget {
    final String topic;
    final Uuid topicId;
    final int partition;
    /**
     * The partition and whether it may be read here, as of the latest fetch: re-checked on every fetch of a
     * session, because leadership and epochs move while a session stays open.
     */
    Partition resolved;
    Errors lookupError;
    /** The leader epoch the client last sent for this partition (-1: none). */
    int currentLeaderEpoch;
    long fetchOffset;
    /** A follower's own log start offset, as it last reported it (-1: a consumer, or not told). */
    long replicaLogStartOffset = -1;
    /** The newest leader epoch the client's log holds, as it last sent it (-1: none, or not told). */
    int lastFetchedEpoch = -1;
    /**
     * For a follower's fetch, where its history parts from this log's before its fetch offset
     * ({@code [epoch, endOffset]}), or null: worked out again on every fetch of a session.
     */
    long[] diverging;
    int maxBytes;
    long lastSentHighWatermark = -1;
    long lastSentLogStartOffset = -1;
    long lastSentLastStableOffset = -1;
    /** Follower fetching: the replica the consumer should read from instead (-1: read here). */
    int preferredReadReplica = -1;

    /** The partition's name in the log's terms, kept while the topic's name stays the same (looked up on every fetch of a session). */
    private io.spate.log.TopicPartition logPartition;
    private final String topicKey;
    private final String key;

    FetchTarget(String topic, Uuid topicId, int partition, int currentLeaderEpoch, long fetchOffset, int maxBytes) {
        this.topic = topic;
        this.topicId = topicId;
        this.partition = partition;
        this.currentLeaderEpoch = currentLeaderEpoch;
        this.fetchOffset = fetchOffset;
        this.maxBytes = maxBytes;
        this.topicKey = topicId != null && !Uuid.ZERO_UUID.equals(topicId) ? topicId.toString() : topic;
        this.key = topicKey + ":" + partition;
    }

    /** The session's key for this partition: the topic's id (or name, before topic ids), a colon and the index. */
    String key() {
        return key;
    }

    /** The topic part of {@link #key()}: partitions of one topic are answered together. */
    String topicKey() {
        return topicKey;
    }

    io.spate.log.TopicPartition logPartition(String topicName) {
        io.spate.log.TopicPartition tp = logPartition;
        if (tp == null || !tp.topic().equals(topicName)) {
            tp = new io.spate.log.TopicPartition(topicName, partition);
            logPartition = tp;
        }
        return tp;
    }
}
