package io.spate.replication;

import io.spate.time.Scheduler;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads that found too little and wait (long poll): each waits until enough has been appended
 * to any of its partitions within its bound, or until its wait runs out, then completes so the
 * reader reads again. Owned by replication, where appends and the high watermark move, so every
 * reader (a Kafka fetch, a follower, a processing task) waits the same way without replication
 * knowing who they are. Deadlines run on the injected scheduler.
 */
public final class ParkedReads {
    /** Where one partition's read stands: it wakes once the partition's bound passes {@code offset}. */
    public record Position(Partition partition, long offset) {
    }

    private final Scheduler scheduler;

    public ParkedReads(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    /**
     * Completes (never exceptionally) once {@code minBytes} have become readable within
     * {@code bound} across {@code positions}, or data already lies past one of them, or
     * {@code maxWaitMs} has passed. Completes on the appending thread or the scheduler's:
     * readers hop to their own thread before reading.
     */
    public CompletableFuture<Void> park(List<Position> positions, ReadBound bound, int minBytes, long maxWaitMs) {
        return park(positions, bound, minBytes, 0, maxWaitMs, scheduler);
    }

    /**
     * As above, for a reader that already found {@code alreadyRead} bytes (fewer than
     * {@code minBytes}: a consumer's {@code fetch.min.bytes}): those count towards the minimum,
     * and the read waits for the rest rather than waking because data lies past its positions.
     * The deadline runs on {@code deadlines}: a reader that has a thread of its own (a
     * connection's event loop) passes it, so the deadline wakes no other thread.
     */
    public CompletableFuture<Void> park(List<Position> positions, ReadBound bound, int minBytes, long alreadyRead, long maxWaitMs,
                                        Scheduler deadlines) {
        ParkedRead read = new ParkedRead(positions, minBytes, alreadyRead);
        read.start(bound, maxWaitMs, deadlines);
        return read.done;
    }

    /**
     * As {@link #park(List, ReadBound, int, long)} for a reader with a thread of its own that waits
     * on the future with its own timeout (a processing task): no timer is set, so no other thread
     * wakes for the deadline. The reader completes the future itself when it stops waiting, which
     * withdraws the read from its partitions.
     */
    public CompletableFuture<Void> parkUntilWoken(List<Position> positions, ReadBound bound, int minBytes) {
        ParkedRead read = new ParkedRead(positions, minBytes, 0);
        read.start(bound, -1, null);
        return read.done;
    }

    private final class ParkedRead implements Partition.AppendListener {
        private final List<Position> positions;
        private final int minBytes;
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private final AtomicBoolean completed = new AtomicBoolean();
        /** Readable bytes found or announced since the reader's first read (saturating). */
        private final AtomicLong readable;
        private volatile Scheduler.Timer timeout;

        ParkedRead(List<Position> positions, int minBytes, long alreadyRead) {
            this.positions = positions;
            this.minBytes = minBytes;
            this.readable = new AtomicLong(alreadyRead);
        }

        /** {@code deadlines} null: no deadline, the reader completes {@link #done} when it gives up. */
        void start(ReadBound bound, long maxWaitMs, Scheduler deadlines) {
            if (deadlines == null) {
                // Only a reader with no deadline completes the future itself; a fetch's park
                // (the hot path) needs no dependent on it.
                done.whenComplete((ignored, failure) -> complete());
            }
            positions.forEach(p -> p.partition().addWaiter(this, bound));
            if (deadlines != null) {
                Scheduler.Timer timer = deadlines.schedule(maxWaitMs, this::complete);
                timeout = timer;
                if (completed.get()) {
                    timer.cancel(); // an append on another thread completed the read before the timer was known
                    return;
                }
            } else if (completed.get()) {
                return;
            }
            if (readable.get() > 0) {
                // The first read found some, not enough. Appends between it and the registration
                // above are not counted: the read may wait longer than it had to, never past its
                // deadline (a reader asking for a minimum accepts that wait).
                return;
            }
            // An append may have landed between the reader's first read and the registration above.
            for (Position p : positions) {
                if (p.partition().readLimit(bound) > p.offset()) {
                    complete();
                    return;
                }
            }
        }

        @Override
        public void onAppend(Partition partition, long bytes) {
            if (readable.accumulateAndGet(bytes, ParkedReads::saturatingAdd) >= minBytes) {
                complete();
            }
        }

        private void complete() {
            if (!completed.compareAndSet(false, true)) {
                return;
            }
            positions.forEach(p -> p.partition().removeWaiter(this));
            Scheduler.Timer pending = timeout;
            if (pending != null) {
                pending.cancel();
            }
            done.complete(null);
        }
    }

    private static long saturatingAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }
}
