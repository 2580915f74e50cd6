package io.spate.server.handlers;

import io.spate.server.ServerConfig;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeConfigsResponse;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** DescribeConfigs for topics (defaults, broker settings, overrides) and for this broker. */
public final class DescribeConfigsHandler implements ApiHandler {
    private final TopicRegistry topics;
    private final TopicConfigDescriber describer;
    private final ServerConfig config;

    private final io.spate.replication.quota.ReplicationThrottles dynamic;

    /** @param dynamic this node's dynamic settings (the replication throttles), as the cluster metadata holds them */
    public DescribeConfigsHandler(TopicRegistry topics, TopicConfigDescriber describer, ServerConfig config,
                                  io.spate.replication.quota.ReplicationThrottles dynamic) {
        this.topics = topics;
        this.describer = describer;
        this.config = config;
        this.dynamic = dynamic;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.DESCRIBE_CONFIGS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        DescribeConfigsRequestData data = ((DescribeConfigsRequest) request).data();
        short version = header.apiVersion();
        DescribeConfigsResponseData response = new DescribeConfigsResponseData();
        for (DescribeConfigsRequestData.DescribeConfigsResource resource : data.resources()) {
            DescribeConfigsResponseData.DescribeConfigsResult result = new DescribeConfigsResponseData.DescribeConfigsResult()
                    .setResourceType(resource.resourceType()).setResourceName(resource.resourceName());
            List<String> wanted = resource.configurationKeys();
            ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
            if (type == ConfigResource.Type.TOPIC) {
                TopicInfo topic = topics.get(resource.resourceName());
                if (topic == null) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()).setErrorMessage("topic '" + resource.resourceName() + "' does not exist");
                } else {
                    for (TopicConfigDescriber.Entry entry : describer.describe(topic)) {
                        if (wanted == null || wanted.contains(entry.name())) {
                            result.configs().add(TopicConfigDescriber.toResult(entry, false, version));
                        }
                    }
                }
            } else if (type == ConfigResource.Type.BROKER) {
                if (!resource.resourceName().isEmpty() && !resource.resourceName().equals(String.valueOf(config.nodeId()))) {
                    result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("unknown broker " + resource.resourceName());
                } else {
                    // The empty name is every node's (kafka-configs.sh --entity-default): only what was set for all of them.
                    boolean everyNode = resource.resourceName().isEmpty();
                    java.util.Map<String, String> own = everyNode ? java.util.Map.of() : dynamic.ownSettings();
                    java.util.Map<String, String> shared = dynamic.everyNodeSettings();
                    if (!everyNode) {
                        config.brokerConfigs().forEach((name, value) -> {
                            if ((wanted == null || wanted.contains(name)) && !own.containsKey(name) && !shared.containsKey(name)) {
                                result.configs().add(TopicConfigDescriber.toResult(new TopicConfigDescriber.Entry(name, value,
                                        DescribeConfigsResponse.ConfigSource.STATIC_BROKER_CONFIG, DescribeConfigsResponse.ConfigType.STRING), true, version));
                            }
                        });
                        String move = io.spate.replication.quota.ReplicationThrottles.MOVE_RATE;
                        if ((wanted == null || wanted.contains(move)) && !own.containsKey(move) && !shared.containsKey(move)) {
                            result.configs().add(TopicConfigDescriber.toResult(new TopicConfigDescriber.Entry(move,
                                    String.valueOf(io.spate.replication.quota.ReplicationThrottles.DEFAULT_MOVE_RATE),
                                    DescribeConfigsResponse.ConfigSource.DEFAULT_CONFIG, DescribeConfigsResponse.ConfigType.LONG), false, version));
                        }
                    }
                    own.forEach((name, value) -> {
                        if (wanted == null || wanted.contains(name)) {
                            result.configs().add(TopicConfigDescriber.toResult(new TopicConfigDescriber.Entry(name, value,
                                    DescribeConfigsResponse.ConfigSource.DYNAMIC_BROKER_CONFIG, DescribeConfigsResponse.ConfigType.LONG), false, version));
                        }
                    });
                    shared.forEach((name, value) -> {
                        if ((wanted == null || wanted.contains(name)) && !own.containsKey(name)) {
                            result.configs().add(TopicConfigDescriber.toResult(new TopicConfigDescriber.Entry(name, value,
                                    DescribeConfigsResponse.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, DescribeConfigsResponse.ConfigType.LONG), false,
                                    version));
                        }
                    });
                }
            } else {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage("Spate describes topic and broker configs only, not " + type);
            }
            response.results().add(result);
        }
        return CompletableFuture.completedFuture(response);
    }
}
