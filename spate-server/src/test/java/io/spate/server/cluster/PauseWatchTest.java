package io.spate.server.cluster;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PauseWatchTest {
    private static final long MS = 1_000_000L;

    /** Ticks every 10 ms; a gap over 150 ms is a pause; contact must come 100 ms after its end. */
    private final PauseWatch watch = new PauseWatch(150 * MS, 100 * MS, 0);

    @Test
    void aProcessThatKeptRunningVouchesForFreshContact() {
        tickEvery10Ms(10, 5_000);
        assertThat(watch.mayBeStale(5 * MS, 5_001 * MS)).isFalse();
    }

    @Test
    void rightAfterAPauseNothingIsVouchedForEvenBeforeTheWatchNoticed() {
        watch.tick(1_000 * MS);
        // resumed at 12 s: the watch's thread has not run yet, and contact looks fresh (replies that waited in sockets)
        assertThat(watch.mayBeStale(1 * MS, 12_000 * MS)).isTrue();
        watch.tick(12_001 * MS);
        assertThat(watch.mayBeStale(1 * MS, 12_002 * MS)).as("contact from just after the pause").isTrue();
        assertThat(watch.mayBeStale(20 * MS, 12_110 * MS)).as("contact 89 ms after the pause, not yet 100 ms clear").isTrue();
        tickEvery10Ms(12_010, 12_300);
        assertThat(watch.mayBeStale(50 * MS, 12_300 * MS)).as("contact heard 249 ms after the pause").isFalse();
    }

    @Test
    void aLeaderThatHeardNothingSinceThePauseStaysUnvouched() {
        watch.tick(1_000 * MS);
        watch.tick(3_000 * MS);
        tickEvery10Ms(3_010, 4_000);
        assertThat(watch.mayBeStale(1_200 * MS, 4_000 * MS)).isTrue();
    }

    @Test
    void shortSchedulingHiccupsAreNoPause() {
        watch.tick(1_000 * MS);
        watch.tick(1_140 * MS);
        assertThat(watch.mayBeStale(1 * MS, 1_141 * MS)).isFalse();
    }

    @Test
    void aPauseLongAgoNoLongerMatters() {
        watch.tick(1_000 * MS);
        watch.tick(3_000 * MS);
        tickEvery10Ms(3_010, 14_000);
        assertThat(watch.mayBeStale(140 * MS, 14_000 * MS)).isFalse();
    }

    /** The watch's thread running steadily from {@code fromMs} to {@code toMs}. */
    private void tickEvery10Ms(long fromMs, long toMs) {
        for (long t = fromMs; t <= toMs; t += 10) {
            watch.tick(t * MS);
        }
    }
}
