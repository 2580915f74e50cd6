package io.spate.server.handlers;

import io.spate.server.metadata.ClusterView;
import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import io.spate.server.txn.TransactionCoordinator;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * FindCoordinator: the leader of the partition of {@code __consumer_offsets} (groups) or
 * {@code __transaction_state} (transactional ids) that holds the key; the topic is created on the
 * first lookup. Share groups are not offered.
 */
final class FindCoordinatorHandler implements ApiHandler {
    private static final byte GROUP = 0;
    private static final byte TRANSACTION = 1;
    private final GroupCoordinator coordinator;
    private final TransactionCoordinator transactions;
    private final ClusterView cluster;

    FindCoordinatorHandler(GroupCoordinator coordinator, TransactionCoordinator transactions, ClusterView cluster) {
        this.coordinator = coordinator;
        this.transactions = transactions;
        this.cluster = cluster;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.FIND_COORDINATOR;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        FindCoordinatorRequestData data = ((FindCoordinatorRequest) request).data();
        short version = header.apiVersion();
        byte keyType = version >= 1 ? data.keyType() : GROUP;
        if (keyType != GROUP && keyType != TRANSACTION) {
            return CompletableFuture.completedFuture(answer(data, version, keyType, "Spate coordinates consumer groups and transactions; share groups are not supported", null));
        }
        // The first FindCoordinator creates the internal topic, through the controller quorum in a cluster: answer
        // when that is done rather than wait on the network thread.
        CompletableFuture<Void> topic = keyType == GROUP ? coordinator.ensureOffsetsTopicAsync() : transactions.ensureTopicAsync();
        return topic.handle((ok, failure) -> answer(data, version, keyType, null,
                failure == null ? null : "the " + (keyType == GROUP ? GroupCoordinator.OFFSETS_TOPIC : TransactionCoordinator.TOPIC)
                        + " topic is not available yet: " + ApiErrors.unwrap(failure).getMessage()));
    }

    private ApiMessage answer(FindCoordinatorRequestData data, short version, byte keyType, String unsupported, String topicProblem) {
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        List<String> keys = version >= 4 ? data.coordinatorKeys() : List.of(data.key());
        for (String key : keys) {
            ClusterView.Broker broker = null;
            String message = unsupported != null ? unsupported : topicProblem;
            if (message == null) {
                ClusterView.PartitionView partition = keyType == GROUP
                        ? cluster.partition(GroupCoordinator.OFFSETS_TOPIC, coordinator.partitionFor(key))
                        : cluster.partition(TransactionCoordinator.TOPIC, transactions.partitionFor(key));
                broker = partition == null || partition.leader() < 0 ? null : cluster.broker(partition.leader());
                if (broker == null) {
                    message = (keyType == GROUP ? "the offsets partition of group '" : "the transaction state partition of '") + key
                            + "' has no leader right now";
                }
            }
            // An unsupported key type fails at once: COORDINATOR_NOT_AVAILABLE would have clients retry until they time out.
            Errors error = unsupported != null ? Errors.UNSUPPORTED_VERSION : broker == null ? Errors.COORDINATOR_NOT_AVAILABLE : Errors.NONE;
            int nodeId = broker == null ? -1 : broker.id();
            String host = broker == null ? "" : broker.host();
            int port = broker == null ? -1 : broker.port();
            if (version >= 4) {
                response.coordinators().add(new FindCoordinatorResponseData.Coordinator().setKey(key)
                        .setNodeId(nodeId).setHost(host).setPort(port).setErrorCode(error.code()).setErrorMessage(message));
            } else {
                response.setErrorCode(error.code()).setNodeId(nodeId).setHost(host).setPort(port);
                if (version >= 1) {
                    response.setErrorMessage(message);
                }
            }
        }
        return response;
    }
}
