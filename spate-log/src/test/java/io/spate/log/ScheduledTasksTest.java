package io.spate.log;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class ScheduledTasksTest {
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    @Test
    void aPeriodicTaskThatThrowsKeepsRunning() throws Exception {
        CountDownLatch sixRuns = new CountDownLatch(6);
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> future = ScheduledTasks.withFixedDelay(executor, "test", () -> {
            sixRuns.countDown();
            if (runs.incrementAndGet() % 2 == 1) {
                throw new IllegalStateException("odd run fails");
            }
        }, 0, 1, TimeUnit.MILLISECONDS);
        assertThat(sixRuns.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(future.isDone()).isFalse();
    }

    @Test
    void anErrorDoesNotStopTheScheduleEither() throws Exception {
        CountDownLatch threeRuns = new CountDownLatch(3);
        ScheduledTasks.withFixedDelay(executor, "test", () -> {
            threeRuns.countDown();
            throw new AssertionError("broken invariant");
        }, 0, 1, TimeUnit.MILLISECONDS);
        assertThat(threeRuns.await(10, TimeUnit.SECONDS)).isTrue();
    }

    /** What the helper exists for: the JDK cancels a periodic task for good after its first throw. */
    @Test
    void withoutTheHelperTheJdkCancelsThePeriodicTaskAfterOneThrow() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        ScheduledFuture<?> future = executor.scheduleWithFixedDelay(() -> {
            runs.incrementAndGet();
            throw new IllegalStateException("fails");
        }, 0, 1, TimeUnit.MILLISECONDS);
        assertThat(catchDone(future)).isTrue();
        assertThat(runs.get()).isEqualTo(1);
    }

    @Test
    void aOneOffTaskThatThrowsIsLoggedAndTheExecutorCarriesOn() throws Exception {
        ScheduledTasks.once(executor, "test", () -> {
            throw new IllegalStateException("fails");
        }, 0, TimeUnit.MILLISECONDS);
        CountDownLatch after = new CountDownLatch(1);
        executor.execute(after::countDown);
        assertThat(after.await(10, TimeUnit.SECONDS)).isTrue();
    }

    private static boolean catchDone(ScheduledFuture<?> future) {
        try {
            future.get(10, TimeUnit.SECONDS);
        } catch (Exception expected) {
            // the task's exception, or a timeout if the schedule went on (then isDone is false)
        }
        return future.isDone();
    }
}
