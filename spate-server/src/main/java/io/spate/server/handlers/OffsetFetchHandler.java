package io.spate.server.handlers;

import io.spate.server.group.CommittedOffset;
import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/** OffsetFetch: committed offsets of one group (v0-7) or several (v8+); -1 where none. */
final class OffsetFetchHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    OffsetFetchHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.OFFSET_FETCH;
    }

    /** v10 names topics by id only; clients fall back to v9. */
    @Override
    public short maxVersion() {
        return 9;
    }

    private record Wanted(String topic, List<Integer> partitions) {
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        OffsetFetchRequestData data = ((OffsetFetchRequest) request).data();
        short version = header.apiVersion();
        if (version < 8) {
            List<Wanted> wanted = data.topics() == null ? null
                    : data.topics().stream().map(t -> new Wanted(t.name(), t.partitionIndexes())).toList();
            return coordinator.fetchOffsets(data.groupId()).thenApply(committed -> {
                OffsetFetchResponseData response = new OffsetFetchResponseData();
                for (var topic : answer(committed, wanted).entrySet()) {
                    OffsetFetchResponseData.OffsetFetchResponseTopic t = new OffsetFetchResponseData.OffsetFetchResponseTopic().setName(topic.getKey());
                    topic.getValue().forEach((partition, offset) -> {
                        var p = new OffsetFetchResponseData.OffsetFetchResponsePartition().setPartitionIndex(partition)
                                .setCommittedOffset(offset == null ? -1 : offset.offset()).setMetadata(offset == null ? "" : offset.metadata());
                        if (version >= 5) {
                            p.setCommittedLeaderEpoch(offset == null ? -1 : offset.leaderEpoch());
                        }
                        t.partitions().add(p);
                    });
                    response.topics().add(t);
                }
                return response;
            });
        }
        List<CompletableFuture<OffsetFetchResponseData.OffsetFetchResponseGroup>> groups = new ArrayList<>();
        for (OffsetFetchRequestData.OffsetFetchRequestGroup group : data.groups()) {
            List<Wanted> wanted = group.topics() == null ? null
                    : group.topics().stream().map(t -> new Wanted(t.name(), t.partitionIndexes())).toList();
            groups.add(coordinator.fetchOffsets(group.groupId()).thenApply(committed -> {
                var g = new OffsetFetchResponseData.OffsetFetchResponseGroup().setGroupId(group.groupId());
                for (var topic : answer(committed, wanted).entrySet()) {
                    var t = new OffsetFetchResponseData.OffsetFetchResponseTopics().setName(topic.getKey());
                    topic.getValue().forEach((partition, offset) -> t.partitions().add(new OffsetFetchResponseData.OffsetFetchResponsePartitions()
                            .setPartitionIndex(partition).setCommittedOffset(offset == null ? -1 : offset.offset())
                            .setCommittedLeaderEpoch(offset == null ? -1 : offset.leaderEpoch()).setMetadata(offset == null ? "" : offset.metadata())));
                    g.topics().add(t);
                }
                return g;
            }));
        }
        return CompletableFuture.allOf(groups.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
            OffsetFetchResponseData response = new OffsetFetchResponseData();
            groups.forEach(g -> response.groups().add(g.join()));
            return response;
        });
    }

    /** Topic -> partition -> committed offset (null when none), for what was asked or for everything committed. */
    private static Map<String, Map<Integer, CommittedOffset>> answer(Map<GroupCoordinator.TopicPartitionKey, CommittedOffset> committed, List<Wanted> wanted) {
        Map<String, Map<Integer, CommittedOffset>> result = new LinkedHashMap<>();
        if (wanted == null) {
            committed.forEach((tp, offset) -> result.computeIfAbsent(tp.topic(), t -> new TreeMap<>()).put(tp.partition(), offset));
            return result;
        }
        for (Wanted w : wanted) {
            Map<Integer, CommittedOffset> partitions = result.computeIfAbsent(w.topic(), t -> new TreeMap<>());
            for (int partition : w.partitions()) {
                partitions.put(partition, committed.get(new GroupCoordinator.TopicPartitionKey(w.topic(), partition)));
            }
        }
        return result;
    }
}
