package io.spate.testkit.sim;

import io.spate.time.Scheduler;
import io.spate.time.Time;

import java.util.PriorityQueue;

/**
 * Simulated time and the events due in it, run one at a time in time order (ties in the order
 * they were scheduled): nothing in a simulation happens on another thread, so a seed replays.
 * It is also the {@link Scheduler} and {@link Time} handed to the real partition code, whose
 * deadlines then fire as events of the same loop.
 */
public final class EventLoop implements Scheduler, Time {
    private static final class Event implements Comparable<Event>, Timer {
        final long atMs;
        final long seq;
        final Runnable action;
        boolean cancelled;

        Event(long atMs, long seq, Runnable action) {
            this.atMs = atMs;
            this.seq = seq;
            this.action = action;
        }

        @Override
        public int compareTo(Event o) {
            int byTime = Long.compare(atMs, o.atMs);
            return byTime != 0 ? byTime : Long.compare(seq, o.seq);
        }

        @Override
        public void cancel() {
            cancelled = true; // skipped when it comes up: cheaper than taking it out of the heap
        }
    }

    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private long nowMs;
    private long seq;
    private long ran;

    public long nowMs() {
        return nowMs;
    }

    @Override
    public long millis() {
        return nowMs;
    }

    @Override
    public long nanos() {
        return nowMs * 1_000_000;
    }

    @Override
    public Time time() {
        return this;
    }

    @Override
    public Timer schedule(long delayMs, Runnable task) {
        Event event = new Event(nowMs + Math.max(0, delayMs), seq++, task);
        queue.add(event);
        return event;
    }

    public long eventsRun() {
        return ran;
    }

    public void after(long delayMs, Runnable action) {
        schedule(delayMs, action);
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

    /** Runs events until none is due before {@code untilMs}; {@code afterEach} runs after every event. */
    public void runUntil(long untilMs, Runnable afterEach) {
        while (!queue.isEmpty() && queue.peek().atMs <= untilMs) {
            Event e = queue.poll();
            if (e.cancelled) {
                continue;
            }
            nowMs = e.atMs;
            e.cancelled = true; // ran: a later cancel is a no-op
            e.action.run();
            ran++;
            afterEach.run();
        }
        nowMs = Math.max(nowMs, untilMs);
    }
}
