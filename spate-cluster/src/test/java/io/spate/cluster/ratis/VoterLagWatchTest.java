package io.spate.cluster.ratis;

import io.spate.cluster.ratis.VoterLagWatch.Action;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The watch's decisions on made-up histories of "you are behind" answers, 100 ms apart unless said. */
class VoterLagWatchTest {
    private static final long MS = 1_000_000L;
    private final VoterLagWatch watch = new VoterLagWatch(2_000 * MS, 8_000 * MS, 1_000 * MS, 30_000 * MS, 30_000 * MS);

    /** Reports "behind at {@code applied}" every 100 ms from {@code fromMs} to {@code toMs}; returns the last answer. */
    private Action behindFor(long fromMs, long toMs, long applied) {
        Action last = Action.NONE;
        for (long t = fromMs; t <= toMs; t += 100) {
            last = watch.behind(t * MS, applied);
        }
        return last;
    }

    @Test
    void aReplicaThatIsBehindButApplyingIsLeftAlone() {
        long applied = 10;
        for (long t = 0; t < 60_000; t += 100) {
            // One entry applied every 1.5 s: slow, but moving.
            if (t % 1_500 == 0) {
                applied++;
            }
            assertThat(watch.behind(t * MS, applied)).as("at %d ms", t).isEqualTo(Action.NONE);
        }
    }

    @Test
    void aReplicaThatAppliesNothingIsBridgedAfterTwoSecondsAndRestartedAfterEight() {
        assertThat(behindFor(0, 1_900, 5)).isEqualTo(Action.NONE);
        assertThat(watch.behind(2_000 * MS, 5)).isEqualTo(Action.FETCH_IMAGE);
        assertThat(behindFor(2_100, 7_900, 5)).isEqualTo(Action.FETCH_IMAGE);
        assertThat(watch.behind(8_000 * MS, 5)).isEqualTo(Action.RESTART_VOTER);
        // Right after a restart: a new window, so no fetch until the restarted replica has had its two seconds.
        assertThat(watch.behind(8_100 * MS, 5)).isEqualTo(Action.NONE);
        assertThat(behindFor(8_200, 10_100, 5)).isEqualTo(Action.FETCH_IMAGE);
    }

    @Test
    void aSecondRestartWaitsOutTheBackoffAndTheNodeKeepsFetchingMeanwhile() {
        assertThat(behindFor(0, 8_000, 5)).isEqualTo(Action.RESTART_VOTER);
        for (long t = 8_100; t < 38_000; t += 100) {
            assertThat(watch.behind(t * MS, 5)).as("at %d ms", t).isNotEqualTo(Action.RESTART_VOTER);
        }
        assertThat(behindFor(38_000, 38_000, 5)).isEqualTo(Action.RESTART_VOTER);
    }

    @Test
    void progressOrAGapInTheReportsStartsANewWindow() {
        assertThat(behindFor(0, 7_000, 5)).isEqualTo(Action.FETCH_IMAGE);
        assertThat(watch.behind(7_100 * MS, 6)).as("it applied one more").isEqualTo(Action.NONE);
        assertThat(behindFor(7_200, 14_000, 6)).isEqualTo(Action.FETCH_IMAGE);
        // No report for more than a second, then behind again: the replica gets two seconds of its
        // own before anything is done.
        assertThat(watch.behind(20_000 * MS, 6)).isEqualTo(Action.NONE);
        assertThat(behindFor(20_100, 21_900, 6)).isEqualTo(Action.NONE);
        // A node cut off from the controller hears nothing; once heard again it gets its two seconds too.
        assertThat(watch.behind(60_000 * MS, 6)).isEqualTo(Action.NONE);
    }

    @Test
    void aReplicaKeptCurrentOnlyByFetchedImagesIsStillRestarted() {
        // Seed 3090: the replica stopped for good at index 5. At each metadata change the node is
        // behind for two seconds, fetches the image, and looks current until the next change.
        for (long change = 0; change < 10_000; change += 5_000) {
            assertThat(behindFor(change, change + 1_900, 5)).isEqualTo(Action.NONE);
            assertThat(watch.behind((change + 2_000) * MS, 5)).isEqualTo(Action.FETCH_IMAGE);
        }
        // Its replica has applied nothing for twelve seconds: the gaps were the fetched images' doing.
        assertThat(behindFor(10_000, 11_900, 5)).isEqualTo(Action.NONE);
        assertThat(watch.behind(12_000 * MS, 5)).isEqualTo(Action.RESTART_VOTER);
    }

    @Test
    void aBridgedVoterHeardAgainAfterACutOffHasTwoSecondsToApplyBeforeARestart() {
        VoterLagWatch other = new VoterLagWatch(2_000 * MS, 8_000 * MS, 1_000 * MS, 30_000 * MS, 30_000 * MS);
        for (VoterLagWatch w : java.util.List.of(watch, other)) {
            for (long t = 0; t <= 2_000; t += 100) {
                w.behind(t * MS, 5); // bridged at 2 s
            }
        }
        // Cut off (or no leader) for 20 s, then heard again: its replica catches up at once.
        assertThat(watch.behind(22_000 * MS, 5)).isEqualTo(Action.NONE);
        assertThat(watch.behind(22_100 * MS, 9)).as("it applied: current again, the reports stop").isEqualTo(Action.NONE);
        assertThat(behindFor(30_000, 31_900, 9)).as("behind at the next change: a fresh window").isEqualTo(Action.NONE);
        // The same, but its replica still applies nothing two seconds after it is heard again.
        for (long t = 22_000; t < 24_000; t += 100) {
            assertThat(other.behind(t * MS, 5)).as("at %d ms", t).isEqualTo(Action.NONE);
        }
        assertThat(other.behind(24_000 * MS, 5)).isEqualTo(Action.RESTART_VOTER);
    }

    @Test
    void aServerThatStartedLessThanTheGraceAgoIsBridgedButNotRestarted() {
        // A grace longer than the backoff between restarts, so that each is seen at work.
        VoterLagWatch watch = new VoterLagWatch(2_000 * MS, 8_000 * MS, 1_000 * MS, 30_000 * MS, 45_000 * MS);
        watch.serverStarted(0);
        // A cluster starting on a busy machine: this voter applies nothing for 44 s while the others commit.
        for (long t = 0; t < 45_000; t += 100) {
            assertThat(watch.behind(t * MS, -1)).as("at %d ms", t).isEqualTo(t < 2_000 ? Action.NONE : Action.FETCH_IMAGE);
        }
        // Stuck for good: restarted once the grace is over, and the restart starts a grace of its own
        // that outlasts the backoff.
        assertThat(watch.behind(45_000 * MS, -1)).isEqualTo(Action.RESTART_VOTER);
        watch.serverStarted(45_000 * MS);
        for (long t = 45_100; t < 90_000; t += 100) {
            assertThat(watch.behind(t * MS, -1)).as("at %d ms", t).isNotEqualTo(Action.RESTART_VOTER);
        }
        assertThat(watch.behind(90_000 * MS, -1)).isEqualTo(Action.RESTART_VOTER);
    }

    @Test
    void thresholdsMustBeOrdered() {
        assertThatThrownBy(() -> new VoterLagWatch(8 * MS, 2 * MS, MS, 30 * MS, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new VoterLagWatch(2 * MS, 8 * MS, 0, 30 * MS, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new VoterLagWatch(2 * MS, 8 * MS, MS, 4 * MS, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new VoterLagWatch(2 * MS, 8 * MS, MS, 30 * MS, -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
