package io.spate.server.network;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateHandler;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The Kafka listener: size-prefixed frames over TCP, many connections on a few event loops.
 * The NIO transport is used on purpose: it hands our file regions a real socket channel, so
 * {@code FileChannel.transferTo} becomes sendfile.
 */
public final class KafkaServer implements AutoCloseable {
    private final EventLoopGroup acceptor;
    private final EventLoopGroup workers;
    private final int maxRequestBytes;
    private final Transport transport;
    private Channel serverChannel;
    private volatile RequestDispatcher dispatcher;
    private volatile RequestMetrics metrics = RequestMetrics.NOOP;

    private final RequestMemoryPool requestMemory;
    private final ConnectionLimiter connections;
    private final long connectionsMaxIdleMs;
    /** Open client connections (a closed one leaves the group by itself). */
    private final ChannelGroup clients = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    /**
     * Bounds on what clients can make the listener hold, under Kafka's names.
     *
     * @param queuedMaxRequestBytes queued.max.request.bytes: request bytes being read or handled at once (-1: no bound)
     * @param maxConnections        max.connections
     * @param maxConnectionsPerIp   max.connections.per.ip
     * @param connectionsMaxIdleMs  connections.max.idle.ms: a connection with no request in flight and no traffic this long is closed
     */
    public record Limits(long queuedMaxRequestBytes, int maxConnections, int maxConnectionsPerIp, long connectionsMaxIdleMs) {
        public static final Limits NONE = new Limits(-1, Integer.MAX_VALUE, Integer.MAX_VALUE, 600_000);
    }

    /**
     * Past this many response bytes waiting for a client to read them, the connection stops reading
     * requests until the client has taken them down to the low mark: a client that sends and never
     * reads cannot make the node hold its answers without bound.
     */
    private static final WriteBufferWaterMark RESPONSE_BACKLOG = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);

    private KafkaServer(EventLoopGroup acceptor, EventLoopGroup workers, int maxRequestBytes, Limits limits, Transport transport) {
        this.transport = transport;
        this.acceptor = acceptor;
        this.workers = workers;
        this.maxRequestBytes = maxRequestBytes;
        this.requestMemory = new RequestMemoryPool(limits.queuedMaxRequestBytes());
        this.connections = new ConnectionLimiter(limits.maxConnections(), limits.maxConnectionsPerIp());
        this.connectionsMaxIdleMs = limits.connectionsMaxIdleMs();
    }

    /**
     * Binds the listening socket without accepting yet, so that the caller can learn the port
     * (port 0 picks a free one) before it builds what answers requests; {@link #serve} starts.
     */
    public static KafkaServer bind(String host, int port, int maxRequestBytes, int ioThreads) throws InterruptedException, java.io.IOException {
        return bind(host, port, maxRequestBytes, ioThreads, Limits.NONE);
    }

    /** As above, with bounds on connections and on request memory. */
    public static KafkaServer bind(String host, int port, int maxRequestBytes, int ioThreads, Limits limits)
            throws InterruptedException, java.io.IOException {
        return bind(host, port, maxRequestBytes, ioThreads, limits, Transport.of(Transport.AUTO));
    }

    /** As above, on {@code transport}. */
    public static KafkaServer bind(String host, int port, int maxRequestBytes, int ioThreads, Limits limits, Transport transport)
            throws InterruptedException, java.io.IOException {
        EventLoopGroup acceptor = transport.newGroup(1);
        EventLoopGroup workers = transport.newGroup(ioThreads);
        KafkaServer server = new KafkaServer(acceptor, workers, maxRequestBytes, limits, transport);
        try {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(acceptor, workers)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, RESPONSE_BACKLOG)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (!server.connections.admit(ch)) {
                                // Over max.connections or max.connections.per.ip: closed before it costs anything.
                                ch.close();
                                return;
                            }
                            // A frame is a 4-byte size and that many bytes; an oversized or
                            // negative size fails fast and closes only this connection.
                            ch.pipeline().addLast("idle", new IdleStateHandler(0, 0, server.connectionsMaxIdleMs, TimeUnit.MILLISECONDS));
                            KafkaChannelHandler requests = new KafkaChannelHandler(server.dispatcher, server.requestMemory, server.metrics);
                            ch.pipeline().addLast("frames", new RequestFrameDecoder(server.maxRequestBytes, server.requestMemory, requests));
                            ch.pipeline().addLast("kafka", requests);
                            server.clients.add(ch);
                        }
                    });
            server.serverChannel = bootstrap.bind(host, port).sync().channel();
            return server;
        } catch (Exception e) { // Netty rethrows the socket's checked exceptions (a taken port) undeclared
            acceptor.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
            workers.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (e instanceof java.io.IOException failed) {
                // Its message ("bind(..) failed: Address already in use") names neither the address nor the port.
                throw new java.io.IOException("cannot listen for Kafka on " + host + ":" + port + ": " + failed.getMessage(), failed);
            }
            throw e;
        }
    }

    /** Starts accepting connections, answered by {@code requestDispatcher}. */
    public void serve(RequestDispatcher requestDispatcher) {
        serve(requestDispatcher, RequestMetrics.NOOP);
    }

    /** Starts accepting connections, answered by {@code requestDispatcher}, each request reported to {@code requestMetrics}. */
    public void serve(RequestDispatcher requestDispatcher, RequestMetrics requestMetrics) {
        this.metrics = requestMetrics;
        this.dispatcher = requestDispatcher;
        serverChannel.config().setAutoRead(true);
        serverChannel.read();
    }

    /** The socket layer the listener runs on. */
    public Transport transport() {
        return transport;
    }

    /** Connections open now (for tests and diagnostics). */
    public int connectionCount() {
        return connections.connections();
    }

    /** Response bytes written by the node and not yet taken by the clients' sockets, over all connections. */
    public long unsentResponseBytes() {
        long total = 0;
        for (Channel client : clients) {
            var outbound = client.unsafe().outboundBuffer();
            total += outbound == null ? 0 : outbound.totalPendingWriteBytes();
        }
        return total;
    }

    /** Request bytes being read or handled now. */
    public long queuedRequestBytes() {
        return requestMemory.usedBytes();
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly();
        acceptor.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
