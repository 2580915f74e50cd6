package io.spate.server.handlers;

import io.spate.cluster.ClusterSettings;
import io.spate.cluster.QuorumState;
import io.spate.server.cluster.ClusterMember;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.internals.Topic;
import org.apache.kafka.common.message.DescribeQuorumRequestData;
import org.apache.kafka.common.message.DescribeQuorumResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DescribeQuorumRequest;
import org.apache.kafka.common.requests.DescribeQuorumResponse;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * DescribeQuorum (KIP-595, KIP-836, KIP-853), what {@code kafka-metadata-quorum.sh describe} and
 * {@code Admin.describeMetadataQuorum} ask: the controller quorum's leader, term and commit index,
 * each voter's last index and last contact, and the other nodes as observers. The metadata log
 * is Ratis' and is named {@code __cluster_metadata}-0 as in Kafka; a term is a leader epoch, a log
 * index an offset. Answered by the node whose voter leads; any other node passes the request on
 * to it, as Kafka's brokers pass it to the active controller, and answers NOT_CONTROLLER (which
 * the admin client retries) when it cannot.
 */
public final class DescribeQuorumHandler implements ApiHandler {
    private final ClusterMember member;

    public DescribeQuorumHandler(ClusterMember member) {
        this.member = member;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_QUORUM;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DescribeQuorumRequestData data = ((DescribeQuorumRequest) request).data();
        short version = header.apiVersion();
        if (!asksForTheMetadataLog(data)) {
            return CompletableFuture.completedFuture(DescribeQuorumResponse.singletonErrorResponse(Topic.CLUSTER_METADATA_TOPIC_PARTITION,
                    Errors.UNKNOWN_TOPIC_OR_PARTITION));
        }
        var report = member.quorumReport();
        if (report.isPresent()) {
            return CompletableFuture.completedFuture(answer(report.get(), version));
        }
        String clientId = header.clientId();
        if (clientId != null && clientId.startsWith(ClusterMember.FORWARDED_CLIENT_ID)) {
            // Passed on by a node that took this one for the leader: the lead moved, let the client ask again.
            return CompletableFuture.completedFuture(notController("node " + member.nodeId() + " no longer leads the controller quorum"));
        }
        return member.forwardToController(new DescribeQuorumRequest.Builder(data).build(version))
                .<ApiMessage>thenApply(response -> ((DescribeQuorumResponse) response).data())
                .exceptionally(failure -> notController("the controller quorum's leader could not be asked: " + failure.getMessage()));
    }

    private static boolean asksForTheMetadataLog(DescribeQuorumRequestData data) {
        return data.topics().size() == 1
                && Topic.CLUSTER_METADATA_TOPIC_NAME.equals(data.topics().get(0).topicName())
                && data.topics().get(0).partitions().size() == 1
                && data.topics().get(0).partitions().get(0).partitionIndex() == Topic.CLUSTER_METADATA_TOPIC_PARTITION.partition();
    }

    private static DescribeQuorumResponseData notController(String message) {
        return new DescribeQuorumResponseData().setErrorCode(Errors.NOT_CONTROLLER.code()).setErrorMessage(message);
    }

    static DescribeQuorumResponseData answer(ClusterMember.QuorumReport report, short version) {
        QuorumState state = report.state();
        DescribeQuorumResponseData.PartitionData partition = new DescribeQuorumResponseData.PartitionData()
                .setPartitionIndex(Topic.CLUSTER_METADATA_TOPIC_PARTITION.partition())
                .setErrorCode(Errors.NONE.code())
                .setLeaderId(state.leaderId())
                .setLeaderEpoch((int) Math.min(Integer.MAX_VALUE, state.leaderEpoch()))
                .setHighWatermark(state.highWatermark())
                .setCurrentVoters(replicas(state.voters(), version))
                .setObservers(replicas(report.observers(), version));
        DescribeQuorumResponseData response = new DescribeQuorumResponseData().setErrorCode(Errors.NONE.code());
        response.topics().add(new DescribeQuorumResponseData.TopicData().setTopicName(Topic.CLUSTER_METADATA_TOPIC_NAME)
                .setPartitions(List.of(partition)));
        if (version >= 2) {
            // The voters' endpoints are their Raft addresses, under the name Kafka gives a controller listener.
            for (ClusterSettings.Voter voter : report.voters()) {
                DescribeQuorumResponseData.ListenerCollection listeners = new DescribeQuorumResponseData.ListenerCollection();
                listeners.add(new DescribeQuorumResponseData.Listener().setName("CONTROLLER").setHost(voter.host()).setPort(voter.port()));
                response.nodes().add(new DescribeQuorumResponseData.Node().setNodeId(voter.id()).setListeners(listeners));
            }
        }
        return response;
    }

    private static List<DescribeQuorumResponseData.ReplicaState> replicas(List<QuorumState.ReplicaProgress> progress, short version) {
        return progress.stream().map(p -> {
            DescribeQuorumResponseData.ReplicaState replica = new DescribeQuorumResponseData.ReplicaState()
                    .setReplicaId(p.nodeId()).setLogEndOffset(p.logEndOffset());
            if (version >= 1) {
                replica.setLastFetchTimestamp(p.lastFetchMs()).setLastCaughtUpTimestamp(p.lastCaughtUpMs());
            }
            if (version >= 2) {
                replica.setReplicaDirectoryId(Uuid.ZERO_UUID); // Ratis' storage has no directory id
            }
            return replica;
        }).toList();
    }
}
