package io.spate.log.compaction;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TombstoneHorizonsTest {
    private static final long RETENTION = 1_000;

    @Test
    void tombstonesGoDeleteRetentionAfterThePassThatKeptThemAndATruncationStartsOver() {
        TombstoneHorizons horizons = new TombstoneHorizons();
        assertThat(horizons.removableBelow(0, RETENTION, 0)).isZero();
        horizons.kept(100, 0);
        horizons.kept(80, 500);    // covered by the first pass, which comes due sooner
        horizons.kept(200, 600);
        assertThat(horizons.nextDueMs(RETENTION)).isEqualTo(1_000);
        assertThat(horizons.removableBelow(999, RETENTION, 0)).isZero();
        assertThat(horizons.removableBelow(1_000, RETENTION, 0)).isEqualTo(100);
        assertThat(horizons.nextDueMs(RETENTION)).isEqualTo(1_600);
        assertThat(horizons.removableBelow(1_600, RETENTION, 0)).isEqualTo(200);
        assertThat(horizons.nextDueMs(RETENTION)).isEqualTo(Long.MAX_VALUE);

        // A cut refills offsets no pass has seen: what earlier passes kept is forgotten.
        assertThat(horizons.removableBelow(5_000, RETENTION, 1)).isZero();
        horizons.kept(150, 5_000);
        assertThat(horizons.removableBelow(6_000, RETENTION, 1)).isEqualTo(150);
    }

    @Test
    void aRetentionNearTheLongestNeverComesDue() {
        TombstoneHorizons horizons = new TombstoneHorizons();
        horizons.kept(100, 10_000);
        assertThat(horizons.nextDueMs(Long.MAX_VALUE - 5)).isEqualTo(Long.MAX_VALUE);
        assertThat(horizons.removableBelow(Long.MAX_VALUE - 1, Long.MAX_VALUE - 5, 0)).isZero();
    }
}
