package io.spate.server.handlers;

import io.spate.log.TopicPartition;
import io.spate.server.network.ClientConnection;
import io.spate.server.txn.TxnMarker;
import io.spate.server.txn.TxnMarkerChannel;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerResult;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.WriteTxnMarkersRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * WriteTxnMarkers, from the transaction coordinator of another node, or from the admin client
 * aborting a hanging transaction (as Kafka without an authorizer, anyone may send it): each
 * marker is written to the partitions this node leads, and each partition answers on its own.
 */
final class WriteTxnMarkersHandler implements ApiHandler {
    private final TxnMarkerChannel.LocalWriter markers;

    WriteTxnMarkersHandler(TxnMarkerChannel.LocalWriter markers) {
        this.markers = markers;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.WRITE_TXN_MARKERS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        WriteTxnMarkersRequestData data = ((WriteTxnMarkersRequest) request).data();
        WriteTxnMarkersResponseData response = new WriteTxnMarkersResponseData();
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (WriteTxnMarkersRequestData.WritableTxnMarker m : data.markers()) {
            TxnMarker marker = new TxnMarker(m.producerId(), m.producerEpoch(), m.coordinatorEpoch(), m.transactionResult());
            WritableTxnMarkerResult result = new WritableTxnMarkerResult().setProducerId(m.producerId());
            response.markers().add(result);
            for (WriteTxnMarkersRequestData.WritableTxnMarkerTopic topic : m.topics()) {
                WritableTxnMarkerTopicResult topicResult = new WritableTxnMarkerTopicResult().setName(topic.name());
                result.topics().add(topicResult);
                for (int partition : topic.partitionIndexes()) {
                    WritableTxnMarkerPartitionResult partitionResult = new WritableTxnMarkerPartitionResult().setPartitionIndex(partition);
                    topicResult.partitions().add(partitionResult);
                    writes.add(markers.write(new TopicPartition(topic.name(), partition), marker).handle((error, failure) -> {
                        // Each write fills in its own answer; the response is read once all of them completed.
                        Errors code = failure != null ? Errors.forException(ApiErrors.unwrap(failure)) : KafkaErrors.of(error);
                        partitionResult.setErrorCode(code.code());
                        return null;
                    }));
                }
            }
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).thenApply(done -> response);
    }
}
