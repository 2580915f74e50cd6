package io.spate.replication.quota;

import io.spate.time.ManualScheduler;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ByteRateQuotaTest {
    private final ManualScheduler clock = new ManualScheduler();

    @Test
    void aLimitAllowsOneSecondsBurstThenTheRate() {
        ByteRateQuota quota = new ByteRateQuota(clock);
        quota.setRate(1_000);
        assertThat(quota.exceeded()).isFalse();
        quota.record(1_500);
        assertThat(quota.exceeded()).as("500 bytes in debt").isTrue();
        clock.advance(400);
        assertThat(quota.exceeded()).as("100 still owed").isTrue();
        clock.advance(100);
        assertThat(quota.exceeded()).as("paid back").isFalse();
        clock.advance(60_000);
        quota.record(1_001);
        assertThat(quota.exceeded()).as("an idle minute saves one second's worth, not a minute's").isTrue();
    }

    @Test
    void overALongStretchTheBytesMovedFollowTheRate() {
        ByteRateQuota quota = new ByteRateQuota(clock);
        quota.setRate(10_000);
        long moved = 0;
        for (int ms = 0; ms < 10_000; ms++) {
            if (!quota.exceeded()) {
                quota.record(4_096);
                moved += 4_096;
            }
            clock.advance(1);
        }
        // Ten seconds at 10,000 B/s, one second's burst and at most one transfer past the limit.
        assertThat(moved).isBetween(100_000L, 100_000L + 10_000 + 4_096);
    }

    @Test
    void withoutALimitNothingIsEverExceededAndANewLimitStartsFull() {
        ByteRateQuota quota = new ByteRateQuota(clock);
        quota.record(Long.MAX_VALUE / 2);
        assertThat(quota.exceeded()).isFalse();
        assertThat(quota.limited()).isFalse();
        quota.setRate(100);
        assertThat(quota.exceeded()).isFalse();
        quota.record(101);
        assertThat(quota.exceeded()).isTrue();
        quota.setRate(ByteRateQuota.UNLIMITED);
        assertThat(quota.exceeded()).isFalse();
    }
}
