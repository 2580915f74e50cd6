package io.spate.replication;

import io.spate.log.TopicPartition;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A node's Produce request to a partition's leader, for records it took itself (the HTTP API's,
 * for a partition led elsewhere): one partition's batches in one request, which the leader
 * appends in one write. Spate's side of it names no Kafka protocol class: the answer is Kafka's
 * error code and name, as a client would see them.
 */
public final class LeaderProduce {
    /** The last Produce version that names topics (13 names them by id). */
    static final short VERSION = 12;

    private LeaderProduce() {
    }

    /**
     * What the leader answered: {@code errorCode} 0 and the base offset when written, else Kafka's
     * error code, name and message; and the log start offset it answered with (-1 for none).
     */
    public record Answer(short errorCode, String errorName, String message, long baseOffset, long logStartOffset) {
        public boolean ok() {
            return errorCode == 0;
        }

        /**
         * Answered before anything was appended: sending again cannot write twice. A Spate leader
         * whose leadership ended while an acks=all write waited for its replicas answers
         * NOT_LEADER_OR_FOLLOWER too, after the append, and then with its log start offset: those
         * records may live on at the next leader, and a retry there wrote them twice (found by
         * review). Only the answer without one is a refusal before the append.
         */
        public boolean nothingWritten() {
            Errors error = Errors.forCode(errorCode);
            return error == Errors.NOT_LEADER_OR_FOLLOWER && logStartOffset < 0 || error == Errors.LEADER_NOT_AVAILABLE
                    || error == Errors.UNKNOWN_TOPIC_OR_PARTITION || error == Errors.FENCED_LEADER_EPOCH;
        }
    }

    /**
     * Sends {@code records} (one or more batches, offsets from 0) for {@code tp} over
     * {@code connection} and waits for the answer. {@code acks} NONE is sent as LEADER: a request
     * with acks=0 gets no answer at all, and a kept connection must know where one answer ends
     * before it carries the next request.
     */
    public static Answer send(LeaderConnection connection, TopicPartition tp, ByteBuffer records, Acks acks, int timeoutMs) throws IOException {
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(new ProduceRequestData.TopicProduceData().setName(tp.topic()).setPartitionData(List.of(
                new ProduceRequestData.PartitionProduceData().setIndex(tp.partition()).setRecords(MemoryRecords.readableRecords(records.duplicate())))));
        ProduceRequestData data = new ProduceRequestData()
                .setAcks(acks == Acks.ALL ? (short) -1 : (short) 1)
                .setTimeoutMs(timeoutMs)
                .setTopicData(topics);
        ProduceResponse response = (ProduceResponse) connection.send(new ProduceRequest(data, VERSION));
        for (ProduceResponseData.TopicProduceResponse topic : response.data().responses()) {
            for (ProduceResponseData.PartitionProduceResponse partition : topic.partitionResponses()) {
                if (partition.index() == tp.partition()) {
                    Errors error = Errors.forCode(partition.errorCode());
                    String message = partition.errorMessage() != null ? partition.errorMessage() : error.message();
                    return new Answer(error.code(), error.name(), message, partition.baseOffset(), partition.logStartOffset());
                }
            }
        }
        return new Answer(Errors.UNKNOWN_SERVER_ERROR.code(), Errors.UNKNOWN_SERVER_ERROR.name(), "the leader's answer did not name partition " + tp, -1, -1);
    }
}
