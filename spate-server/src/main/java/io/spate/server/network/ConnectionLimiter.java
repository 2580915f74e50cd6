package io.spate.server.network;

import io.netty.channel.Channel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Kafka's {@code max.connections} and {@code max.connections.per.ip}: a connection past either limit is closed as
 * soon as it is accepted, before it costs a buffer or a handler. Counts fall when connections close.
 */
final class ConnectionLimiter {
    private final int maxConnections;
    private final int maxPerAddress;
    private final AtomicInteger total = new AtomicInteger();
    /** Updated only with merge, which is atomic per key, so a count never leaves the map while in use. */
    private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();

    ConnectionLimiter(int maxConnections, int maxPerAddress) {
        this.maxConnections = maxConnections;
        this.maxPerAddress = maxPerAddress;
    }

    /** Counts {@code channel} in and returns true, or returns false (counting nothing) when a limit is reached. */
    boolean admit(Channel channel) {
        InetAddress address = address(channel.remoteAddress());
        if (total.incrementAndGet() > maxConnections) {
            total.decrementAndGet();
            return false;
        }
        if (address != null && perAddress.merge(address, 1, Integer::sum) > maxPerAddress) {
            decrement(address);
            total.decrementAndGet();
            return false;
        }
        channel.closeFuture().addListener(f -> release(address));
        return true;
    }

    private void release(InetAddress address) {
        total.decrementAndGet();
        if (address != null) {
            decrement(address);
        }
    }

    private void decrement(InetAddress address) {
        perAddress.merge(address, -1, (count, minusOne) -> count + minusOne <= 0 ? null : count + minusOne);
    }

    int connections() {
        return total.get();
    }

    private static InetAddress address(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }
}
