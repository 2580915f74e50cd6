package io.spate.tests.support;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;

import java.nio.charset.StandardCharsets;

/** Hand-made requests for the raw client: produce v9 (topics by name) with chosen batches. */
public final class RawRequests {
    public static final short PRODUCE_VERSION = 9;

    private RawRequests() {
    }

    public static MemoryRecords records(String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(System.currentTimeMillis(), "k".getBytes(StandardCharsets.UTF_8), values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withRecords(Compression.NONE, records);
    }

    public static MemoryRecords idempotent(long producerId, short epoch, int baseSequence, String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(System.currentTimeMillis(), null, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch, baseSequence, records);
    }

    /** A transactional batch (KIP-98) of {@code producerId}, as a transactional producer sends it. */
    public static MemoryRecords transactional(long producerId, short epoch, int baseSequence, String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(System.currentTimeMillis(), null, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, epoch, baseSequence, records);
    }

    public static ProduceRequest produce(String topic, int partition, short acks, MemoryRecords records) {
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        ProduceRequestData.TopicProduceData topicData = new ProduceRequestData.TopicProduceData().setName(topic);
        topicData.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(partition).setRecords(records));
        topics.add(topicData);
        ProduceRequestData data = new ProduceRequestData().setAcks(acks).setTimeoutMs(10_000).setTopicData(topics);
        return new ProduceRequest.Builder(PRODUCE_VERSION, PRODUCE_VERSION, data).build(PRODUCE_VERSION);
    }

    public static ProduceResponseDataView only(ProduceResponse response) {
        var partition = response.data().responses().iterator().next().partitionResponses().get(0);
        return new ProduceResponseDataView(partition.errorCode(), partition.baseOffset(), partition.errorMessage());
    }

    /** The one partition answer of a single-partition produce. */
    public record ProduceResponseDataView(short errorCode, long baseOffset, String errorMessage) {
    }
}
