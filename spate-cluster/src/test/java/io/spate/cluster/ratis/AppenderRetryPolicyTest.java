package io.spate.cluster.ratis;

import org.apache.ratis.retry.RetryPolicy;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pace at which a controller leader walks a diverged follower back to where their logs agree:
 * one "inconsistent" answer per entry, each counted by Ratis as an error. Read through Ratis' own
 * parser, as its log appender reads it (each sleep is drawn between half and one and a half times
 * the one configured).
 */
class AppenderRetryPolicyTest {

    private static long sleepMsAfter(RetryPolicy policy, int errors) {
        return policy.handleAttemptFailure(() -> errors).getSleepTime().toLong(TimeUnit.MILLISECONDS);
    }

    @Test
    void aFollowerHundredsOfEntriesApartIsWalkedBackWithoutPauses() {
        RetryPolicy policy = RetryPolicy.parse(RatisMetadataLog.APPENDER_RETRY_POLICY);
        long total = 0;
        for (int errors = 1; errors <= 300; errors++) {
            total += sleepMsAfter(policy, errors);
        }
        // Ratis' default waits about 1 s after the tenth answer and 5 s after the thirtieth: over 10 minutes for these 300.
        assertThat(total).isLessThanOrEqualTo(450);
        RetryPolicy ratisDefault = RetryPolicy.parse(org.apache.ratis.server.RaftServerConfigKeys.Log.Appender.RETRY_POLICY_DEFAULT);
        long totalByDefault = 0;
        for (int errors = 1; errors <= 300; errors++) {
            totalByDefault += sleepMsAfter(ratisDefault, errors);
        }
        assertThat(totalByDefault).isGreaterThan(TimeUnit.MINUTES.toMillis(10));
    }

    @Test
    void aFollowerThatStaysDownIsRetriedOncePerSecondInTheEnd() {
        RetryPolicy policy = RetryPolicy.parse(RatisMetadataLog.APPENDER_RETRY_POLICY);
        assertThat(sleepMsAfter(policy, 550)).isBetween(50L, 150L);
        assertThat(sleepMsAfter(policy, 5_000)).isBetween(500L, 1_500L);
    }
}
