package io.spate.server.network;

import io.spate.time.Scheduler;
import io.spate.time.Time;

import java.net.SocketAddress;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What a handler may know of the connection a request came on: who is at the other end, and
 * the connection's event loop, where delayed responses are completed.
 */
public record ClientConnection(String id, SocketAddress remoteAddress, ScheduledExecutorService eventLoop) {

    /**
     * The event loop as a {@link Scheduler}: a deadline set here (a long poll's) fires on the
     * thread that then answers, waking no other thread for it.
     */
    public Scheduler scheduler() {
        return new Scheduler() {
            @Override
            public Time time() {
                return Time.SYSTEM;
            }

            @Override
            public Timer schedule(long delayMs, Runnable task) {
                try {
                    ScheduledFuture<?> future = eventLoop.schedule(task, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
                    return () -> future.cancel(false);
                } catch (RejectedExecutionException closing) {
                    task.run(); // the connection is closing: nothing to wait for
                    return () -> {
                    };
                }
            }
        };
    }
}
