package io.spate.server.handlers;

import io.spate.server.errors.ServiceError;
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

/**
 * OffsetFetch: committed offsets of one group (v0-7) or several (v8+); -1 where none. From v7 a
 * read_committed consumer requires stable offsets: a partition an open transaction has committed
 * an offset for answers UNSTABLE_OFFSET_COMMIT, and the consumer asks again (KIP-447).
 */
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

    record Wanted(String topic, List<Integer> partitions) {
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        OffsetFetchRequestData data = ((OffsetFetchRequest) request).data();
        short version = header.apiVersion();
        boolean requireStable = version >= 7 && data.requireStable();
        if (version < 8) {
            List<Wanted> wanted = data.topics() == null ? null
                    : data.topics().stream().map(t -> new Wanted(t.name(), t.partitionIndexes())).toList();
            return coordinator.fetchOffsets(data.groupId(), requireStable).thenApply(fetched -> {
                OffsetFetchResponseData response = new OffsetFetchResponseData();
                for (var topic : answer(fetched, wanted).entrySet()) {
                    OffsetFetchResponseData.OffsetFetchResponseTopic t = new OffsetFetchResponseData.OffsetFetchResponseTopic().setName(topic.getKey());
                    topic.getValue().forEach((partition, answer) -> {
                        var p = new OffsetFetchResponseData.OffsetFetchResponsePartition().setPartitionIndex(partition)
                                .setCommittedOffset(answer.offset()).setMetadata(answer.metadata()).setErrorCode(answer.errorCode());
                        if (version >= 5) {
                            p.setCommittedLeaderEpoch(answer.leaderEpoch());
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
            groups.add(coordinator.fetchOffsets(group.groupId(), requireStable).thenApply(fetched -> {
                var g = new OffsetFetchResponseData.OffsetFetchResponseGroup().setGroupId(group.groupId());
                for (var topic : answer(fetched, wanted).entrySet()) {
                    var t = new OffsetFetchResponseData.OffsetFetchResponseTopics().setName(topic.getKey());
                    topic.getValue().forEach((partition, answer) -> t.partitions().add(new OffsetFetchResponseData.OffsetFetchResponsePartitions()
                            .setPartitionIndex(partition).setCommittedOffset(answer.offset()).setCommittedLeaderEpoch(answer.leaderEpoch())
                            .setMetadata(answer.metadata()).setErrorCode(answer.errorCode())));
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

    /** One partition's answer: its committed offset, or -1 with no metadata when it has none or it is unstable (then with the error). */
    record PartitionAnswer(long offset, int leaderEpoch, String metadata, short errorCode) {
        static PartitionAnswer of(CommittedOffset committed, ServiceError error) {
            if (committed == null || error != ServiceError.NONE) {
                return new PartitionAnswer(-1, -1, "", KafkaErrors.of(error).code());
            }
            return new PartitionAnswer(committed.offset(), committed.leaderEpoch(), committed.metadata(), KafkaErrors.of(error).code());
        }
    }

    /** Topic -> partition -> answer, for what was asked or for every partition with a committed offset. */
    static Map<String, Map<Integer, PartitionAnswer>> answer(GroupCoordinator.FetchedOffsets fetched, List<Wanted> wanted) {
        Map<String, Map<Integer, PartitionAnswer>> result = new LinkedHashMap<>();
        if (wanted == null) {
            fetched.committed().forEach((tp, offset) -> result.computeIfAbsent(tp.topic(), t -> new TreeMap<>())
                    .put(tp.partition(), PartitionAnswer.of(offset, fetched.error(tp))));
            return result;
        }
        for (Wanted w : wanted) {
            Map<Integer, PartitionAnswer> partitions = result.computeIfAbsent(w.topic(), t -> new TreeMap<>());
            for (int partition : w.partitions()) {
                var tp = new GroupCoordinator.TopicPartitionKey(w.topic(), partition);
                partitions.put(partition, PartitionAnswer.of(fetched.committed().get(tp), fetched.error(tp)));
            }
        }
        return result;
    }
}
