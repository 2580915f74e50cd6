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
}
