package io.spate.processing;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Kafka Streams' rules for when a task with several inputs merges what it read (KIP-695, max.task.idle.ms). */
class InputReadinessTest {
    private static final boolean[] STREAM_READ = {true, false};
    private final boolean[] waitFor = new boolean[2];

    @Test
    void anInputThatReadNothingAndIsNotKnownCaughtUpIsWaitedForEvenWithoutIdling() {
        InputReadiness readiness = new InputReadiness(2, 0);
        // A table read by a consumer that has had no fetch answer yet: its lag is unknown.
        assertThat(readiness.waitFor(STREAM_READ, new boolean[] {false, false}, 0, waitFor)).isTrue();
        assertThat(waitFor).containsExactly(false, true);
        assertThat(readiness.waitFor(STREAM_READ, new boolean[] {false, false}, 60_000, waitFor))
                .as("however long it takes: merging without it would take the stream ahead of the table's older records").isTrue();
        assertThat(readiness.untilNextDeadline(waitFor, 60_000)).as("no idle wait runs: it is fetched, not timed out").isEqualTo(Long.MAX_VALUE);

        assertThat(readiness.waitFor(STREAM_READ, new boolean[] {false, true}, 60_001, waitFor)).as("caught up and empty: idle 0 waits no more")
                .isFalse();
        assertThat(waitFor).containsExactly(false, false);
    }

    @Test
    void aCaughtUpEmptyInputIsWaitedForOnceUpToTheIdleTimeThenNotUntilItBringsRecordsAgain() {
        InputReadiness readiness = new InputReadiness(2, 1_000);
        boolean[] tableCaughtUp = {false, true};
        assertThat(readiness.waitFor(STREAM_READ, tableCaughtUp, 10_000, waitFor)).isTrue();
        assertThat(readiness.untilNextDeadline(waitFor, 10_000)).isEqualTo(1_000);
        assertThat(readiness.waitFor(STREAM_READ, tableCaughtUp, 10_600, waitFor)).as("the wait runs from when it was first found quiet").isTrue();
        assertThat(readiness.untilNextDeadline(waitFor, 10_600)).isEqualTo(400);
        assertThat(readiness.waitFor(STREAM_READ, tableCaughtUp, 11_000, waitFor)).as("waited long enough").isFalse();
        assertThat(readiness.waitFor(STREAM_READ, tableCaughtUp, 11_005, waitFor))
                .as("the next micro-batch does not wait for the same quiet input again").isFalse();

        assertThat(readiness.waitFor(new boolean[] {true, true}, new boolean[2], 20_000, waitFor)).isFalse(); // the table brought records
        assertThat(readiness.waitFor(STREAM_READ, tableCaughtUp, 20_010, waitFor)).as("quiet again: waited for again").isTrue();
        assertThat(readiness.untilNextDeadline(waitFor, 20_010)).isEqualTo(1_000);
    }

    @Test
    void nothingIsWaitedForWhenNoInputReadAnythingAndTheIdleDeadlineStays() {
        InputReadiness readiness = new InputReadiness(2, 1_000);
        assertThat(readiness.waitFor(STREAM_READ, new boolean[] {false, true}, 0, waitFor)).isTrue();
        assertThat(readiness.waitFor(new boolean[2], new boolean[] {true, false}, 500, waitFor)).as("nothing to merge").isFalse();
        assertThat(readiness.waitFor(STREAM_READ, new boolean[] {false, true}, 999, waitFor)).isTrue();
        assertThat(readiness.untilNextDeadline(waitFor, 999)).isEqualTo(1);
        assertThat(readiness.waitFor(STREAM_READ, new boolean[] {false, true}, 1_000, waitFor)).isFalse();
    }
}
