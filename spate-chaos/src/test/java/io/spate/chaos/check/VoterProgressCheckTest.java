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
        reads(stuckAt, fromS, untilS, 60);
    }

    /** As above, with the quorum's log growing only until {@code quorumStopsS}. */
    private void reads(long stuckAt, long fromS, long untilS, long quorumStopsS) {
        for (long s = 0; s <= 60; s += 3) {
            long quorum = 10 * Math.min(s, quorumStopsS);
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
    void aVoterLaggingWhileNoLeaderCommittedAnythingIsNot() {
        // The others are faulted so that no quorum forms; nothing touches voter 3 itself.
        reads(60, 9, 60, 9);
        assertThat(violations()).isEmpty();
    }

    @Test
    void aFaultElsewhereDoesNotExcuseIt() {
        reads(90, 9, 60);
        b.fault("pause", List.of(1), List.of(), 8 * SECOND, 61 * SECOND);
        assertThat(violations()).hasSize(1);
    }

    @Test
    void aVoterBackFromItsOwnRestartIsGivenTimeToSettle() {
        b.fault("kill", List.of(3), List.of(), 4 * SECOND, 8 * SECOND);
        // Back at 8 s, caught up only at 27 s: behind the quorum from 12 s to 24 s.
        reads(90, 9, 27);
        assertThat(violations()).as("judged from 13 s on, it caught up within ten seconds").isEmpty();
        b.faults.clear();
        assertThat(violations()).as("without the restart, twelve seconds behind").hasSize(1);
    }

    @Test
    void historiesWithoutProgressReadsAreNotJudged() {
        assertThat(violations()).isEmpty();
    }
}
