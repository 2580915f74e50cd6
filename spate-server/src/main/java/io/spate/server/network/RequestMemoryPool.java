package io.spate.server.network;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of requests being received or handled, across all connections, held under
 * {@code queued.max.request.bytes} (Kafka's name). A connection reserves a request's size as soon as the size prefix
 * arrives; when the pool is full it stops reading until enough is released. A reservation is all-or-nothing and
 * always completes, so connections never wait on each other's half-read requests. One request larger than the
 * whole pool may still go ahead alone, or a client with a legal request could never be served.
 */
public final class RequestMemoryPool {
    private final long capacity;
    private final AtomicLong used = new AtomicLong();
    private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

    /** {@code capacity} in bytes; zero or less means unbounded (Kafka's default, -1). */
    public RequestMemoryPool(long capacity) {
        this.capacity = capacity <= 0 ? Long.MAX_VALUE : capacity;
    }

    public static RequestMemoryPool unbounded() {
        return new RequestMemoryPool(-1);
    }

    /** Takes {@code bytes} if they fit (or if nothing is taken at all); false means wait for {@link #whenReleased}. */
    public boolean tryReserve(int bytes) {
        while (true) {
            long current = used.get();
            if (current > 0 && current + bytes > capacity) {
                return false;
            }
            if (used.compareAndSet(current, current + bytes)) {
                return true;
            }
        }
    }

    public void release(int bytes) {
        used.addAndGet(-bytes);
        // Wake every waiter: each retries its own reservation, and those that still do not fit wait again.
        Runnable next;
        while ((next = waiting.poll()) != null) {
            next.run();
        }
    }

    /** Runs {@code retry} after the next release (at once if the pool emptied in the meantime). */
    public void whenReleased(Runnable retry) {
        waiting.add(retry);
        if (used.get() == 0) {
            Runnable next;
            while ((next = waiting.poll()) != null) {
                next.run();
            }
        }
    }

    public long usedBytes() {
        return used.get();
    }

    public long capacity() {
        return capacity;
    }
}
