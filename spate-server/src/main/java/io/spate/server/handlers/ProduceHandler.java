package io.spate.server.handlers;

import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.log.AppendOrigin;
import io.spate.log.TxnVerificationGuard;
import io.spate.record.RecordBatch;
import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;
import io.spate.server.network.ClientConnection;
import io.spate.server.txn.TxnVerifier;
import io.spate.replication.Acks;
import io.spate.replication.Partition;
import io.spate.replication.Written;
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
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Produce: decodes the request, hands each partition's batches (as they are) to
 * {@link Partition#append}, which numbers them in place and says when they are as safe as
 * {@code acks} asks, and encodes the answers. {@code acks=0} gets no response at all.
 */
public final class ProduceHandler implements ApiHandler {
    private final TopicRegistry topics;
    private final ReplicaManager replicas;
    private final Clock clock;

    /** KIP-890 part 1 (transaction.partition.verification.enable); null when off. */
    private final TxnVerifier verifier;
    /** The last write of each producer and partition waiting for its verification, or behind one that is. */
    private final java.util.concurrent.ConcurrentHashMap<ProducerPartition, CompletableFuture<Boolean>> verifyingWrites = new java.util.concurrent.ConcurrentHashMap<>();

    public ProduceHandler(TopicRegistry topics, ReplicaManager replicas, Clock clock) {
        this(topics, replicas, clock, null);
    }

    public ProduceHandler(TopicRegistry topics, ReplicaManager replicas, Clock clock, TxnVerifier verifier) {
        this.topics = topics;
        this.replicas = replicas;
        this.clock = clock;
        this.verifier = verifier;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.PRODUCE;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        ProduceRequestData data = ((ProduceRequest) request).data();
        short version = header.apiVersion();
        Acks acks = Acks.fromKafka(data.acks());
        ProduceResponseData response = new ProduceResponseData();
        List<CompletableFuture<Void>> pending = null;
        long now = clock.millis();
        long replicationWaitMs = ackWaitMs(data.timeoutMs());
        for (ProduceRequestData.TopicProduceData topicData : data.topicData()) {
            TopicInfo topic = version >= 13 ? topics.get(TopicIds.fromWire(topicData.topicId())) : topics.get(topicData.name());
            ProduceResponseData.TopicProduceResponse topicResponse = new ProduceResponseData.TopicProduceResponse()
                    .setName(topicData.name()).setTopicId(topicData.topicId());
            for (ProduceRequestData.PartitionProduceData partitionData : topicData.partitionData()) {
                ProduceResponseData.PartitionProduceResponse partitionResponse = new ProduceResponseData.PartitionProduceResponse()
                        .setIndex(partitionData.index()).setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1);
                topicResponse.partitionResponses().add(partitionResponse);
                Errors refusal = refusal(acks, topic, partitionData, version);
                if (refusal != null) {
                    partitionResponse.setErrorCode(refusal.code());
                    continue;
                }
                Partition partition = replicas.partition(topic.name(), partitionData.index());
                if (partition == null) { // removed since the check above (the topic was deleted, or moved away)
                    partitionResponse.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
                    continue;
                }
                ByteBuffer records = ((MemoryRecords) partitionData.records()).buffer();
                boolean transactional = records.remaining() >= RecordBatch.HEADER_SIZE && RecordBatch.of(records).isTransactional();
                if (transactional && data.transactionalId() == null) {
                    // Kafka's answer: transactional data is written only under the transactional id it belongs to.
                    partitionResponse.setErrorCode(Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
                    continue;
                }
                CompletableFuture<Written> written;
                if (transactional && verifier != null) {
                    RecordBatch first = RecordBatch.of(records);
                    ProducerPartition key = new ProducerPartition(partition.topicPartition(), first.producerId());
                    TxnVerificationGuard guard = partition.log().beginTransactionVerification(first.producerId(), first.producerEpoch(), now);
                    CompletableFuture<Boolean> ahead = verifyingWrites.get(key);
                    if (guard != TxnVerificationGuard.ALREADY_OPEN || (ahead != null && !ahead.isDone())) {
                        if (pending == null) {
                            pending = new ArrayList<>();
                        }
                        pending.add(verifyThenAppend(data.transactionalId(), key, first.producerEpoch(), partition, records, guard,
                                acks, replicationWaitMs, partitionResponse, version, connection));
                        continue;
                    }
                    written = partition.append(records, acks, replicationWaitMs, now, AppendOrigin.CLIENT, guard);
                } else {
                    written = partition.append(records, acks, replicationWaitMs, now);
                }
                if (written.isDone()) {
                    answer(partitionResponse, written.join(), version);
                } else {
                    if (pending == null) {
                        pending = new ArrayList<>();
                    }
                    pending.add(written.thenAccept(w -> answer(partitionResponse, w, version)));
                }
            }
            response.responses().add(topicResponse);
        }
        if (pending == null) {
            return CompletableFuture.completedFuture(response);
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(ignored -> response);
    }

    /** A producer's writes to one partition, which must be appended in the order they came. */
    private record ProducerPartition(io.spate.log.TopicPartition partition, long producerId) {
    }

    /**
     * KIP-890 part 1: the producer's first transactional write here waits for its coordinator to
     * say the partition is in the open transaction. Its next writes (up to five in flight) queue
     * behind it, in the order they came, each taking its turn once the one before it is appended
     * here (not replicated): their sequences must land in order. At its turn a write whose
     * transaction is open by then needs no verdict; one whose transaction is still not open after
     * the write ahead failed is refused as retriable, since its sequence would leave a gap. The
     * turns run on the connection's event loop, like the handler. The request's bytes are
     * recycled when the handler returns, so the batches wait in a copy.
     */
    private CompletableFuture<Void> verifyThenAppend(String transactionalId, ProducerPartition key, short epoch, Partition partition, ByteBuffer records,
                                                     TxnVerificationGuard guard, Acks acks, long replicationWaitMs,
                                                     ProduceResponseData.PartitionProduceResponse partitionResponse, short version,
                                                     ClientConnection connection) {
        ByteBuffer copy = ByteBuffer.allocate(records.remaining()).put(records.duplicate()).flip();
        io.spate.log.TopicPartition tp = key.partition();
        CompletableFuture<Errors> verdict = guard == TxnVerificationGuard.ALREADY_OPEN ? CompletableFuture.completedFuture(Errors.NONE)
                : verifier.verify(transactionalId, key.producerId(), epoch, java.util.Set.of(tp)).handle((inTransaction, failure) -> {
                    if (failure != null) {
                        // Kafka's answers: a fenced producer learns it; a coordinator that could not be asked is retried.
                        return switch (ServiceException.errorOf(failure, ServiceError.COORDINATOR_NOT_AVAILABLE)) {
                            case PRODUCER_FENCED -> Errors.INVALID_PRODUCER_EPOCH;
                            case INVALID_PRODUCER_ID_MAPPING -> Errors.INVALID_PRODUCER_ID_MAPPING;
                            default -> Errors.NOT_ENOUGH_REPLICAS;
                        };
                    }
                    return inTransaction ? Errors.NONE : Errors.INVALID_TXN_STATE;
                });
        // Completes at this write's turn's end: true when it was appended here.
        CompletableFuture<Boolean> turnDone = new CompletableFuture<>();
        CompletableFuture<Void> answered = new CompletableFuture<>();
        CompletableFuture<Boolean> previous = verifyingWrites.put(key, turnDone);
        CompletableFuture<Boolean> ahead = previous == null ? CompletableFuture.completedFuture(true) : previous;
        ahead.thenCombineAsync(verdict, (aheadAppended, v) -> {
            try {
                boolean openNow = partition.log().beginTransactionVerification(key.producerId(), epoch, clock.millis()) == TxnVerificationGuard.ALREADY_OPEN;
                Errors refusal = openNow ? Errors.NONE : !aheadAppended ? Errors.NOT_ENOUGH_REPLICAS : v;
                if (refusal != Errors.NONE) {
                    partitionResponse.setErrorCode(refusal.code());
                    if (version >= 8 && refusal == Errors.INVALID_TXN_STATE) {
                        partitionResponse.setErrorMessage("partition " + tp + " is not in the open transaction of '" + transactionalId + "'");
                    }
                    answered.complete(null);
                    return false;
                }
                CompletableFuture<Written> written = partition.append(copy, acks, replicationWaitMs, clock.millis(), AppendOrigin.CLIENT,
                        openNow ? TxnVerificationGuard.ALREADY_OPEN : guard);
                written.whenComplete((w, failure) -> {
                    if (w != null) {
                        answer(partitionResponse, w, version);
                    }
                    answered.complete(null);
                });
                // The local append has happened (the future waits for replication): the next write may take its turn.
                return !written.isDone() || written.join().ok();
            } catch (RuntimeException e) {
                answered.completeExceptionally(e);
                return false;
            }
        }, connection.eventLoop()).whenComplete((appended, failure) -> {
            turnDone.complete(failure == null && appended);
            verifyingWrites.remove(key, turnDone);
        });
        return answered;
    }

    private void answer(ProduceResponseData.PartitionProduceResponse partitionResponse, Written written, short version) {
        partitionResponse.setErrorCode(KafkaErrors.of(written).code())
                .setBaseOffset(written.baseOffset()).setLogAppendTimeMs(written.logAppendTimeMs());
        if (KafkaErrors.carriesMessage(written.error())) {
            if (version >= 8) {
                partitionResponse.setErrorMessage(written.message());
            }
        } else if (version >= 5) {
            partitionResponse.setLogStartOffset(written.logStartOffset());
        }
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

    /** What the request itself gets wrong; leadership and the in-sync set are the partition's to judge. */
    private Errors refusal(Acks acks, TopicInfo topic, ProduceRequestData.PartitionProduceData partitionData, short version) {
        if (acks == null) {
            return Errors.INVALID_REQUIRED_ACKS;
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
        if (replicas.partition(topic.name(), partitionData.index()) == null) {
            return Errors.NOT_LEADER_OR_FOLLOWER;
        }
        if (!(partitionData.records() instanceof MemoryRecords)) {
            return Errors.CORRUPT_MESSAGE;
        }
        return null;
    }
}
