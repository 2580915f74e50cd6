package io.spate.server.handlers;

import io.spate.server.ServerConfig;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.concurrent.CompletableFuture;

/** DescribeCluster: the cluster id, the controller, and the brokers. */
public final class DescribeClusterHandler implements ApiHandler {
    private final ServerConfig config;
    private final String clusterId;

    public DescribeClusterHandler(ServerConfig config, String clusterId) {
        this.config = config;
        this.clusterId = clusterId;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_CLUSTER;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DescribeClusterResponseData response = new DescribeClusterResponseData()
                .setClusterId(clusterId).setControllerId(config.nodeId());
        response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker()
                .setBrokerId(config.nodeId()).setHost(config.host()).setPort(config.port()));
        return CompletableFuture.completedFuture(response);
    }
}
