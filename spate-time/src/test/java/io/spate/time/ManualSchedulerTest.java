package io.spate.time;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ManualSchedulerTest {
    @Test
    void tasksRunInDueOrderThenSchedulingOrderAndOnlyWhenTheClockReachesThem() {
        ManualScheduler scheduler = new ManualScheduler(1_000);
        List<String> ran = new ArrayList<>();
        scheduler.schedule(20, () -> ran.add("b@20"));
        scheduler.schedule(10, () -> ran.add("a@10"));
        scheduler.schedule(20, () -> ran.add("c@20"));

        scheduler.advance(19);
        assertThat(ran).containsExactly("a@10");
        assertThat(scheduler.millis()).isEqualTo(1_019);

        scheduler.advance(1);
        assertThat(ran).containsExactly("a@10", "b@20", "c@20");
        assertThat(scheduler.pending()).isZero();
    }

    @Test
    void aTaskSeesItsOwnDueTimeAndMayScheduleMoreWithinTheSameAdvance() {
        ManualScheduler scheduler = new ManualScheduler(0);
        List<Long> seen = new ArrayList<>();
        scheduler.schedule(5, () -> {
            seen.add(scheduler.millis());
            scheduler.schedule(5, () -> seen.add(scheduler.millis()));
        });
        scheduler.advance(100);
        assertThat(seen).containsExactly(5L, 10L);
        assertThat(scheduler.nanos()).isEqualTo(100_000_000L);
    }

    @Test
    void aCancelledTaskNeverRunsAndCancellingARunTaskChangesNothing() {
        ManualScheduler scheduler = new ManualScheduler(0);
        List<String> ran = new ArrayList<>();
        Scheduler.Timer dropped = scheduler.schedule(10, () -> ran.add("dropped"));
        Scheduler.Timer kept = scheduler.schedule(10, () -> ran.add("kept"));
        dropped.cancel();
        scheduler.advance(10);
        kept.cancel();
        assertThat(ran).containsExactly("kept");
        assertThat(scheduler.pending()).isZero();
    }

    @Test
    void theHookRunsAfterEveryTaskAndCancelledTasksAreNeitherRunNorCounted() {
        ManualScheduler scheduler = new ManualScheduler(0);
        List<String> seen = new ArrayList<>();
        scheduler.schedule(1, () -> seen.add("a"));
        scheduler.schedule(2, () -> seen.add("dropped")).cancel();
        scheduler.schedule(3, () -> seen.add("b"));
        assertThat(scheduler.pending()).isEqualTo(2);

        scheduler.advance(10, () -> seen.add("check@" + scheduler.millis()));

        assertThat(seen).containsExactly("a", "check@1", "b", "check@3");
        assertThat(scheduler.tasksRun()).isEqualTo(2);
        assertThat(scheduler.pending()).isZero();
    }
}
