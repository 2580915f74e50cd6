package io.spate.server.handlers;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ProduceHandlerTest {

    /** The answer must reach the client before its own timeout (which the request carries) runs out. */
    @Test
    void anAcksAllWriteGivesUpATenthBeforeTheClientsTimeoutAtMostASecond() {
        assertThat(ProduceHandler.ackWaitMs(2_000)).isEqualTo(1_800);
        assertThat(ProduceHandler.ackWaitMs(30_000)).isEqualTo(29_000);
        assertThat(ProduceHandler.ackWaitMs(5)).isEqualTo(5);
        assertThat(ProduceHandler.ackWaitMs(0)).isEqualTo(1);
    }
}
