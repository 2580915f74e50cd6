package io.spate.tests;

import io.spate.broker.StartupPreloader;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatCode;

/**
 * The start-up preloader swallows its failures in production (a failure costs only time), so a
 * kafka-clients upgrade that broke it would go unnoticed but for this test.
 */
class StartupPreloaderTest {
    @Test
    void preloadingRunsToTheEndWithTheKafkaClientsOnTheClassPath() {
        assertThatCode(StartupPreloader::preloadOrThrow).doesNotThrowAnyException();
    }
}
