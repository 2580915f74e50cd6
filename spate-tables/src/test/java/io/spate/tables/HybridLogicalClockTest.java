package io.spate.tables;

import io.spate.time.ManualScheduler;
import io.spate.time.Time;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HybridLogicalClockTest {
    /** A clock that can be set back, as NTP does to a machine's. */
    private static final class SettableTime implements Time {
        long ms = 1_700_000_000_000L;

        @Override
        public long millis() {
            return ms;
        }

        @Override
        public long nanos() {
            return ms * 1_000_000;
        }
    }

    @Test
    void timestampsNeverGoBackWhenThePhysicalClockDoes() {
        SettableTime time = new SettableTime();
        HybridLogicalClock hlc = new HybridLogicalClock(time, 60_000);
        Random random = new Random(7);
        long last = 0;
        for (int i = 0; i < 10_000; i++) {
            time.ms += random.nextInt(5) - 2; // jitters back and forth
            long ts = hlc.next();
            assertThat(ts).isGreaterThan(last);
            assertThat(HybridLogicalClock.physicalMs(ts)).isGreaterThanOrEqualTo(time.ms);
            last = ts;
        }
    }

    @Test
    void aNodeBehindIssuesTimestampsAfterWhatItHasSeen() {
        SettableTime fast = new SettableTime();
        SettableTime slow = new SettableTime();
        slow.ms -= 500;
        HybridLogicalClock a = new HybridLogicalClock(fast, 60_000);
        HybridLogicalClock b = new HybridLogicalClock(slow, 60_000);
        long first = a.next();
        assertThat(b.next()).isLessThan(first); // skew: without a message between them, b is behind
        assertThat(b.next(first)).isGreaterThan(first);
        b.observe(a.next());
        assertThat(b.next()).isGreaterThan(a.current() - 1);
    }

    @Test
    void theLogicalCounterCarriesIntoThePhysicalPartInsteadOfWrapping() {
        ManualScheduler time = new ManualScheduler(1000);
        HybridLogicalClock hlc = new HybridLogicalClock(time, 60_000);
        long last = 0;
        for (int i = 0; i < 70_000; i++) {
            long ts = hlc.next();
            assertThat(ts).isGreaterThan(last);
            last = ts;
        }
        assertThat(HybridLogicalClock.physicalMs(last)).isEqualTo(1001);
    }

    @Test
    void aWriteAfterAVersionTooFarAheadIsRefusedRatherThanOrderedBeforeIt() {
        ManualScheduler time = new ManualScheduler(1_000_000);
        HybridLogicalClock hlc = new HybridLogicalClock(time, 1_000);
        long farAhead = HybridLogicalClock.of(1_000_000 + 5_000, 0);
        assertThatThrownBy(() -> hlc.next(farAhead)).isInstanceOf(AfterTooFarAheadException.class)
                .hasMessageContaining("5000 ms ahead").hasMessageContaining("1000 ms");
        assertThat(HybridLogicalClock.physicalMs(hlc.next())).as("the clock was not dragged").isEqualTo(1_000_000);
        long withinReach = HybridLogicalClock.of(1_000_000 + 900, 7);
        assertThat(hlc.next(withinReach)).isGreaterThan(withinReach);
        time.advance(4_500); // once this clock has caught up, the same after is taken
        assertThat(hlc.next(farAhead)).isGreaterThan(farAhead);
    }

    @Test
    void aTimestampTooFarAheadIsNotAdopted() {
        ManualScheduler time = new ManualScheduler(1_000_000);
        HybridLogicalClock hlc = new HybridLogicalClock(time, 1_000);
        assertThat(hlc.observe(HybridLogicalClock.of(1_000_000 + 5_000, 0))).isFalse();
        assertThat(HybridLogicalClock.physicalMs(hlc.next())).isEqualTo(1_000_000);
        assertThat(hlc.observe(HybridLogicalClock.of(1_000_000 + 500, 3))).isTrue();
        assertThat(hlc.next()).isEqualTo(HybridLogicalClock.of(1_000_500, 4));
        assertThat(hlc.refused()).isEqualTo(1);
    }

    @Test
    void aSeedFromTheStoresIsTakenInHoweverFarAheadUnlikeAMessagesTimestamp() {
        SettableTime time = new SettableTime();
        HybridLogicalClock hlc = new HybridLogicalClock(time, 60_000);
        long stored = HybridLogicalClock.of(time.ms + 600_000, 3); // written before the clock stepped back ten minutes
        assertThat(hlc.observe(stored)).isFalse();
        hlc.seed(stored);
        assertThat(hlc.next()).isGreaterThan(stored);
        hlc.seed(HybridLogicalClock.of(time.ms - 5, 0)); // an older one changes nothing
        assertThat(hlc.next()).isEqualTo(stored + 2);
    }
}
