package io.spate.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Group commit: produce requests that must not be acknowledged before their data is on disk
 * queue here; one thread takes everything queued, fsyncs each log once, and completes them all.
 * While an fsync runs the next requests gather, so under load many producers share one fsync
 * and nobody waits on a timer.
 */
public final class FlushCoordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FlushCoordinator.class);
    private static final int QUEUE_CAPACITY = 65_536;

    private record FlushRequest(PartitionLog log, CompletableFuture<Void> done) {
    }

    /** Wakes the thread at a close, so that the close does not wait out its poll. */
    private static final FlushRequest WAKE_UP = new FlushRequest(null, new CompletableFuture<>());

    private final BlockingQueue<FlushRequest> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final java.util.Queue<FlushRequest> overflow = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final Clock clock;
    private final Thread thread;
    private volatile boolean running = true;

    public FlushCoordinator(Clock clock) {
        this.clock = clock;
        this.thread = Thread.ofPlatform().name("spate-group-commit").daemon().start(this::run);
    }

    /** Completes once everything appended to {@code partitionLog} before this call is fsynced. */
    public CompletableFuture<Void> flush(PartitionLog partitionLog) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!running) {
            done.completeExceptionally(new IOException("the log manager is shutting down"));
        } else if (!queue.offer(new FlushRequest(partitionLog, done))) {
            // The queue is full: the request waits in the overflow, which the group-commit thread empties with its next
            // batch. The caller (a network thread) must not fsync itself. The overflow is bounded by the requests in
            // flight, which the network layer bounds per connection.
            overflow.add(new FlushRequest(partitionLog, done));
        }
        if (!running && !thread.isAlive()) {
            // Queued after the close had drained the queue: nobody else will serve it.
            failLate();
        }
        return done;
    }

    private void failLate() {
        List<FlushRequest> late = new ArrayList<>();
        queue.drainTo(late);
        for (FlushRequest more; (more = overflow.poll()) != null; ) {
            late.add(more);
        }
        for (FlushRequest r : late) {
            if (r != WAKE_UP) {
                r.done().completeExceptionally(new IOException("the log manager is shutting down"));
            }
        }
    }

    private void run() {
        List<FlushRequest> batch = new ArrayList<>();
        while (running || !queue.isEmpty() || !overflow.isEmpty()) {
            try {
                FlushRequest first = overflow.isEmpty() ? queue.poll(100, TimeUnit.MILLISECONDS) : overflow.poll();
                if (first == null || first == WAKE_UP) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch);
                for (FlushRequest more; (more = overflow.poll()) != null; ) {
                    batch.add(more);
                }
                batch.removeIf(r -> r == WAKE_UP);
                flushAll(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException | Error e) {
                // Waiters learn of the failure; the thread lives on, or every later ack would hang.
                log.error("group commit failed", e);
                batch.forEach(r -> r.done().completeExceptionally(e));
            } finally {
                batch.clear();
            }
        }
    }

    private void flushAll(List<FlushRequest> batch) {
        Map<PartitionLog, IOException> outcome = new IdentityHashMap<>();
        for (FlushRequest request : batch) {
            if (outcome.containsKey(request.log())) {
                continue;
            }
            try {
                request.log().flush(clock.millis());
                outcome.put(request.log(), null);
            } catch (IOException e) {
                log.error("fsync of {} failed", request.log().topicPartition(), e);
                outcome.put(request.log(), e);
            }
        }
        for (FlushRequest request : batch) {
            IOException failure = outcome.get(request.log());
            if (failure == null) {
                request.done().complete(null);
            } else {
                request.done().completeExceptionally(failure);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        // Left in a full queue it is simply not needed: the thread is busy, not waiting.
        queue.offer(WAKE_UP);
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // A request may have been queued after the thread's last look: serve it here.
        List<FlushRequest> late = new ArrayList<>();
        queue.drainTo(late);
        for (FlushRequest more; (more = overflow.poll()) != null; ) {
            late.add(more);
        }
        late.removeIf(r -> r == WAKE_UP);
        if (!late.isEmpty()) {
            flushAll(late);
        }
    }
}
