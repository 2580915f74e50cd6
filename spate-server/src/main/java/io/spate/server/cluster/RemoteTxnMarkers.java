package io.spate.server.cluster;

import io.spate.log.TopicPartition;
import io.spate.server.errors.ServiceError;
import io.spate.server.metadata.ClusterView;
import io.spate.server.txn.TxnMarker;
import io.spate.server.txn.TxnMarkerChannel;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.WriteTxnMarkersRequest;
import org.apache.kafka.common.requests.WriteTxnMarkersResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Sends WriteTxnMarkers to other nodes for this node's transaction coordinator: one blocking
 * connection per node, kept open, on one thread of its own (markers are few next to produce
 * traffic, and a slow node delays only the markers queued behind it, which are retried anyway).
 * Like Kafka without an authorizer, the receiver takes WriteTxnMarkers from anyone: the admin
 * client's abort of a hanging transaction (kafka-transactions.sh abort) sends it too.
 */
public final class RemoteTxnMarkers implements TxnMarkerChannel.RemoteWriter, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RemoteTxnMarkers.class);
    private static final int TIMEOUT_MS = 10_000;

    private final String clientId;
    private final ClusterView cluster;
    private final Map<Integer, ControllerConnection> connections = new HashMap<>();
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("spate-txn-markers").daemon().unstarted(r));

    public RemoteTxnMarkers(int localId, ClusterView cluster) {
        this.clientId = "spate-node-" + localId + "-txn-markers";
        this.cluster = cluster;
    }

    @Override
    public CompletableFuture<Map<TopicPartition, ServiceError>> write(int nodeId, TxnMarker marker, Set<TopicPartition> partitions) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return send(nodeId, marker, partitions);
            } catch (IOException e) {
                ControllerConnection broken = connections.remove(nodeId);
                if (broken != null) {
                    broken.close();
                }
                throw new java.io.UncheckedIOException("WriteTxnMarkers to node " + nodeId + " failed: " + e.getMessage(), e);
            }
        }, thread);
    }

    private Map<TopicPartition, ServiceError> send(int nodeId, TxnMarker marker, Set<TopicPartition> partitions) throws IOException {
        ControllerConnection connection = connections.get(nodeId);
        if (connection == null) {
            ClusterView.Broker broker = cluster.broker(nodeId);
            if (broker == null) {
                throw new IOException("node " + nodeId + " is not registered");
            }
            connection = new ControllerConnection(nodeId, broker.host(), broker.port(), TIMEOUT_MS);
            connections.put(nodeId, connection);
        }
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        partitions.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition()));
        List<WriteTxnMarkersRequestData.WritableTxnMarkerTopic> topics = new ArrayList<>();
        byTopic.forEach((topic, indexes) -> topics.add(new WriteTxnMarkersRequestData.WritableTxnMarkerTopic().setName(topic).setPartitionIndexes(indexes)));
        WriteTxnMarkersRequestData data = new WriteTxnMarkersRequestData().setMarkers(List.of(new WriteTxnMarkersRequestData.WritableTxnMarker()
                .setProducerId(marker.producerId()).setProducerEpoch(marker.producerEpoch()).setCoordinatorEpoch(marker.coordinatorEpoch())
                .setTransactionResult(marker.commit()).setTopics(topics)));
        WriteTxnMarkersResponse response = (WriteTxnMarkersResponse) connection.send(new WriteTxnMarkersRequest.Builder(data).build((short) 1), clientId);
        Map<TopicPartition, ServiceError> answers = new HashMap<>();
        for (WriteTxnMarkersResponseData.WritableTxnMarkerResult result : response.data().markers()) {
            for (WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult topic : result.topics()) {
                for (WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult p : topic.partitions()) {
                    answers.put(new TopicPartition(topic.name(), p.partitionIndex()), errorOf(Errors.forCode(p.errorCode())));
                }
            }
        }
        if (answers.values().stream().anyMatch(e -> e == ServiceError.UNKNOWN)) {
            log.warn("node {} refused markers of producer {}: {}", nodeId, marker.producerId(), answers);
        }
        return answers;
    }

    /** Only what the marker sender acts on is told apart; every other answer is retried. */
    private static ServiceError errorOf(Errors error) {
        return switch (error) {
            case NONE -> ServiceError.NONE;
            case INVALID_PRODUCER_EPOCH, PRODUCER_FENCED -> ServiceError.INVALID_PRODUCER_EPOCH;
            case TRANSACTION_COORDINATOR_FENCED -> ServiceError.TRANSACTION_COORDINATOR_FENCED;
            case NOT_LEADER_OR_FOLLOWER -> ServiceError.NOT_LEADER;
            case UNKNOWN_TOPIC_OR_PARTITION -> ServiceError.UNKNOWN_TOPIC_OR_PARTITION;
            case CLUSTER_AUTHORIZATION_FAILED, UNKNOWN_SERVER_ERROR -> ServiceError.UNKNOWN;
            default -> ServiceError.TIMED_OUT;
        };
    }

    @Override
    public void close() {
        // The connections belong to the sender's thread: closed there, after what is queued.
        thread.execute(() -> connections.values().forEach(ControllerConnection::close));
        thread.shutdown();
    }
}
