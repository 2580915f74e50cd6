package io.spate.server.network;

import io.spate.time.ExecutorScheduler;
import io.spate.time.Scheduler;

import java.net.SocketAddress;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What a handler may know of the connection a request came on: who is at the other end, and
 * the connection's event loop, where delayed responses are completed.
 */
public record ClientConnection(String id, SocketAddress remoteAddress, ScheduledExecutorService eventLoop) {

    /**
     * The event loop as a {@link Scheduler}: a deadline set here (a long poll's) fires on the
     * thread that then answers, waking no other thread for it; on a closing connection it fires
     * at once (nothing to wait for).
     */
    public Scheduler scheduler() {
        return new ExecutorScheduler(eventLoop, true);
    }
}
