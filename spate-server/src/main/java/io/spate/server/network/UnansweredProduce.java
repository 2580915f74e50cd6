package io.spate.server.network;

import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * What went wrong with a produce request that gets no answer (acks=0). Such a producer learns of
 * a failure only by its connection closing, as with Kafka: it then refreshes its metadata and
 * finds, say, the partition's new leader, instead of writing on into nothing.
 */
final class UnansweredProduce {
    private UnansweredProduce() {
    }

    /** @return why the request failed (the first failing partition), or null when every partition took its records */
    static String failure(ApiMessage response, Throwable error) {
        if (error != null) {
            return String.valueOf(error.getMessage());
        }
        if (!(response instanceof ProduceResponseData produce)) {
            return null;
        }
        for (ProduceResponseData.TopicProduceResponse topic : produce.responses()) {
            for (ProduceResponseData.PartitionProduceResponse partition : topic.partitionResponses()) {
                if (partition.errorCode() != Errors.NONE.code()) {
                    Errors code = Errors.forCode(partition.errorCode());
                    return topic.name() + "-" + partition.index() + ": " + code
                            + (partition.errorMessage() == null ? "" : " (" + partition.errorMessage() + ")");
                }
            }
        }
        return null;
    }
}
