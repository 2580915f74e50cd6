package io.spate.time;

import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * The wall-clock scheduler: one daemon thread runs every task in due order. Tasks must be short
 * (completing a future, posting work elsewhere); a task that blocks delays all the others.
 */
public final class SystemScheduler implements Scheduler, AutoCloseable {
    private final ScheduledThreadPoolExecutor executor;
    private final ExecutorScheduler scheduler;

    public SystemScheduler(String threadName) {
        executor = new ScheduledThreadPoolExecutor(1, task -> Thread.ofPlatform().name(threadName).daemon().unstarted(task));
        // Most timers are deadlines that are cancelled long before they fire; drop them at once
        // rather than keeping them queued until their time comes.
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        scheduler = new ExecutorScheduler(executor, false);
    }

    @Override
    public Time time() {
        return Time.SYSTEM;
    }

    /** After {@link #close} nothing runs any more: the task is dropped (the process is stopping). */
    @Override
    public Timer schedule(long delayMs, Runnable task) {
        return scheduler.schedule(delayMs, task);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
