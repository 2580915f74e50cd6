package io.spate.time;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Scheduler} on a wall-clock {@link ScheduledExecutorService} (a thread of its own, or a
 * Netty event loop). Once the executor refuses work (it is shutting down), a task is either
 * dropped or, for callers whose waiters must not be left hanging, run at once.
 */
public final class ExecutorScheduler implements Scheduler {
    private final ScheduledExecutorService executor;
    private final boolean runWhenRefused;

    public ExecutorScheduler(ScheduledExecutorService executor, boolean runWhenRefused) {
        this.executor = executor;
        this.runWhenRefused = runWhenRefused;
    }

    @Override
    public Time time() {
        return Time.SYSTEM;
    }

    @Override
    public Timer schedule(long delayMs, Runnable task) {
        try {
            ScheduledFuture<?> future = executor.schedule(task, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
            return () -> future.cancel(false);
        } catch (RejectedExecutionException closed) {
            if (runWhenRefused) {
                task.run();
            }
            return () -> {
            };
        }
    }
}
