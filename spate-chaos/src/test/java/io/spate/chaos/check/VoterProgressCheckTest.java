package io.spate.chaos.check;

import io.spate.chaos.history.NodeFault;
import io.spate.chaos.history.VoterProgress;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.spate.chaos.check.HistoryBuilder.SECOND;
import static org.assertj.core.api.Assertions.assertThat;

/** Voters' logs read every 3 s, as the runner reads them; the quorum's log grows by ten entries a read. */
class VoterProgressCheckTest {
    private final HistoryBuilder b = new HistoryBuilder();

    /** Voters 1 and 2 keep up; voter 3 reaches {@code stuckAt} at {@code fromS} and no further until {@code untilS}. */
    private void reads(long stuckAt, long fromS, long untilS) {
        for (long s = 0; s <= 60; s += 3) {
            long quorum = 10 * s;
            b.voterProgress.add(new VoterProgress(1, s * SECOND, quorum));
            b.voterProgress.add(new VoterProgress(2, s * SECOND + 1_000, quorum));
            long third = s >= fromS && s < untilS ? stuckAt : quorum;
            b.voterProgress.add(new VoterProgress(3, s * SECOND + 2_000, third));
        }
    }

    private List<Violation> violations() {
        return Checker.check(b.build()).violations().stream().filter(v -> v.check().equals(Violation.VOTER_STUCK)).toList();
    }

    @Test
    void aVoterThatStopsTakingEntriesWhileNothingTouchesItIsReported() {
        // Seed 3090: a follower stuck at index 56 while the others went on.
        reads(90, 9, 60);
        List<Violation> found = violations();
        assertThat(found).singleElement().satisfies(v -> {
            assertThat(v.partition()).isEqualTo(3);
            assertThat(v.safety()).isFalse();
            assertThat(v.where()).isEqualTo("voter 3");
        });
    }

    @Test
    void aVoterThatCatchesUpWithinTheWindowIsNot() {
        reads(90, 9, 18);
        assertThat(violations()).isEmpty();
    }

    @Test
    void aVoterThatAFaultKeptFromItsLeaderIsNot() {
        reads(90, 9, 60);
        b.fault("isolate", List.of(), List.of(new NodeFault.Cut(3, 1), new NodeFault.Cut(1, 3), new NodeFault.Cut(3, 2), new NodeFault.Cut(2, 3)),
                8 * SECOND, 61 * SECOND);
        assertThat(violations()).isEmpty();
    }

    @Test
    void aVoterLaggingWhileTheOthersLostTheirMajorityIsNot() {
        reads(90, 9, 60);
        b.fault("pause", List.of(1), List.of(), 8 * SECOND, 61 * SECOND);
        assertThat(violations()).as("with 1 paused, 2 and 3 are a majority untouched: 3 is stuck").hasSize(1);
        b.fault("pause", List.of(2), List.of(), 8 * SECOND, 61 * SECOND);
        assertThat(violations()).as("with 1 and 2 paused, no leader could have reached 3").isEmpty();
    }

    @Test
    void historiesWithoutProgressReadsAreNotJudged() {
        assertThat(violations()).isEmpty();
    }
}
