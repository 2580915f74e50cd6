package io.spate.server.cluster;

import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterMemberErrorCodesTest {
    @Test
    void theHeartbeatsErrorCodesAreKafkas() {
        assertThat(ClusterMember.NO_ERROR).isEqualTo(Errors.NONE.code());
        assertThat(ClusterMember.NOT_CONTROLLER).isEqualTo(Errors.NOT_CONTROLLER.code());
    }
}
