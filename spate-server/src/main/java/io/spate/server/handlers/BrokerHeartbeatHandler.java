package io.spate.server.handlers;

import io.spate.server.cluster.ClusterMember;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.BrokerHeartbeatRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.BrokerHeartbeatRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/**
 * BrokerHeartbeat (KIP-631), node to controller: served on the Kafka listener of the node that
 * leads the controller quorum, which records that the sender is alive; other nodes answer
 * NOT_CONTROLLER. Heartbeats travel here rather than through the Raft client so that they never
 * wait behind the Raft client's handling of a dead peer.
 */
public final class BrokerHeartbeatHandler implements ApiHandler {
    private final ClusterMember member;

    public BrokerHeartbeatHandler(ClusterMember member) {
        this.member = member;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.BROKER_HEARTBEAT;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        BrokerHeartbeatRequestData data = ((BrokerHeartbeatRequest) request).data();
        return CompletableFuture.completedFuture(member.onHeartbeat(data.brokerId(), data.brokerEpoch(), data.currentMetadataOffset()));
    }
}
