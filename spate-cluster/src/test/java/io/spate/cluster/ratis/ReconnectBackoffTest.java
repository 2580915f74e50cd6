package io.spate.cluster.ratis;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Elections after a cut-off heals rely on resetting gRPC's reconnect backoff through a method of
 * a class Ratis keeps package-private; this fails when a Ratis upgrade takes it away.
 */
class ReconnectBackoffTest {

    @Test
    void ratisStillOffersTheBackoffResetThatElectionsRelyOn() {
        assertThat(RatisMetadataLog.RESET_CONNECT_BACKOFF).isNotNull();
        assertThat(RatisMetadataLog.RESET_CONNECT_BACKOFF.type().parameterCount()).isEqualTo(1);
    }
}
