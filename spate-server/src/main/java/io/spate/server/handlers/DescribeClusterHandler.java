package io.spate.server.handlers;

import io.spate.server.metadata.ClusterView;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/** DescribeCluster: the cluster id, the controller, and the brokers. */
public final class DescribeClusterHandler implements ApiHandler {
    private final ClusterView cluster;
    private final String clusterId;

    public DescribeClusterHandler(ClusterView cluster, String clusterId) {
        this.cluster = cluster;
        this.clusterId = clusterId;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_CLUSTER;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DescribeClusterResponseData response = new DescribeClusterResponseData()
                .setClusterId(clusterId).setControllerId(cluster.controllerId());
        for (ClusterView.Broker broker : cluster.brokers()) {
            response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker()
                    .setBrokerId(broker.id()).setHost(broker.host()).setPort(broker.port()).setRack(broker.rack()));
        }
        return CompletableFuture.completedFuture(response);
    }
}
