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
    final Partition resolved;
    final Errors lookupError;
    long fetchOffset;
    int maxBytes;
    long lastSentHighWatermark = -1;
    long lastSentLogStartOffset = -1;
    /** Follower fetching: the replica the consumer should read from instead (-1: read here). */
    int preferredReadReplica = -1;

    FetchTarget(String topic, Uuid topicId, int partition, Partition resolved, Errors lookupError, long fetchOffset, int maxBytes) {
        this.topic = topic;
        this.topicId = topicId;
        this.partition = partition;
        this.resolved = resolved;
        this.lookupError = lookupError;
        this.fetchOffset = fetchOffset;
        this.maxBytes = maxBytes;
    }

    String key() {
        return (topicId != null && !Uuid.ZERO_UUID.equals(topicId) ? topicId.toString() : topic) + ":" + partition;
    }
}
