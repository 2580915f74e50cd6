package io.spate.server.handlers;

import io.spate.server.errors.ServiceError;
import io.spate.server.group.GroupCoordinator;
import io.spate.server.network.ClientConnection;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * TxnOffsetCommit: a transactional producer's consumed offsets, stored in {@code __consumer_offsets}
 * as part of its transaction (they count once the transaction commits); from v3 checked against
 * the consumer's generation (KIP-447).
 */
final class TxnOffsetCommitHandler implements ApiHandler {
    private final GroupCoordinator coordinator;

    TxnOffsetCommitHandler(GroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.TXN_OFFSET_COMMIT;
    }

    /** v6 names topics by id only; clients fall back to v5. */
    @Override
    public short maxVersion() {
        return 5;
    }

    /** What a request of {@code version} asks: the member fields exist from v3, the leader epoch from v2. */
    record Commit(String transactionalId, String groupId, long producerId, short producerEpoch, int generationId, String memberId,
                  String groupInstanceId, List<GroupCoordinator.OffsetCommit> offsets) {
    }

    static Commit commit(TxnOffsetCommitRequestData data, short version) {
        List<GroupCoordinator.OffsetCommit> offsets = new ArrayList<>();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic topic : data.topics()) {
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : topic.partitions()) {
                offsets.add(new GroupCoordinator.OffsetCommit(topic.name(), p.partitionIndex(), p.committedOffset(),
                        version >= 2 ? p.committedLeaderEpoch() : -1, p.committedMetadata()));
            }
        }
        boolean namesMember = version >= 3;
        return new Commit(data.transactionalId(), data.groupId(), data.producerId(), data.producerEpoch(),
                namesMember ? data.generationIdOrMemberEpoch() : -1, namesMember ? data.memberId() : "",
                namesMember ? data.groupInstanceId() : null, offsets);
    }

    static TxnOffsetCommitResponseData response(Map<GroupCoordinator.OffsetCommit, ServiceError> results) {
        Map<String, TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic> byTopic = new LinkedHashMap<>();
        results.forEach((commit, error) -> byTopic.computeIfAbsent(commit.topic(),
                        t -> new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setName(t))
                .partitions().add(new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition()
                        .setPartitionIndex(commit.partition()).setErrorCode(KafkaErrors.of(error).code())));
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
        response.topics().addAll(byTopic.values());
        return response;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestHeader header, AbstractRequest request, ClientConnection connection) {
        Commit c = commit(((TxnOffsetCommitRequest) request).data(), header.apiVersion());
        return coordinator.txnCommitOffsets(c.transactionalId(), c.groupId(), c.producerId(), c.producerEpoch(), c.generationId(),
                c.memberId(), c.groupInstanceId(), c.offsets()).thenApply(TxnOffsetCommitHandler::response);
    }
}
