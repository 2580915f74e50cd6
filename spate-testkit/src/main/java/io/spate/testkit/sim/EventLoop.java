package io.spate.testkit.sim;

import java.util.PriorityQueue;

/**
 * Simulated time and the events due in it, run one at a time in time order (ties in the order
 * they were scheduled): nothing in a simulation happens on another thread, so a seed replays.
 */
public final class EventLoop {
    private record Event(long atMs, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            int byTime = Long.compare(atMs, o.atMs);
            return byTime != 0 ? byTime : Long.compare(seq, o.seq);
        }
    }

    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private long nowMs;
    private long seq;
    private long ran;

    public long nowMs() {
        return nowMs;
    }

    public long eventsRun() {
        return ran;
    }

    public void after(long delayMs, Runnable action) {
        queue.add(new Event(nowMs + Math.max(0, delayMs), seq++, action));
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
        while (!queue.isEmpty() && queue.peek().atMs() <= untilMs) {
            Event e = queue.poll();
            nowMs = e.atMs();
            e.action().run();
            ran++;
            afterEach.run();
        }
        nowMs = Math.max(nowMs, untilMs);
    }
}
