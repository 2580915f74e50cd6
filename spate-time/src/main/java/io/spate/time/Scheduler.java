package io.spate.time;

/** Runs tasks later. Implementations say on which thread; tasks must not block it. */
public interface Scheduler {
    /** A scheduled task; cancelling one that already ran or was cancelled does nothing. */
    interface Timer {
        void cancel();
    }

    /** The clock this scheduler's delays are measured on. */
    Time time();

    /** Runs {@code task} once, {@code delayMs} from now (at once, in turn, when not positive). */
    Timer schedule(long delayMs, Runnable task);

    /**
     * Runs {@code task} once, at once but after whatever else is ready to run: for the next step of a
     * long chain of background work, so that other work goes between the steps. On a network event
     * loop that includes what its sockets have ready, which a task posted for now would run ahead
     * of; elsewhere it is {@code schedule(0, task)}.
     */
    default Timer yieldThen(Runnable task) {
        return schedule(0, task);
    }
}
