package io.spate.server.handlers;

import io.spate.server.errors.ServiceException;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicManager;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import io.spate.replication.quota.ReplicationThrottles;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * IncrementalAlterConfigs on topics: SET, DELETE, and APPEND/SUBTRACT for list settings. The
 * change is validated whole, persisted, and applied to the running logs. On brokers (one node, or
 * every node with an empty name) only the replication throttles are dynamic, stored in the
 * cluster metadata as Kafka's dynamic broker configs are; the other broker settings are static.
 */
public final class IncrementalAlterConfigsHandler implements ApiHandler {
    private final TopicManager topics;

    public IncrementalAlterConfigsHandler(TopicManager topics) {
        this.topics = topics;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.INCREMENTAL_ALTER_CONFIGS;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        IncrementalAlterConfigsRequestData data = ((IncrementalAlterConfigsRequest) request).data();
        IncrementalAlterConfigsResponseData response = new IncrementalAlterConfigsResponseData();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (IncrementalAlterConfigsRequestData.AlterConfigsResource resource : data.resources()) {
            IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse result = new IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse()
                    .setResourceType(resource.resourceType()).setResourceName(resource.resourceName());
            response.responses().add(result);
            try {
                ConfigResource.Type type = ConfigResource.Type.forId(resource.resourceType());
                if (type == ConfigResource.Type.BROKER) {
                    int node = nodeOf(resource.resourceName());
                    // Only the keys named go to the controller quorum, which applies them to the settings it has
                    // committed: a whole map made from this node's copy would undo a change made meanwhile through another node.
                    NodeConfigChange change = nodeChange(resource.configs());
                    pending.add(topics.alterNodeConfigAsync(node, change.set(), change.deleted(), data.validateOnly()).handle((ignored, failure) -> {
                        if (failure != null) {
                            ApiException e = ApiErrors.unwrap(failure);
                            result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
                        }
                        return null;
                    }));
                    continue;
                }
                if (type != ConfigResource.Type.TOPIC) {
                    throw new InvalidRequestException("Spate alters topic and broker configs only, not " + type);
                }
                TopicInfo topic = topics.registry().get(resource.resourceName());
                if (topic == null) {
                    throw new UnknownTopicOrPartitionException("topic '" + resource.resourceName() + "' does not exist");
                }
                // The operations are applied to the settings the controller quorum has committed (again, if
                // another change gets in first). Completes when the quorum has the change; the network thread does not wait.
                pending.add(topics.alterConfigAsync(topic.name(), overrides -> apply(overrides, resource.configs()), data.validateOnly())
                        .handle((updated, failure) -> {
                            if (failure != null) {
                                ApiException e = ApiErrors.unwrap(failure);
                                result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
                            } else if (updated == null) {
                                ApiException e = new UnknownTopicOrPartitionException("topic '" + resource.resourceName() + "' does not exist");
                                result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
                            }
                            return null;
                        }));
            } catch (ApiException | ServiceException refused) {
                ApiException e = ApiErrors.unwrap(refused);
                result.setErrorCode(Errors.forException(e).code()).setErrorMessage(e.getMessage());
            }
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(ignored -> response);
    }

    /** A broker resource's name: a node id, or empty for every node (Kafka's cluster-wide default). */
    private static int nodeOf(String name) {
        if (name == null || name.isEmpty()) {
            return io.spate.cluster.ClusterImage.EVERY_NODE;
        }
        try {
            int id = Integer.parseInt(name);
            if (id < 0) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("'" + name + "' is not a broker id");
        }
    }

    /** What a change does to a node's dynamic settings: the keys it sets, and those it deletes. */
    private record NodeConfigChange(Map<String, String> set, Set<String> deleted) {
    }

    /**
     * The keys {@code changes} set and delete in a node's dynamic settings, a later operation on a
     * key taking the place of an earlier one. Only the replication throttles are dynamic here (what
     * kafka-reassign-partitions.sh --throttle and kafka-configs.sh --entity-type brokers set);
     * every other broker setting is static.
     */
    private static NodeConfigChange nodeChange(IncrementalAlterConfigsRequestData.AlterableConfigCollection changes) {
        Map<String, String> set = new HashMap<>();
        Set<String> deleted = new HashSet<>();
        for (IncrementalAlterConfigsRequestData.AlterableConfig change : changes) {
            if (!ReplicationThrottles.NODE_KEYS.contains(change.name())) {
                throw new InvalidConfigurationException("'" + change.name() + "' cannot be changed at run time: Spate's dynamic broker settings are "
                        + String.join(", ", new java.util.TreeSet<>(ReplicationThrottles.NODE_KEYS))
                        + "; edit the config file and restart the node for the others");
            }
            AlterConfigOp.OpType op = AlterConfigOp.OpType.forId(change.configOperation());
            if (op == AlterConfigOp.OpType.SET) {
                try {
                    ReplicationThrottles.validateRate(change.name(), change.value());
                } catch (IllegalArgumentException e) {
                    throw new InvalidConfigurationException(e.getMessage());
                }
                set.put(change.name(), change.value().strip());
                deleted.remove(change.name());
            } else if (op == AlterConfigOp.OpType.DELETE) {
                set.remove(change.name());
                deleted.add(change.name());
            } else {
                throw new InvalidRequestException(change.name() + " is a number: it can be set or deleted, not " + op);
            }
        }
        return new NodeConfigChange(set, deleted);
    }

    /** The topic's own settings {@code committed} after {@code changes}; a list setting not set on the topic starts from the node's default. */
    private Map<String, String> apply(Map<String, String> committed, IncrementalAlterConfigsRequestData.AlterableConfigCollection changes) {
        Map<String, String> overrides = new HashMap<>(committed);
        Map<String, String> effective = new HashMap<>(topics.registry().topicDefaults());
        effective.putAll(committed);
        for (IncrementalAlterConfigsRequestData.AlterableConfig change : changes) {
            AlterConfigOp.OpType op = AlterConfigOp.OpType.forId(change.configOperation());
            if (op == null) {
                throw new InvalidRequestException("unknown config operation " + change.configOperation());
            }
            switch (op) {
                case SET -> overrides.put(change.name(), change.value());
                case DELETE -> overrides.remove(change.name());
                case APPEND, SUBTRACT -> {
                    String current = overrides.getOrDefault(change.name(), effective.get(change.name()));
                    Set<String> items = new LinkedHashSet<>(current == null || current.isEmpty() ? List.of() : Arrays.asList(current.split(",")));
                    List<String> delta = new ArrayList<>(Arrays.asList(change.value() == null ? new String[0] : change.value().split(",")));
                    if (op == AlterConfigOp.OpType.APPEND) {
                        items.addAll(delta);
                    } else {
                        delta.forEach(items::remove);
                    }
                    overrides.put(change.name(), String.join(",", items));
                }
            }
        }
        return overrides;
    }
}
