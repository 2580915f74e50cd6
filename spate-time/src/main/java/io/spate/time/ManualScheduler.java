package io.spate.time;

import java.util.PriorityQueue;

/**
 * A clock and a timer queue that move only when told to: {@link #advance} runs every task that
 * falls due, on the calling thread, in due-time order (ties in the order they were scheduled).
 * For tests and for the seeded simulation, where the same calls give the same run. Not
 * thread-safe: one thread schedules and advances.
 */
public final class ManualScheduler implements Scheduler, Time {
    private final PriorityQueue<Task> queue = new PriorityQueue<>();
    private long nowNanos;
    private final long epochMillis;
    private long sequence;
    private int live;
    private long ran;

    private final class Task implements Comparable<Task>, Timer {
        final long dueNanos;
        final long seq;
        final Runnable action;
        boolean cancelled;

        Task(long dueNanos, long seq, Runnable action) {
            this.dueNanos = dueNanos;
            this.seq = seq;
            this.action = action;
        }

        @Override
        public int compareTo(Task o) {
            int byTime = Long.compare(dueNanos, o.dueNanos);
            return byTime != 0 ? byTime : Long.compare(seq, o.seq);
        }

        @Override
        public void cancel() {
            if (!cancelled) {
                cancelled = true; // left in the heap and skipped when it comes up: removal is linear
                live--;
            }
        }
    }

    /** Starts at {@code epochMillis} on the millisecond clock and at zero on the nanosecond one. */
    public ManualScheduler(long epochMillis) {
        this.epochMillis = epochMillis;
    }

    public ManualScheduler() {
        this(1_700_000_000_000L);
    }

    @Override
    public long millis() {
        return epochMillis + nowNanos / 1_000_000;
    }

    @Override
    public long nanos() {
        return nowNanos;
    }

    @Override
    public Time time() {
        return this;
    }

    @Override
    public Timer schedule(long delayMs, Runnable task) {
        Task t = new Task(nowNanos + Math.max(0, delayMs) * 1_000_000, sequence++, task);
        queue.add(t);
        live++;
        return t;
    }

    /** Moves the clock {@code ms} forward, running each task as its time comes (tasks may schedule more). */
    public void advance(long ms) {
        advance(ms, () -> { });
    }

    /**
     * As {@link #advance(long)}, calling {@code afterEach} after every task: the simulation checks
     * its invariants there, so a violation is caught at the event that caused it.
     */
    public void advance(long ms, Runnable afterEach) {
        long target = nowNanos + Math.max(0, ms) * 1_000_000;
        Task next;
        while ((next = queue.peek()) != null && next.dueNanos <= target) {
            queue.poll();
            if (next.cancelled) {
                continue;
            }
            nowNanos = Math.max(nowNanos, next.dueNanos);
            next.cancelled = true; // ran: a later cancel is a no-op
            live--;
            next.action.run();
            ran++;
            afterEach.run();
        }
        nowNanos = target;
    }

    /** Runs what is due now without moving the clock. */
    public void runDue() {
        advance(0);
    }

    /** Tasks scheduled and neither run nor cancelled. */
    public int pending() {
        return live;
    }

    /** Tasks run since the start: how far a seeded run got, in steps that replay. */
    public long tasksRun() {
        return ran;
    }
}
