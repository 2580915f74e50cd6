package io.spate.server.cluster;

import io.spate.log.TopicPartition;
import io.spate.server.errors.ServiceError;
import io.spate.server.metadata.ClusterView;
import io.spate.server.txn.TxnMarker;
import io.spate.server.txn.TxnMarkerChannel;
import io.spate.server.errors.ServiceException;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnResponse;
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
 * Transaction requests to other nodes: WriteTxnMarkers for this node's transaction coordinator,
 * and (KIP-890 part 1) verify-only AddPartitionsToTxn for this node's partitions. One blocking
 * connection and one thread per destination node (these requests are few next to produce
 * traffic): a node that does not answer delays only what is queued for it, and its senders try
 * again, looking the leaders up afresh.
 * Like Kafka without an authorizer, the receiver takes WriteTxnMarkers from anyone: the admin
 * client's abort of a hanging transaction (kafka-transactions.sh abort) sends it too.
 */
public final class RemoteTxnRequests implements TxnMarkerChannel.RemoteWriter, io.spate.server.txn.TxnVerifier.Remote, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RemoteTxnRequests.class);
    /** Connect and read timeout: a node that does not answer within it is tried again by the caller's next round. */
    private static final int TIMEOUT_MS = 5_000;

    private final String clientId;
    private final ClusterView cluster;
    private final String purpose;
    /** One queue per destination, each with its own thread and connection: a node that does not answer holds up only its own requests. */
    private final Map<Integer, NodeQueue> queues = new HashMap<>();
    private boolean closed;

    private static final class NodeQueue {
        final ExecutorService thread;
        ControllerConnection connection;

        NodeQueue(ExecutorService thread) {
            this.thread = thread;
        }
    }

    /** {@code purpose} names the threads and the client id: markers and verifications each get their own. */
    public RemoteTxnRequests(int localId, ClusterView cluster, String purpose) {
        this.clientId = "spate-node-" + localId + "-" + purpose;
        this.cluster = cluster;
        this.purpose = purpose;
    }

    private synchronized NodeQueue queue(int nodeId) {
        if (closed) {
            throw new java.util.concurrent.RejectedExecutionException("closed");
        }
        return queues.computeIfAbsent(nodeId, id -> new NodeQueue(Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name("spate-" + purpose + "-to-" + id).daemon().unstarted(r))));
    }

    @Override
    public CompletableFuture<Map<TopicPartition, ServiceError>> write(int nodeId, TxnMarker marker, Set<TopicPartition> partitions) {
        NodeQueue queue = queue(nodeId);
        return CompletableFuture.supplyAsync(() -> {
            try {
                return send(queue, nodeId, marker, partitions);
            } catch (IOException e) {
                dropConnection(queue);
                throw new java.io.UncheckedIOException("WriteTxnMarkers to node " + nodeId + " failed: " + e.getMessage(), e);
            }
        }, queue.thread);
    }

    /**
     * KIP-890 part 1: AddPartitionsToTxn v4, verify only, to the coordinator's node. NONE is a yes,
     * INVALID_TXN_STATE a no; a fenced producer fails with PRODUCER_FENCED, anything else with
     * COORDINATOR_NOT_AVAILABLE (the producer retries its write).
     */
    @Override
    public CompletableFuture<Boolean> verify(int nodeId, String transactionalId, long producerId, short epoch, Set<TopicPartition> partitions) {
        NodeQueue queue = queue(nodeId);
        return CompletableFuture.supplyAsync(() -> {
            AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection topics = new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection();
            Map<String, List<Integer>> byTopic = new TreeMap<>();
            partitions.forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition()));
            byTopic.forEach((topic, indexes) -> topics.add(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName(topic).setPartitions(indexes)));
            AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection transactions = new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection();
            transactions.add(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction().setTransactionalId(transactionalId)
                    .setProducerId(producerId).setProducerEpoch(epoch).setVerifyOnly(true).setTopics(topics));
            AddPartitionsToTxnResponse response;
            try {
                response = (AddPartitionsToTxnResponse) connection(queue, nodeId).send(AddPartitionsToTxnRequest.Builder.forBroker(transactions).build((short) 4), clientId);
            } catch (IOException e) {
                dropConnection(queue);
                throw new ServiceException(ServiceError.COORDINATOR_NOT_AVAILABLE, "could not ask node " + nodeId + ": " + e.getMessage());
            }
            Errors worst = Errors.forCode(response.data().errorCode());
            for (var result : response.data().resultsByTransaction()) {
                for (var topic : result.topicResults()) {
                    for (var partition : topic.resultsByPartition()) {
                        Errors error = Errors.forCode(partition.partitionErrorCode());
                        if (error != Errors.NONE && (worst == Errors.NONE || worst == Errors.INVALID_TXN_STATE)) {
                            worst = error;
                        }
                    }
                }
            }
            return switch (worst) {
                case NONE -> true;
                case INVALID_TXN_STATE -> false;
                case PRODUCER_FENCED, INVALID_PRODUCER_EPOCH ->
                        throw new ServiceException(ServiceError.PRODUCER_FENCED, "the coordinator of '" + transactionalId + "' fenced producer " + producerId);
                case INVALID_PRODUCER_ID_MAPPING -> throw new ServiceException(ServiceError.INVALID_PRODUCER_ID_MAPPING,
                        "producer " + producerId + " is not the producer of '" + transactionalId + "'");
                default -> throw new ServiceException(ServiceError.COORDINATOR_NOT_AVAILABLE, "the coordinator of '" + transactionalId
                        + "' on node " + nodeId + " answered " + worst);
            };
        }, queue.thread);
    }

    /** On the queue's thread. */
    private ControllerConnection connection(NodeQueue queue, int nodeId) throws IOException {
        if (queue.connection == null) {
            ClusterView.Broker broker = cluster.broker(nodeId);
            if (broker == null) {
                throw new IOException("node " + nodeId + " is not registered");
            }
            queue.connection = new ControllerConnection(nodeId, broker.host(), broker.port(), TIMEOUT_MS);
        }
        return queue.connection;
    }

    /** On the queue's thread. */
    private static void dropConnection(NodeQueue queue) {
        if (queue.connection != null) {
            queue.connection.close();
            queue.connection = null;
        }
    }

    private Map<TopicPartition, ServiceError> send(NodeQueue queue, int nodeId, TxnMarker marker, Set<TopicPartition> partitions) throws IOException {
        ControllerConnection connection = connection(queue, nodeId);
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
        List<NodeQueue> all;
        synchronized (this) {
            closed = true;
            all = List.copyOf(queues.values());
        }
        // Each connection belongs to its queue's thread: closed there, after what is queued.
        for (NodeQueue queue : all) {
            queue.thread.execute(() -> dropConnection(queue));
            queue.thread.shutdown();
        }
    }
}
