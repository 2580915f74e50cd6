package io.spate.time;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The wall-clock scheduler: one daemon thread runs every task in due order. Tasks must be short
 * (completing a future, posting work elsewhere); a task that blocks delays all the others.
 */
public final class SystemScheduler implements Scheduler, AutoCloseable {
    private final ScheduledThreadPoolExecutor executor;

    public SystemScheduler(String threadName) {
        executor = new ScheduledThreadPoolExecutor(1, task -> Thread.ofPlatform().name(threadName).daemon().unstarted(task));
        // Most timers are deadlines that are cancelled long before they fire; drop them at once
        // rather than keeping them queued until their time comes.
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    @Override
    public Time time() {
        return Time.SYSTEM;
    }

    /** After {@link #close} nothing runs any more: the task is dropped (the process is stopping). */
    @Override
    public Timer schedule(long delayMs, Runnable task) {
        try {
            ScheduledFuture<?> future = executor.schedule(task, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
            return () -> future.cancel(false);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            return () -> {
            };
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
