package io.spate.server.handlers;

import io.spate.server.errors.ServiceError;
import io.spate.server.group.GroupCoordinator;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What each TxnOffsetCommit version means to the group coordinator, and answers that encode in every version served. */
class TxnOffsetCommitHandlerTest {
    private static TxnOffsetCommitRequestData request() {
        return new TxnOffsetCommitRequestData().setTransactionalId("payments-tx").setGroupId("billing").setProducerId(7)
                .setProducerEpoch((short) 2).setGenerationIdOrMemberEpoch(4).setMemberId("m-1").setGroupInstanceId("billing-1")
                .setTopics(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName("orders").setPartitions(List.of(
                        new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition().setPartitionIndex(1).setCommittedOffset(42)
                                .setCommittedLeaderEpoch(3).setCommittedMetadata("m")))));
    }

    @Test
    void theMemberIsNamedFromV3AndTheLeaderEpochFromV2() {
        TxnOffsetCommitHandler.Commit v0 = TxnOffsetCommitHandler.commit(request(), (short) 0);
        assertThat(v0.offsets()).containsExactly(new GroupCoordinator.OffsetCommit("orders", 1, 42, -1, "m"));
        assertThat(v0.generationId()).isEqualTo(-1);
        assertThat(v0.memberId()).isEmpty();
        assertThat(v0.groupInstanceId()).isNull();

        TxnOffsetCommitHandler.Commit v2 = TxnOffsetCommitHandler.commit(request(), (short) 2);
        assertThat(v2.offsets()).containsExactly(new GroupCoordinator.OffsetCommit("orders", 1, 42, 3, "m"));
        assertThat(v2.memberId()).as("a v2 request carries no member").isEmpty();

        TxnOffsetCommitHandler.Commit v3 = TxnOffsetCommitHandler.commit(request(), (short) 3);
        assertThat(v3).isEqualTo(new TxnOffsetCommitHandler.Commit("payments-tx", "billing", 7, (short) 2, 4, "m-1", "billing-1",
                List.of(new GroupCoordinator.OffsetCommit("orders", 1, 42, 3, "m"))));
    }

    @Test
    void eachPartitionsErrorIsAnsweredInEveryVersionServed() {
        Map<GroupCoordinator.OffsetCommit, ServiceError> results = new LinkedHashMap<>();
        results.put(new GroupCoordinator.OffsetCommit("orders", 0, 5, -1, ""), ServiceError.NONE);
        results.put(new GroupCoordinator.OffsetCommit("orders", 1, 6, -1, ""), ServiceError.ILLEGAL_GENERATION);
        results.put(new GroupCoordinator.OffsetCommit("refunds", 0, 7, -1, ""), ServiceError.OFFSET_METADATA_TOO_LARGE);
        TxnOffsetCommitHandler handler = new TxnOffsetCommitHandler(null);
        assertThat(handler.apiKey()).isEqualTo(ApiKeys.TXN_OFFSET_COMMIT);
        assertThat(handler.minVersion()).isZero();
        assertThat(handler.maxVersion()).as("v6 names topics by id").isEqualTo((short) 5);

        for (short version = handler.minVersion(); version <= handler.maxVersion(); version++) {
            TxnOffsetCommitResponseData response = TxnOffsetCommitHandler.response(results);
            MessageUtil.toByteBufferAccessor(response, version);
            assertThat(response.topics()).extracting(TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic::name).containsExactly("orders", "refunds");
            assertThat(response.topics().get(0).partitions()).extracting(p -> Errors.forCode(p.errorCode()))
                    .containsExactly(Errors.NONE, Errors.ILLEGAL_GENERATION);
            assertThat(Errors.forCode(response.topics().get(1).partitions().get(0).errorCode())).isEqualTo(Errors.OFFSET_METADATA_TOO_LARGE);
        }
    }
}
