package io.spate.cluster;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CatchUpTrackerTest {
    private final CatchUpTracker tracker = new CatchUpTracker();

    @Test
    void aReplicaBehindKeepsTheTimeItWasLastSeenHoldingEverything() {
        assertThat(tracker.last(2)).isEqualTo(new QuorumState.ReplicaProgress(2, -1, -1, -1));
        assertThat(tracker.observe(5, 2, 10, 10, 1_000).lastCaughtUpMs()).isEqualTo(1_000);
        QuorumState.ReplicaProgress behind = tracker.observe(5, 2, 10, 14, 1_250);
        assertThat(behind).isEqualTo(new QuorumState.ReplicaProgress(2, 10, 1_250, 1_000));
        assertThat(tracker.last(2)).isEqualTo(behind);
        assertThat(tracker.observe(5, 2, 14, 14, 1_500).lastCaughtUpMs()).isEqualTo(1_500);
        // A sample whose contact is older than one already seen does not move the time back.
        assertThat(tracker.observe(5, 2, 14, 14, 1_400).lastCaughtUpMs()).isEqualTo(1_500);
    }

    @Test
    void anUnknownPositionOrContactIsNeverCaughtUpAndANewTermForgetsTheOldSamples() {
        assertThat(tracker.observe(5, 3, -1, 0, 1_000).lastCaughtUpMs()).isEqualTo(-1);
        assertThat(tracker.observe(5, 3, 10, 10, -1).lastCaughtUpMs()).isEqualTo(-1);
        assertThat(tracker.observe(5, 3, 10, 10, 2_000).lastCaughtUpMs()).isEqualTo(2_000);
        assertThat(tracker.observe(6, 3, 10, 12, 2_500).lastCaughtUpMs()).as("the new leader never saw it caught up").isEqualTo(-1);
        assertThat(tracker.last(4).logEndOffset()).isEqualTo(-1);
    }
}
