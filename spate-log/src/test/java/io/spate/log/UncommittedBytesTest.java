package io.spate.log;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class UncommittedBytesTest {
    private final UncommittedBytes bytes = new UncommittedBytes(0);

    @Test
    void aMoveOfTheHighWatermarkCountsTheAppendsItPasses() {
        bytes.appended(0, 10, 100);
        bytes.appended(10, 20, 200);
        bytes.appended(20, 25, 50);
        assertThat(bytes.committed(0, 10)).isEqualTo(100);
        assertThat(bytes.committed(10, 25)).isEqualTo(250);
    }

    @Test
    void aMoveIntoAnAppendCountsAllOfItOnceAndLaterMovesWithinItAtLeastOne() {
        bytes.appended(0, 10, 100);
        assertThat(bytes.committed(0, 4)).isEqualTo(100);
        // Readers waiting for one byte must still wake when the high watermark moves on.
        assertThat(bytes.committed(4, 10)).isEqualTo(1);
    }

    @Test
    void aTruncationForgetsTheAppendsItCut() {
        bytes.appended(0, 10, 100);
        bytes.appended(10, 20, 200);
        bytes.truncatedTo(10);
        bytes.appended(10, 12, 30);
        assertThat(bytes.committed(0, 12)).isEqualTo(130);
    }

    @Test
    void aCutInsideAnAppendLeavesTheRestUnknown() {
        bytes.appended(0, 10, 100);
        bytes.truncatedTo(5);
        bytes.appended(5, 8, 30);
        assertThat(bytes.committed(0, 8)).isEqualTo(UncommittedBytes.UNKNOWN);
        bytes.appended(8, 9, 7);
        assertThat(bytes.committed(8, 9)).as("known again past the unknown part").isEqualTo(7);
    }

    @Test
    void aGapBetweenAppendsOrAHighWatermarkPastWhatIsKnownIsUnknown() {
        bytes.appended(0, 10, 100);
        bytes.appended(15, 20, 50); // a compacted leader dropped 10-14
        assertThat(bytes.committed(0, 20)).isEqualTo(UncommittedBytes.UNKNOWN);
        assertThat(bytes.committed(20, 30)).as("nothing known past 20").isEqualTo(UncommittedBytes.UNKNOWN);
    }

    @Test
    void aHighWatermarkSetBackMakesWhatItPassesAgainUnknown() {
        bytes.appended(0, 10, 100);
        assertThat(bytes.committed(0, 10)).isEqualTo(100);
        bytes.highWatermarkSetBack();
        bytes.appended(10, 11, 5);
        assertThat(bytes.committed(3, 11)).isEqualTo(UncommittedBytes.UNKNOWN);
        bytes.appended(11, 12, 5);
        assertThat(bytes.committed(11, 12)).isEqualTo(5);
    }

    @Test
    void aFullRingDropsTheOldestAndSaysItNoLongerKnows() {
        for (int i = 0; i < 5_000; i++) {
            bytes.appended(i, i + 1, 10);
        }
        assertThat(bytes.committed(0, 1_000)).as("the oldest appends were let go").isEqualTo(UncommittedBytes.UNKNOWN);
        assertThat(bytes.committed(1_000, 1_100)).as("what the ring still holds is counted exactly").isEqualTo(1_000);
    }

    @Test
    void theRingGrowsAndKeepsItsOrder() {
        for (int i = 0; i < 100; i++) {
            bytes.appended(i, i + 1, i);
        }
        assertThat(bytes.committed(0, 50)).isEqualTo(49L * 50 / 2);
        for (int i = 100; i < 200; i++) {
            bytes.appended(i, i + 1, 1);
        }
        assertThat(bytes.committed(50, 200)).isEqualTo((99L * 100 / 2 - 49L * 50 / 2) + 100);
    }
}
