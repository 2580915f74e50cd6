package io.spate.server.handlers;

import io.spate.log.AppendResult;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.ClientConnection;
import io.spate.replication.Partition;
import io.spate.server.partition.ReplicaManager;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Produce: each partition's batches go to its log as they are (validated, numbered in place);
 * the response waits only for what the topic's durability setting requires (an fsync shared
 * with other producers, or nothing). {@code acks=0} gets no response at all.
 */
public final class ProduceHandler implements ApiHandler {
    static final String TRANSACTIONS_UNSUPPORTED = "Spate does not support transactions yet";
    private final TopicRegistry topics;
    private final ReplicaManager replicas;
    private final Clock clock;

    public ProduceHandler(TopicRegistry topics, ReplicaManager replicas, Clock clock) {
        this.topics = topics;
        this.replicas = replicas;
        this.clock = clock;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.PRODUCE;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        ProduceRequestData data = ((ProduceRequest) request).data();
        short version = header.apiVersion();
        short acks = data.acks();
        ProduceResponseData response = new ProduceResponseData();
        List<CompletableFuture<Void>> durability = new ArrayList<>();
        long now = clock.millis();
        for (ProduceRequestData.TopicProduceData topicData : data.topicData()) {
            TopicInfo topic = version >= 13 ? topics.get(topicData.topicId()) : topics.get(topicData.name());
            ProduceResponseData.TopicProduceResponse topicResponse = new ProduceResponseData.TopicProduceResponse()
                    .setName(topicData.name()).setTopicId(topicData.topicId());
            for (ProduceRequestData.PartitionProduceData partitionData : topicData.partitionData()) {
                ProduceResponseData.PartitionProduceResponse partitionResponse = new ProduceResponseData.PartitionProduceResponse()
                        .setIndex(partitionData.index()).setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1);
                topicResponse.partitionResponses().add(partitionResponse);
                Errors refusal = refusal(acks, data.transactionalId(), topic, partitionData, version);
                if (refusal != null) {
                    partitionResponse.setErrorCode(refusal.code());
                    if (refusal == Errors.UNSUPPORTED_VERSION && version >= 8) {
                        partitionResponse.setErrorMessage(TRANSACTIONS_UNSUPPORTED);
                    }
                    continue;
                }
                Partition partition = replicas.partition(topic.name(), partitionData.index());
                // Read before the append: acks=all is only answered by the leadership the records went in under.
                int epoch = partition.leaderEpoch();
                AppendResult result = partition.appendAsLeader(((MemoryRecords) partitionData.records()).buffer(), now);
                if (result == null) {
                    partitionResponse.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
                    continue;
                }
                if (result.error() == io.spate.log.LogError.DUPLICATE_SEQUENCE) {
                    // Written before, offset no longer known: the client takes this as written. Like any
                    // retry it is answered only once what precedes the kept batches is as safe as acks asks.
                    partitionResponse.setErrorCode(Errors.DUPLICATE_SEQUENCE_NUMBER.code()).setBaseOffset(-1);
                } else if (!result.ok()) {
                    partitionResponse.setErrorCode(LogErrors.toKafka(result.error()).code());
                    if (version >= 8) {
                        partitionResponse.setErrorMessage(result.message());
                    }
                    continue;
                }
                if (result.ok()) {
                    partitionResponse.setBaseOffset(result.baseOffset()).setLogAppendTimeMs(result.logAppendTimeMs());
                }
                if (version >= 5) {
                    partitionResponse.setLogStartOffset(result.logStartOffset());
                }
                if (acks != 0) {
                    durability.add(replicas.awaitDurable(partition, result.nextOffset()).exceptionally(failure -> {
                        partitionResponse.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code()).setBaseOffset(-1);
                        return null;
                    }));
                }
                // A retried batch (duplicate) waits too: its first attempt may have timed out unreplicated.
                if (acks == -1 && replicas.clustered()) {
                    durability.add(awaitReplication(partition, epoch, result.nextOffset(), data.timeoutMs(), partitionResponse));
                }
            }
            response.responses().add(topicResponse);
        }
        if (durability.isEmpty()) {
            return CompletableFuture.completedFuture(response);
        }
        return CompletableFuture.allOf(durability.toArray(CompletableFuture[]::new)).thenApply(ignored -> response);
    }

    /** acks=all: the response waits until every in-sync replica holds the records, or says why it cannot. */
    private CompletableFuture<Void> awaitReplication(Partition partition, int appendEpoch, long nextOffset, int timeoutMs,
                                                     ProduceResponseData.PartitionProduceResponse partitionResponse) {
        int minInsync = partition.log().config().minInsyncReplicas();
        return partition.awaitReplication(nextOffset, minInsync, appendEpoch, ackWaitMs(timeoutMs)).handle((ok, failure) -> {
            if (failure == null) {
                return null;
            }
            Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
            Errors error;
            if (cause instanceof java.util.concurrent.TimeoutException) {
                error = Errors.REQUEST_TIMED_OUT;
            } else if (cause instanceof Partition.ReplicationException r && r.reason() == Partition.ReplicationException.Reason.NOT_ENOUGH_REPLICAS_AFTER_APPEND) {
                error = Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
            } else {
                error = Errors.NOT_LEADER_OR_FOLLOWER;
            }
            synchronized (partitionResponse) {
                partitionResponse.setErrorCode(error.code()).setBaseOffset(-1);
            }
            return null;
        });
    }

    /**
     * How long an acks=all write waits for its in-sync replicas. The request carries the client's
     * own timeout, which started when the client sent it: answered at that very moment, the
     * answer arrives after the client gave up, and the Kafka client then closes the connection
     * and asks for metadata before it retries (the fault campaigns saw seconds lost that way,
     * seeds 3064 and 3092). Answering REQUEST_TIMED_OUT a tenth earlier (at most a second) lets
     * the client retry on the same connection.
     */
    static long ackWaitMs(int timeoutMs) {
        return Math.max(1, timeoutMs - Math.min(timeoutMs / 10, 1_000));
    }

    private Errors refusal(short acks, String transactionalId, TopicInfo topic, ProduceRequestData.PartitionProduceData partitionData, short version) {
        if (acks != 0 && acks != 1 && acks != -1) {
            return Errors.INVALID_REQUIRED_ACKS;
        }
        if (transactionalId != null) {
            return Errors.UNSUPPORTED_VERSION;
        }
        if (topic == null) {
            return version >= 13 ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION;
        }
        if (io.spate.server.metadata.TopicManager.isInternal(topic.name())) {
            return Errors.INVALID_TOPIC_EXCEPTION;
        }
        if (partitionData.index() < 0 || partitionData.index() >= topic.partitions()) {
            return Errors.UNKNOWN_TOPIC_OR_PARTITION;
        }
        Partition partition = replicas.partition(topic.name(), partitionData.index());
        if (!replicas.servesAsLeader(partition)) {
            return replicas.clustered() ? Errors.NOT_LEADER_OR_FOLLOWER : Errors.UNKNOWN_TOPIC_OR_PARTITION;
        }
        if (!(partitionData.records() instanceof MemoryRecords)) {
            return Errors.CORRUPT_MESSAGE;
        }
        if (acks == -1 && partition.log().config().minInsyncReplicas() > partition.isr().size()) {
            return Errors.NOT_ENOUGH_REPLICAS;
        }
        return null;
    }
}
