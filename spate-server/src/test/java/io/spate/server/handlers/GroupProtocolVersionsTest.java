package io.spate.server.handlers;

import io.spate.server.errors.ServiceError;
import io.spate.server.group.JoinRequest;
import io.spate.server.group.JoinResult;
import io.spate.server.group.SyncRequest;
import io.spate.server.group.SyncResult;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The group coordinator takes and gives Spate's own join and sync records; what each version of
 * JoinGroup and SyncGroup means is decided at the edge. Every answer must also encode in the
 * version it was asked in (kafka-clients' codec refuses a field the version does not have).
 */
class GroupProtocolVersionsTest {
    private static JoinGroupRequestData join() {
        JoinGroupRequestData.JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
        protocols.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(new byte[]{1}));
        protocols.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("roundrobin").setMetadata(new byte[]{2}));
        return new JoinGroupRequestData().setGroupId("billing").setMemberId("").setGroupInstanceId("billing-1")
                .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(60_000).setProtocolType("consumer").setProtocols(protocols);
    }

    @Test
    void eachJoinVersionMeansWhatKafkaSaysItMeans() {
        JoinRequest v0 = JoinGroupHandler.joinRequest(join(), (short) 0, "app", "/127.0.0.1");
        assertThat(v0.rebalanceTimeoutMs()).as("v0 has no rebalance timeout: the session timeout stands for it").isEqualTo(10_000);
        assertThat(v0.groupInstanceId()).as("static membership starts at v5").isNull();
        assertThat(v0.memberIdRequired()).isFalse();
        assertThat(v0.protocols().keySet()).as("in the member's order of preference").containsExactly("range", "roundrobin");

        JoinRequest v4 = JoinGroupHandler.joinRequest(join(), (short) 4, "app", "/127.0.0.1");
        assertThat(v4.rebalanceTimeoutMs()).isEqualTo(60_000);
        assertThat(v4.memberIdRequired()).isTrue();
        assertThat(v4.groupInstanceId()).isNull();
        assertThat(v4.leaderMaySkipAssignment()).isFalse();

        JoinRequest v9 = JoinGroupHandler.joinRequest(join(), (short) 9, "app", "/127.0.0.1");
        assertThat(v9.groupInstanceId()).isEqualTo("billing-1");
        assertThat(v9.leaderMaySkipAssignment()).isTrue();
    }

    @Test
    void aLeadersAnswerEncodesInEveryVersionAndCarriesOnlyWhatTheVersionHas() {
        JoinResult leader = new JoinResult(ServiceError.NONE, 3, "consumer", "range", "m-1", "m-1", true,
                List.of(new JoinResult.Member("m-1", "billing-1", new byte[]{1}), new JoinResult.Member("m-2", null, new byte[]{2})));
        for (short version = ApiKeys.JOIN_GROUP.oldestVersion(); version <= ApiKeys.JOIN_GROUP.latestVersion(); version++) {
            JoinGroupResponseData response = JoinGroupHandler.response(leader, version);
            MessageUtil.toByteBufferAccessor(response, version);
            assertThat(response.members()).hasSize(2);
            assertThat(response.members().get(0).groupInstanceId()).isEqualTo(version >= 5 ? "billing-1" : null);
            assertThat(response.protocolType()).isEqualTo(version >= 7 ? "consumer" : null);
            assertThat(response.skipAssignment()).isEqualTo(version >= 9);
        }
    }

    @Test
    void aRefusedJoinNamesNoProtocolButOldVersionsGetAnEmptyName() {
        JoinResult refused = new JoinResult(ServiceError.MEMBER_ID_REQUIRED, -1, null, null, "", "m-9", false, List.of());
        JoinGroupResponseData v6 = JoinGroupHandler.response(refused, (short) 6);
        MessageUtil.toByteBufferAccessor(v6, (short) 6);
        assertThat(v6.protocolName()).isEmpty();
        assertThat(Errors.forCode(v6.errorCode())).isEqualTo(Errors.MEMBER_ID_REQUIRED);
        assertThat(v6.memberId()).isEqualTo("m-9");
        assertThat(JoinGroupHandler.response(refused, (short) 7).protocolName()).isNull();
    }

    @Test
    void aSyncCarriesTheProtocolOnlyFromV5AndTheLeadersAssignments() {
        SyncGroupRequestData data = new SyncGroupRequestData().setGroupId("billing").setMemberId("m-1").setGroupInstanceId("billing-1")
                .setGenerationId(3).setProtocolType("consumer").setProtocolName("range")
                .setAssignments(List.of(new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId("m-2").setAssignment(new byte[]{7})));
        SyncRequest v2 = SyncGroupHandler.syncRequest(data, (short) 2);
        assertThat(v2.groupInstanceId()).isNull();
        assertThat(v2.protocolType()).isNull();
        assertThat(v2.protocolName()).isNull();
        SyncRequest v5 = SyncGroupHandler.syncRequest(data, (short) 5);
        assertThat(v5.groupInstanceId()).isEqualTo("billing-1");
        assertThat(v5.protocolName()).isEqualTo("range");
        assertThat(v5.assignments()).containsOnlyKeys("m-2");

        SyncResult result = new SyncResult(ServiceError.NONE, "consumer", "range", new byte[]{7});
        for (short version = ApiKeys.SYNC_GROUP.oldestVersion(); version <= ApiKeys.SYNC_GROUP.latestVersion(); version++) {
            SyncGroupResponseData response = SyncGroupHandler.response(result, version);
            MessageUtil.toByteBufferAccessor(response, version);
            assertThat(response.protocolName()).isEqualTo(version >= 5 ? "range" : null);
            assertThat(response.assignment()).containsExactly(7);
        }
    }

    @Test
    void everyServiceErrorHasItsOwnKafkaCode() {
        java.util.Set<Errors> seen = new java.util.HashSet<>();
        for (ServiceError error : ServiceError.values()) {
            assertThat(seen.add(KafkaErrors.of(error))).as("%s maps to a code no other error has", error).isTrue();
        }
        assertThat(KafkaErrors.of(ServiceError.NONE)).isEqualTo(Errors.NONE);
        assertThat(KafkaErrors.of(ServiceError.UNKNOWN)).isEqualTo(Errors.UNKNOWN_SERVER_ERROR);
    }
}
