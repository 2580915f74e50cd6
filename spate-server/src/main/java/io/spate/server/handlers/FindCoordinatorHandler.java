package io.spate.server.handlers;

import io.spate.server.metadata.ClusterView;
import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
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

/** FindCoordinator: this node coordinates every group; transactions are not offered. */
final class FindCoordinatorHandler implements ApiHandler {
    private static final byte GROUP = 0;
    private final GroupCoordinator coordinator;
    private final ClusterView cluster;

    FindCoordinatorHandler(GroupCoordinator coordinator, ClusterView cluster) {
        this.coordinator = coordinator;
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
        String unsupported = keyType == GROUP ? null : "Spate coordinates consumer groups only; transactions and share groups are not supported";
        if (unsupported != null) {
            return CompletableFuture.completedFuture(answer(data, version, unsupported, null));
        }
        // The first FindCoordinator creates the offsets topic, through the controller quorum in a cluster: answer
        // when that is done rather than wait on the network thread.
        return coordinator.ensureOffsetsTopicAsync().handle((ok, failure) -> answer(data, version, null,
                failure == null ? null : "the offsets topic is not available yet: " + ApiErrors.unwrap(failure).getMessage()));
    }

    private ApiMessage answer(FindCoordinatorRequestData data, short version, String unsupported, String topicProblem) {
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        List<String> keys = version >= 4 ? data.coordinatorKeys() : List.of(data.key());
        for (String key : keys) {
            ClusterView.Broker broker = null;
            String message = unsupported != null ? unsupported : topicProblem;
            if (message == null) {
                ClusterView.PartitionView partition = cluster.partition(GroupCoordinator.OFFSETS_TOPIC, coordinator.partitionFor(key));
                broker = partition == null || partition.leader() < 0 ? null : cluster.broker(partition.leader());
                if (broker == null) {
                    message = "the offsets partition of group '" + key + "' has no leader right now";
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
