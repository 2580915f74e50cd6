package io.spate.server.handlers;

import io.spate.log.PartitionLog;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.ClientConnection;
import io.spate.replication.Partition;
import io.spate.server.partition.ReplicaManager;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * ListOffsets: earliest, latest, the record with the largest timestamp, or the first record at
 * or after a time (found through the time index, then by decoding the one batch that holds it).
 * The tiered-storage lookups answer no offset: there is no remote storage.
 */
public final class ListOffsetsHandler implements ApiHandler {
    private static final long LATEST = -1L;
    private static final long EARLIEST = -2L;
    private static final long MAX_TIMESTAMP = -3L;
    private static final long EARLIEST_LOCAL = -4L;
    /** The last offset in remote storage (KIP-1005) and the first not yet uploaded there (KIP-1023). */
    private static final long LATEST_TIERED = -5L;
    private static final long EARLIEST_PENDING_UPLOAD = -6L;

    private final TopicRegistry topics;
    private final ReplicaManager replicas;

    public ListOffsetsHandler(TopicRegistry topics, ReplicaManager replicas) {
        this.topics = topics;
        this.replicas = replicas;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.LIST_OFFSETS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        ListOffsetsRequestData data = ((ListOffsetsRequest) request).data();
        short version = header.apiVersion();
        ListOffsetsResponseData response = new ListOffsetsResponseData();
        boolean readCommitted = version >= 2 && data.isolationLevel() == org.apache.kafka.common.IsolationLevel.READ_COMMITTED.id();
        for (ListOffsetsRequestData.ListOffsetsTopic topicData : data.topics()) {
            ListOffsetsResponseData.ListOffsetsTopicResponse topicResponse = new ListOffsetsResponseData.ListOffsetsTopicResponse().setName(topicData.name());
            TopicInfo topic = topics.get(topicData.name());
            for (ListOffsetsRequestData.ListOffsetsPartition p : topicData.partitions()) {
                Partition partition = topic == null ? null : replicas.partition(topic.name(), p.partitionIndex());
                if (topic != null && p.partitionIndex() >= 0 && p.partitionIndex() < topic.partitions() && !replicas.servesAsLeader(partition)) {
                    topicResponse.partitions().add(new ListOffsetsResponseData.ListOffsetsPartitionResponse().setPartitionIndex(p.partitionIndex())
                            .setTimestamp(-1).setOffset(-1).setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code()));
                    continue;
                }
                topicResponse.partitions().add(lookup(partition, p, version, readCommitted));
            }
            response.topics().add(topicResponse);
        }
        return CompletableFuture.completedFuture(response);
    }

    /** {@code readCommitted}: offsets a read_committed consumer may read, below the last stable offset (as Kafka answers). */
    static ListOffsetsResponseData.ListOffsetsPartitionResponse lookup(Partition partition, ListOffsetsRequestData.ListOffsetsPartition p, short version,
                                                                       boolean readCommitted) {
        ListOffsetsResponseData.ListOffsetsPartitionResponse answer = new ListOffsetsResponseData.ListOffsetsPartitionResponse()
                .setPartitionIndex(p.partitionIndex()).setTimestamp(-1).setOffset(-1);
        if (partition == null) {
            return answer.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        }
        if (p.currentLeaderEpoch() > partition.leaderEpoch()) {
            return answer.setErrorCode(Errors.UNKNOWN_LEADER_EPOCH.code());
        }
        if (p.currentLeaderEpoch() >= 0 && p.currentLeaderEpoch() < partition.leaderEpoch()) {
            return answer.setErrorCode(Errors.FENCED_LEADER_EPOCH.code());
        }
        PartitionLog log = partition.log();
        long timestamp = p.timestamp();
        long readableEnd = readCommitted ? partition.lastStableOffset() : log.highWatermark();
        // A leadership whose followers have not reported yet can have a high watermark below what
        // the last leader acknowledged: its end would seem to go back (Kafka answers this, KIP-207).
        boolean endNotKnown = !partition.caughtUpToEpochStart();
        if (timestamp == EARLIEST || timestamp == EARLIEST_LOCAL) {
            answer.setOffset(log.logStartOffset());
        } else if (timestamp == LATEST) {
            if (endNotKnown) {
                return answer.setErrorCode(Errors.OFFSET_NOT_AVAILABLE.code());
            }
            answer.setOffset(readableEnd);
        } else if (timestamp == MAX_TIMESTAMP) {
            try {
                PartitionLog.TimestampAndOffset max = log.maxTimestampAndOffset();
                if (max != null && max.offset() >= 0 && max.offset() < readableEnd) {
                    answer.setTimestamp(max.timestamp()).setOffset(max.offset());
                }
            } catch (IOException e) {
                return answer.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
            }
        } else if (timestamp == LATEST_TIERED || timestamp == EARLIEST_PENDING_UPLOAD) {
            // Spate has no tiered storage: Kafka answers these for a topic without it with no offset, no error.
            return answer.setLeaderEpoch(-1);
        } else if (timestamp >= 0) {
            try {
                findByTimestamp(log, timestamp, readableEnd, answer);
            } catch (IOException e) {
                return answer.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
            }
            if (answer.offset() < 0 && endNotKnown) {
                return answer.setErrorCode(Errors.OFFSET_NOT_AVAILABLE.code()); // it may lie in what is not readable yet
            }
        } else {
            return answer.setErrorCode(Errors.UNSUPPORTED_VERSION.code());
        }
        if (version >= 4) {
            // As Kafka: the latest offset carries the leader's epoch, any other the epoch of the
            // batch it lies in (the earliest, the log start's), none when no offset was found. A
            // consumer that commits an offset with a newer epoch than its record's weakens the
            // truncation check made when it resumes there.
            answer.setLeaderEpoch(timestamp == LATEST ? partition.leaderEpoch() : answer.offset() < 0 ? -1 : log.epochAt(answer.offset()));
        }
        return answer;
    }

    private static void findByTimestamp(PartitionLog log, long timestamp, long highWatermark, ListOffsetsResponseData.ListOffsetsPartitionResponse answer) throws IOException {
        PartitionLog.TimestampAndOffset found = log.offsetForTimestamp(timestamp, highWatermark);
        if (found != null) {
            answer.setTimestamp(found.timestamp()).setOffset(found.offset());
        }
    }
}
