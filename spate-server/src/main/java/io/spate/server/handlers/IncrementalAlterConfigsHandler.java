package io.spate.server.handlers;

import io.spate.server.errors.ServiceException;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicManager;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidRequestException;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * IncrementalAlterConfigs on topics: SET, DELETE, and APPEND/SUBTRACT for list settings. The
 * change is validated whole, persisted, and applied to the running logs. Broker settings are
 * static in Spate and cannot be altered at run time; the one exception is deleting the
 * replication throttles (Spate never sets one), which kafka-reassign-partitions.sh does after a
 * move.
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
                if (ConfigResource.Type.forId(resource.resourceType()) != ConfigResource.Type.TOPIC) {
                    if (onlyDeletesReplicationThrottles(resource.configs())) {
                        // kafka-reassign-partitions.sh clears throttles after every move; none is ever set here.
                        continue;
                    }
                    throw new InvalidRequestException("Spate's broker settings are static: edit the config file and restart the node");
                }
                TopicInfo topic = topics.registry().get(resource.resourceName());
                if (topic == null) {
                    throw new UnknownTopicOrPartitionException("topic '" + resource.resourceName() + "' does not exist");
                }
                // Completes when the controller quorum has the change; the network thread does not wait.
                pending.add(topics.alterConfigAsync(topic.name(), apply(topic, resource.configs()), data.validateOnly()).handle((updated, failure) -> {
                    if (failure != null) {
                        ApiException e = ApiErrors.unwrap(failure);
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

    private static final Set<String> REPLICATION_THROTTLES = Set.of(
            "leader.replication.throttled.rate", "follower.replication.throttled.rate", "replica.alter.log.dirs.io.max.bytes.per.second");

    private static boolean onlyDeletesReplicationThrottles(IncrementalAlterConfigsRequestData.AlterableConfigCollection changes) {
        if (changes.isEmpty()) {
            return false;
        }
        for (IncrementalAlterConfigsRequestData.AlterableConfig change : changes) {
            if (change.configOperation() != AlterConfigOp.OpType.DELETE.id() || !REPLICATION_THROTTLES.contains(change.name())) {
                return false;
            }
        }
        return true;
    }

    private Map<String, String> apply(TopicInfo topic, IncrementalAlterConfigsRequestData.AlterableConfigCollection changes) {
        Map<String, String> overrides = new HashMap<>(topic.overrides());
        Map<String, String> effective = topics.registry().effectiveConfig(topic);
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
