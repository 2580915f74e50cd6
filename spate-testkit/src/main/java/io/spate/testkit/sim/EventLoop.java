package io.spate.testkit.sim;

import io.spate.time.ManualScheduler;
import io.spate.time.Scheduler;
import io.spate.time.Time;

/**
 * Simulated time and the events due in it, run one at a time in time order (ties in the order
 * they were scheduled): nothing in a simulation happens on another thread, so a seed replays.
 * The ordering and the clock are the {@link ManualScheduler} the unit tests use; this adds what a
 * simulation says (periodic events, running to a time with a check after each event). It is also
 * the {@link Scheduler} and {@link Time} handed to the real partition code, whose deadlines then
 * fire as events of the same loop.
 */
public final class EventLoop implements Scheduler, Time {
    private final ManualScheduler scheduler = new ManualScheduler(0);

    public long nowMs() {
        return scheduler.millis();
    }

    @Override
    public long millis() {
        return scheduler.millis();
    }

    @Override
    public long nanos() {
        return scheduler.nanos();
    }

    @Override
    public Time time() {
        return this;
    }

    @Override
    public Timer schedule(long delayMs, Runnable task) {
        return scheduler.schedule(delayMs, task);
    }

    public long eventsRun() {
        return scheduler.tasksRun();
    }

    public void after(long delayMs, Runnable action) {
        scheduler.schedule(delayMs, action);
    }

    /** Runs {@code action} every {@code periodMs} from {@code firstDelayMs} on, for as long as the loop runs. */
    public void every(long firstDelayMs, long periodMs, Runnable action) {
        after(firstDelayMs, new Runnable() {
            @Override
            public void run() {
                action.run();
                after(periodMs, this);
            }
        });
    }

    /** Runs the events due up to {@code untilMs}; {@code afterEach} runs after every event. */
    public void runUntil(long untilMs, Runnable afterEach) {
        scheduler.advance(untilMs - scheduler.millis(), afterEach);
    }
}
