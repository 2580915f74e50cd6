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
    int maxBytes;
    long lastSentHighWatermark = -1;
    long lastSentLogStartOffset = -1;
    long lastSentLastStableOffset = -1;
    /** Follower fetching: the replica the consumer should read from instead (-1: read here). */
    int preferredReadReplica = -1;

    FetchTarget(String topic, Uuid topicId, int partition, int currentLeaderEpoch, long fetchOffset, int maxBytes) {
        this.topic = topic;
        this.topicId = topicId;
        this.partition = partition;
        this.currentLeaderEpoch = currentLeaderEpoch;
        this.fetchOffset = fetchOffset;
        this.maxBytes = maxBytes;
    }

    String key() {
        return (topicId != null && !Uuid.ZERO_UUID.equals(topicId) ? topicId.toString() : topic) + ":" + partition;
    }
}
