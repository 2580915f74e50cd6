package io.spate.server.network;

import java.net.SocketAddress;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What a handler may know of the connection a request came on: who is at the other end, and
 * the connection's event loop, where delayed responses are completed.
 */
public record ClientConnection(String id, SocketAddress remoteAddress, ScheduledExecutorService eventLoop) {
}
