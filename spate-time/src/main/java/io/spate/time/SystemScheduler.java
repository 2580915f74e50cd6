package io.spate.time;

import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * The wall-clock scheduler: one daemon thread runs every task in due order. Tasks must be short
 * (completing a future, posting work elsewhere); a task that blocks delays all the others.
 */
public final class SystemScheduler implements Scheduler, AutoCloseable {
    private final ScheduledThreadPoolExecutor executor;
    private final ExecutorScheduler scheduler;
    private volatile Thread thread;

    public SystemScheduler(String threadName) {
        executor = new ScheduledThreadPoolExecutor(1, task -> {
            Thread t = Thread.ofPlatform().name(threadName).daemon().unstarted(task);
            thread = t;
            return t;
        });
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

    /**
     * Closes once the task running now and those already due have run, for a thread whose tasks
     * read or append logs (a coordinator's shards): {@link #close}'s interrupt would close the
     * file such a task is using (ClosedByInterruptException), and it would drop a last task that
     * fails what is pending. Delayed tasks are dropped. Past {@code timeoutMs}, as {@link #close}.
     */
    public void closeAfterDueTasks(long timeoutMs) {
        executor.shutdown();
        if (Thread.currentThread() == thread) {
            return; // called from a task: the executor ends after it
        }
        try {
            if (!executor.awaitTermination(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
