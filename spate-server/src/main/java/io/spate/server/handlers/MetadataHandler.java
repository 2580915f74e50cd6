package io.spate.server.handlers;

import io.spate.server.ServerConfig;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicManager;
import io.spate.server.network.ClientConnection;
import io.spate.server.metadata.ClusterView;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Metadata: the brokers and where each partition's leader is. Asking for a topic that does not
 * exist creates it when {@code auto.create.topics.enable} is on and the client allows it, as Kafka does.
 *
 * <p>In a cluster the creation goes through the controller quorum, and the answer does not wait
 * for it: as in Kafka, the topic is reported LEADER_NOT_AVAILABLE while it is being created and
 * the client asks again. Waiting held every metadata request a node received while it could not
 * reach the quorum (still joining after a restart, or cut off) until the client's request timeout;
 * the producers then spent seconds at a time on that node instead of asking another (fault
 * campaign 10, seeds 3245 and 3252).
 */
public final class MetadataHandler implements ApiHandler {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MetadataHandler.class);
    /** Topics whose creation this node has asked the controller for and not heard back about: asked once, not per request. */
    private final Map<String, CompletableFuture<TopicInfo>> autoCreating = new java.util.concurrent.ConcurrentHashMap<>();
    private final ServerConfig config;
    private final String clusterId;
    private final TopicManager topics;
    private final ClusterView cluster;

    public MetadataHandler(ServerConfig config, String clusterId, TopicManager topics, ClusterView cluster) {
        this.config = config;
        this.clusterId = clusterId;
        this.topics = topics;
        this.cluster = cluster;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.METADATA;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        MetadataRequestData data = ((MetadataRequest) request).data();
        short version = header.apiVersion();
        MetadataResponseData response = new MetadataResponseData();
        for (ClusterView.Broker broker : cluster.brokers()) {
            response.brokers().add(new MetadataResponseData.MetadataResponseBroker()
                    .setNodeId(broker.id()).setHost(broker.host()).setPort(broker.port()).setRack(broker.rack()));
        }
        if (version >= 2) {
            response.setClusterId(clusterId);
        }
        if (version >= 1) {
            response.setControllerId(cluster.controllerId());
        }
        boolean allowCreate = version < 4 || data.allowAutoTopicCreation();
        // Every topic: a null list, or in version 0 (where the list cannot be null) an empty one.
        if (((MetadataRequest) request).isAllTopics()) {
            for (TopicInfo topic : topics.registry().all()) {
                response.topics().add(describe(topic, version));
            }
        } else {
            List<CompletableFuture<MetadataResponseData.MetadataResponseTopic>> answers = new ArrayList<>(data.topics().size());
            boolean waiting = false;
            for (MetadataRequestData.MetadataRequestTopic requested : data.topics()) {
                CompletableFuture<MetadataResponseData.MetadataResponseTopic> answer = lookup(requested, allowCreate, version);
                answers.add(answer);
                waiting |= !answer.isDone();
            }
            if (waiting) {
                // Auto-creation goes through the controller quorum: answer once it is done, off the network thread.
                return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
                    answers.forEach(a -> response.topics().add(a.join()));
                    return response;
                });
            }
            answers.forEach(a -> response.topics().add(a.join()));
        }
        return CompletableFuture.completedFuture(response);
    }

    private CompletableFuture<MetadataResponseData.MetadataResponseTopic> lookup(MetadataRequestData.MetadataRequestTopic requested, boolean allowCreate, short version) {
        String name = requested.name();
        TopicInfo topic = null;
        if (name == null && (requested.topicId() == null || Uuid.ZERO_UUID.equals(requested.topicId()))) {
            return CompletableFuture.completedFuture(error(null, Uuid.ZERO_UUID, Errors.INVALID_REQUEST, version));
        }
        if (name == null && requested.topicId() != null && !Uuid.ZERO_UUID.equals(requested.topicId())) {
            topic = topics.registry().get(TopicIds.fromWire(requested.topicId()));
            if (topic == null) {
                return CompletableFuture.completedFuture(error(null, requested.topicId(), Errors.UNKNOWN_TOPIC_ID, version));
            }
        } else if (name != null) {
            topic = topics.registry().get(name);
        }
        if (topic == null && name != null) {
            if (!allowCreate || !config.autoCreateTopics()) {
                return CompletableFuture.completedFuture(error(name, Uuid.ZERO_UUID, Errors.UNKNOWN_TOPIC_OR_PARTITION, version));
            }
            CompletableFuture<TopicInfo> creation = autoCreating.get(name);
            if (creation == null) {
                creation = startAutoCreation(name);
            }
            if (!creation.isDone()) {
                return CompletableFuture.completedFuture(error(name, Uuid.ZERO_UUID, Errors.LEADER_NOT_AVAILABLE, version));
            }
            return creation.handle((created, failure) -> {
                if (failure == null) {
                    // Committed, but this node's registry may not have applied it yet: ask again.
                    return created != null ? describe(created, version) : error(name, Uuid.ZERO_UUID, Errors.LEADER_NOT_AVAILABLE, version);
                }
                ApiException e = ApiErrors.unwrap(failure);
                if (e instanceof TopicExistsException) {
                    TopicInfo raced = topics.registry().get(name);
                    if (raced != null) {
                        return describe(raced, version);
                    }
                }
                Errors error = Errors.forException(e);
                return error(name, Uuid.ZERO_UUID, error == Errors.INVALID_TOPIC_EXCEPTION ? error : Errors.UNKNOWN_TOPIC_OR_PARTITION, version);
            });
        }
        return CompletableFuture.completedFuture(describe(topic, version));
    }

    private CompletableFuture<TopicInfo> startAutoCreation(String name) {
        CompletableFuture<TopicInfo> creation = topics.createAsync(name, -1, (short) -1, Map.of());
        if (creation.isDone() || autoCreating.putIfAbsent(name, creation) != null) {
            return creation; // settled on the spot (standalone, or refused), or another request's creation is already out
        }
        creation.whenComplete((created, failure) -> {
            autoCreating.remove(name, creation);
            if (failure != null && !(ApiErrors.unwrap(failure) instanceof TopicExistsException)) {
                log.info("auto-creating topic '{}' failed: {}", name, ApiErrors.unwrap(failure).toString());
            }
        });
        return creation;
    }

    private MetadataResponseData.MetadataResponseTopic error(String name, Uuid id, Errors error, short version) {
        MetadataResponseData.MetadataResponseTopic topic = new MetadataResponseData.MetadataResponseTopic()
                .setName(name).setErrorCode(error.code());
        if (version >= 10) {
            topic.setTopicId(id);
        }
        return topic;
    }

    private MetadataResponseData.MetadataResponseTopic describe(TopicInfo topic, short version) {
        MetadataResponseData.MetadataResponseTopic described = new MetadataResponseData.MetadataResponseTopic()
                .setName(topic.name()).setIsInternal(TopicManager.isInternal(topic.name()));
        if (version >= 10) {
            described.setTopicId(TopicIds.toWire(topic.id()));
        }
        List<MetadataResponseData.MetadataResponsePartition> partitions = new ArrayList<>(topic.partitions());
        for (int p = 0; p < topic.partitions(); p++) {
            ClusterView.PartitionView partition = cluster.partition(topic.name(), p);
            boolean led = partition != null && partition.leader() >= 0;
            MetadataResponseData.MetadataResponsePartition described1 = new MetadataResponseData.MetadataResponsePartition()
                    .setPartitionIndex(p)
                    .setLeaderId(led ? partition.leader() : -1)
                    .setReplicaNodes(partition == null ? List.of() : partition.replicas())
                    .setIsrNodes(partition == null ? List.of() : partition.isr())
                    .setErrorCode(led ? Errors.NONE.code() : Errors.LEADER_NOT_AVAILABLE.code());
            if (version >= 5) {
                described1.setOfflineReplicas(partition == null ? List.of() : cluster.offlineReplicas(partition));
            }
            if (version >= 7) {
                described1.setLeaderEpoch(partition == null ? -1 : partition.leaderEpoch());
            }
            partitions.add(described1);
        }
        described.setPartitions(partitions);
        return described;
    }
}
