package io.spate.replication;

import io.spate.time.Scheduler;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One timer per node for the high-watermark notices of all its leader partitions (see
 * {@link Partition#FOLLOWER_HIGH_WATERMARK_NOTICE_MS}). Each partition whose high watermark moves
 * needs its followers told within about that long when no records come to carry it; under a steady
 * load every busy partition has such a notice due, and a timer of its own per partition, re-armed
 * after every wave of records, woke the deadlines thread a few hundred times a second per node.
 * Here one timer serves them all: it fires every notice period while any partition waits, and
 * tells those whose followers heard nothing for a period. A notice is due within two periods of
 * the move, at most.
 */
public final class FollowerNotices {
    /** Asked of a waiting partition at each tick. */
    interface Waiting {
        /** Tells the followers if they are due a notice and returns true, or false to be asked again at the next tick. */
        boolean noticeIfDue();
    }

    private final Scheduler scheduler;
    private final long periodMs;
    /** A partition is here at most once: it asks only when its own pending flag was clear. */
    private final Queue<Waiting> waiting = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean armed = new AtomicBoolean();

    FollowerNotices(Scheduler scheduler, long periodMs) {
        this.scheduler = scheduler;
        this.periodMs = periodMs;
    }

    void request(Waiting partition) {
        waiting.add(partition);
        armIfIdle();
    }

    private void armIfIdle() {
        if (armed.compareAndSet(false, true)) {
            scheduler.schedule(periodMs, this::tick);
        }
    }

    private void tick() {
        try {
            // Only those waiting when the tick began: one asked again below goes to the back.
            for (int n = waiting.size(); n > 0; n--) {
                Waiting partition = waiting.poll();
                if (partition == null) {
                    break;
                }
                boolean told = false;
                try {
                    told = partition.noticeIfDue();
                } finally {
                    if (!told) {
                        waiting.add(partition); // asked again at the next tick, even after a throw
                    }
                }
            }
        } finally {
            // One partition's failure must not leave the node's timer disarmed for good.
            armed.set(false);
            // A request that came while armed was still set found the timer running: look again.
            if (!waiting.isEmpty()) {
                armIfIdle();
            }
        }
    }

    /** Partitions waiting for a notice (for tests). */
    int waiting() {
        return waiting.size();
    }
}
