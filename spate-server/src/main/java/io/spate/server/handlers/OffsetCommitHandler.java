package io.spate.server.handlers;

import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** OffsetCommit: checked against the member's generation, stored in {@code __consumer_offsets}. */
final class OffsetCommitHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    OffsetCommitHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.OFFSET_COMMIT;
    }

    /** v10 names topics by id only; clients fall back to v9. */
    @Override
    public short maxVersion() {
        return 9;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        OffsetCommitRequestData data = ((OffsetCommitRequest) request).data();
        short version = header.apiVersion();
        List<GroupCoordinator.OffsetCommit> commits = new ArrayList<>();
        Map<GroupCoordinator.OffsetCommit, String> topicOf = new LinkedHashMap<>();
        for (OffsetCommitRequestData.OffsetCommitRequestTopic topic : data.topics()) {
            for (OffsetCommitRequestData.OffsetCommitRequestPartition p : topic.partitions()) {
                var commit = new GroupCoordinator.OffsetCommit(topic.name(), p.partitionIndex(), p.committedOffset(),
                        version >= 6 ? p.committedLeaderEpoch() : -1, p.committedMetadata());
                commits.add(commit);
                topicOf.put(commit, topic.name());
            }
        }
        String instanceId = version >= 7 ? data.groupInstanceId() : null;
        return coordinator.commitOffsets(data.groupId(), data.generationIdOrMemberEpoch(), data.memberId(), instanceId, commits).thenApply(results -> {
            OffsetCommitResponseData response = new OffsetCommitResponseData();
            Map<String, OffsetCommitResponseData.OffsetCommitResponseTopic> byTopic = new LinkedHashMap<>();
            results.forEach((commit, error) -> byTopic.computeIfAbsent(commit.topic(), t -> new OffsetCommitResponseData.OffsetCommitResponseTopic().setName(t))
                    .partitions().add(new OffsetCommitResponseData.OffsetCommitResponsePartition().setPartitionIndex(commit.partition()).setErrorCode(KafkaErrors.of(error).code())));
            response.topics().addAll(byTopic.values());
            return response;
        });
    }
}
