package io.spate.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Background duties that survive their own failures. A task given to
 * {@link ScheduledExecutorService#scheduleWithFixedDelay} that throws once is cancelled for good,
 * silently (the exception sits in a future nobody reads): one bad partition would stop
 * retention, flushes, heartbeats or in-sync checks for the rest of the process's life. Every
 * periodic task goes through here instead: a throw is logged and the next run happens as planned.
 */
public final class ScheduledTasks {
    private static final Logger log = LoggerFactory.getLogger(ScheduledTasks.class);

    private ScheduledTasks() {
    }

    /** {@code task}, with anything it throws logged (under {@code name}) instead of propagated. */
    public static Runnable logged(String name, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable e) {
                // Errors too (an assertion, a missing class): the schedule matters more than the one run.
                log.error("background task '{}' failed; it runs again at its next turn", name, e);
            }
        };
    }

    /** Runs {@code task} every {@code delay} after the end of the previous run, whatever a run throws. */
    public static ScheduledFuture<?> withFixedDelay(ScheduledExecutorService executor, String name, Runnable task,
                                                    long initialDelay, long delay, TimeUnit unit) {
        return executor.scheduleWithFixedDelay(logged(name, task), initialDelay, delay, unit);
    }

    /** A one-off run of {@code task}; a throw is logged rather than left in a future nobody reads. */
    public static ScheduledFuture<?> once(ScheduledExecutorService executor, String name, Runnable task, long delay, TimeUnit unit) {
        return executor.schedule(logged(name, task), delay, unit);
    }
}
