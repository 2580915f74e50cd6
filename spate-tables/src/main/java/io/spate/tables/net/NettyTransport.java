package io.spate.tables.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.spate.tables.Envelope;
import io.spate.tables.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The tables' network: TCP between nodes, each message one frame ({@code [length: 4][}{@link TableCodec}{@code ]}).
 * Every node connects out to each peer it sends to and only receives on the connections peers
 * open to it: one connection per pair and direction, so no handshake decides who keeps which.
 *
 * <p>{@link #send} never blocks and never throws: the envelope joins the peer's bounded queue (a full
 * queue drops it, counted), and the peer's connection, on the transport's one event-loop thread,
 * drains the queue while the socket takes more. A peer whose endpoint is unknown, or whose
 * connection is down, loses what overflows; the protocol's timeouts, hints and anti-entropy make
 * up for lost messages, so a queue that grows without bound while a peer is away buys nothing.
 * A lost connection is opened again on the next send, no sooner than a backoff (100 ms doubling to
 * 2 s, reset by a connection that works).
 *
 * <p>Frames received are decoded on the event loop and handed to {@code deliver}, which posts them
 * to the receiving node's event thread.
 */
public final class NettyTransport implements Transport, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NettyTransport.class);
    static final long MIN_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 2_000;

    public record Settings(int maxQueuedPerPeer, int maxFrameBytes) {
        public static Settings defaults() {
            return new Settings(10_000, 64 << 20);
        }
    }

    private final String self;
    private final Settings settings;
    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final EventLoop loop;
    private final Channel listener;
    private final Map<String, InetSocketAddress> endpoints = new ConcurrentHashMap<>();
    private final Map<String, Peer> peers = new ConcurrentHashMap<>();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong received;
    /** Every connection, both directions: closed with the transport, so peers see it go at once. */
    private final ChannelGroup channels;
    private volatile boolean closed;
    /** The connections peers opened to this node, whose reading {@link #reading} turns on and off. */
    private final ChannelGroup inbound;
    private final java.util.concurrent.atomic.AtomicBoolean readingOn;

    private NettyTransport(String self, Settings settings, EventLoopGroup group, boolean ownsGroup, Channel listener,
                           AtomicLong received, ChannelGroup channels, ChannelGroup inbound,
                           java.util.concurrent.atomic.AtomicBoolean readingOn) {
        this.inbound = inbound;
        this.readingOn = readingOn;
        this.self = self;
        this.channels = channels;
        this.received = received;
        this.settings = settings;
        this.group = group;
        this.ownsGroup = ownsGroup;
        this.loop = group.next();
        this.listener = listener;
    }

    /**
     * Listens on {@code host:port} (0: a free port) for the frames peers send to {@code self}.
     *
     * @param deliver gets every envelope received, on the transport's thread; it must only hand it on
     */
    public static NettyTransport bind(String self, String host, int port, Settings settings, Consumer<Envelope> deliver) {
        return bind(self, host, port, settings, deliver, ClientRequests.NONE);
    }

    /**
     * As {@link #bind(String, String, int, Settings, Consumer)}, and also answers clients' requests
     * of the native protocol ({@link ClientCodec}) that come on the same port, through {@code clients}.
     */
    public static NettyTransport bind(String self, String host, int port, Settings settings, Consumer<Envelope> deliver,
                                      ClientRequests clients) {
        return bind(self, host, port, settings, deliver, clients, null);
    }

    /**
     * As above, on {@code shared}'s first event loop (which the caller owns and shuts down after
     * {@link #close}), or, when null, on a one-thread group of the transport's own. {@code deliver}
     * and {@code clients} are then called on that loop.
     */
    public static NettyTransport bind(String self, String host, int port, Settings settings, Consumer<Envelope> deliver,
                                      ClientRequests clients, EventLoopGroup shared) {
        if (shared instanceof io.netty.util.concurrent.MultithreadEventExecutorGroup g && g.executorCount() != 1) {
            // Connections would spread over its loops, and deliver/clients would run off the caller's thread.
            throw new IllegalArgumentException("a shared group must have exactly one event loop, not " + g.executorCount());
        }
        EventLoopGroup group = shared != null ? shared : new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        AtomicLong received = new AtomicLong();
        ChannelGroup channels = new DefaultChannelGroup("spate-tables", GlobalEventExecutor.INSTANCE);
        ChannelGroup inbound = new DefaultChannelGroup("spate-tables-in", GlobalEventExecutor.INSTANCE);
        java.util.concurrent.atomic.AtomicBoolean readingOn = new java.util.concurrent.atomic.AtomicBoolean(true);
        try {
            Channel listener = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            channels.add(ch);
                            inbound.add(ch);
                            ch.config().setAutoRead(readingOn.get());
                            ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(settings.maxFrameBytes(), 0, 4, 0, 4),
                                    new Inbound(deliver, received, clients, readingOn));
                        }
                    })
                    .bind(new InetSocketAddress(host, port)).sync().channel();
            return new NettyTransport(self, settings, group, shared == null, listener, received, channels, inbound, readingOn);
        } catch (Exception e) {
            if (shared == null) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
            throw new IllegalStateException("cannot listen for table messages on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Where {@code node} listens; a changed address closes the connection to the old one. Null forgets it. */
    public void endpoint(String node, InetSocketAddress address) {
        InetSocketAddress old = address == null ? endpoints.remove(node) : endpoints.put(node, address);
        if (old != null && !old.equals(address)) {
            Peer peer = peers.get(node);
            if (peer != null && !closed) {
                try {
                    loop.execute(peer::disconnect);
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    // closing: every connection goes anyway
                }
            }
        }
    }

    @Override
    public void send(String to, Envelope envelope) {
        if (closed || !endpoints.containsKey(to)) {
            dropped.incrementAndGet();
            return;
        }
        Peer peer = peers.computeIfAbsent(to, Peer::new);
        if (!peer.offer(envelope)) {
            dropped.incrementAndGet();
            return;
        }
        if (peer.scheduleFlush()) {
            try {
                loop.execute(peer::flush);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                dropped.incrementAndGet(); // the transport is closing: as lost as any other message
            }
        }
    }

    /**
     * Turns reading from peers' connections off (the receiver's queue is full: TCP's flow control
     * then holds the peers' sends back in their bounded queues) or on again.
     */
    public void reading(boolean on) {
        readingOn.set(on);
        for (Channel ch : inbound) {
            ch.config().setAutoRead(on && ch.isWritable()); // a client that does not read its replies stays held
        }
    }

    /** Envelopes written to a socket. */
    public long sent() {
        return sent.get();
    }

    /** Envelopes dropped: no endpoint known, a full queue, a connection lost with them queued. */
    public long dropped() {
        return dropped.get();
    }

    public long received() {
        return received.get();
    }

    @Override
    public void close() {
        closed = true;
        listener.close().syncUninterruptibly();
        channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        if (ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** One peer's outgoing side. The queue is shared with senders (under its lock); the connection belongs to the event loop. */
    private final class Peer {
        private final String id;
        private final ArrayDeque<Envelope> queue = new ArrayDeque<>();
        private boolean flushScheduled;
        private Channel channel; // event loop only
        private boolean connecting;
        private long backoffMs = MIN_BACKOFF_MS;
        private long nextAttemptNanos;

        Peer(String id) {
            this.id = id;
        }

        synchronized boolean offer(Envelope envelope) {
            if (queue.size() >= settings.maxQueuedPerPeer()) {
                return false;
            }
            queue.add(envelope);
            return true;
        }

        synchronized boolean scheduleFlush() {
            if (flushScheduled) {
                return false;
            }
            flushScheduled = true;
            return true;
        }

        private synchronized Envelope poll() {
            return queue.poll();
        }

        private synchronized void doneFlushing() {
            flushScheduled = false;
        }

        private synchronized boolean isEmpty() {
            return queue.isEmpty();
        }

        /** On the event loop: writes what is queued while the socket takes it, or opens the connection first. */
        void flush() {
            doneFlushing();
            if (closed) {
                return;
            }
            if (channel == null || !channel.isActive()) {
                connect();
                return;
            }
            boolean wrote = false;
            while (channel.isWritable()) {
                Envelope next = poll();
                if (next == null) {
                    break;
                }
                byte[] body = TableCodec.encode(next);
                if (4L + body.length > settings.maxFrameBytes()) {
                    // The peer's decoder would refuse it and close the connection, losing everything
                    // queued behind it: refuse it here, loudly, since it means a sender misses a bound.
                    log.warn("{}: not sending a {} of {} bytes to {}: over the {}-byte frame limit", self,
                            next.message().getClass().getSimpleName(), body.length, id, settings.maxFrameBytes());
                    dropped.incrementAndGet();
                    continue;
                }
                ByteBuf frame = channel.alloc().buffer(4 + body.length).writeInt(body.length).writeBytes(body);
                channel.write(frame, channel.voidPromise());
                sent.incrementAndGet();
                wrote = true;
            }
            if (wrote) {
                channel.flush();
            }
        }

        private void connect() {
            if (connecting) {
                return;
            }
            long waitNanos = nextAttemptNanos - System.nanoTime();
            if (waitNanos > 0) {
                connecting = true;
                loop.schedule(() -> {
                    connecting = false;
                    flush();
                }, waitNanos, TimeUnit.NANOSECONDS);
                return;
            }
            InetSocketAddress address = endpoints.get(id);
            if (address == null) {
                discardQueued();
                return;
            }
            connecting = true;
            ChannelFuture future = new Bootstrap()
                    .group(loop)
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2_000)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
                    .handler(new Outbound(this))
                    .connect(address);
            future.addListener(f -> {
                connecting = false;
                if (f.isSuccess()) {
                    channel = future.channel();
                    channels.add(channel);
                    backoffMs = MIN_BACKOFF_MS;
                    flush();
                } else {
                    log.debug("{}: cannot connect to {} at {}: {}", self, id, address, f.cause().toString());
                    failed();
                }
            });
        }

        /** The connection failed or broke: what waits is dropped (it would be stale by the next attempt), the next send tries again after the backoff. */
        private void failed() {
            nextAttemptNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs);
            backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
            discardQueued();
        }

        private void discardQueued() {
            int n;
            synchronized (this) {
                n = queue.size();
                queue.clear();
            }
            dropped.addAndGet(n);
        }

        void disconnect() {
            if (channel != null) {
                channel.close();
                channel = null;
            }
        }

        void writable() {
            if (!isEmpty() && scheduleFlush()) {
                flush();
            }
        }

        void closed(Channel which) {
            if (channel == which) {
                channel = null;
                failed();
            }
        }
    }

    private static final class Outbound extends ChannelInboundHandlerAdapter {
        private final Peer peer;

        Outbound(Peer peer) {
            this.peer = peer;
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                peer.writable();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            io.netty.util.ReferenceCountUtil.release(msg); // peers never answer on this connection
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            peer.closed(ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("table connection to {} failed: {}", peer.id, cause.toString());
            ctx.close();
        }
    }

    /** Requests a client connection may have unanswered before the node stops reading it. */
    static final int CLIENT_PAUSE_AT = 256;
    /** Requests past this many unanswered (read in one go before reading stopped) are refused at once. */
    static final int CLIENT_REFUSE_AT = 1024;

    /**
     * Replies to one client connection, written in batches: a reply may complete on any thread,
     * and each one written from there would be a task and a wake-up of the event loop of its own;
     * queued, the replies that complete while one flush is pending go in one write. It also counts
     * the connection's unanswered requests: past {@link #CLIENT_PAUSE_AT} the connection is not read
     * until half of them are answered, and while the socket takes no more (a client that does not
     * read) replies wait here, so what one connection holds in memory stays bounded.
     */
    private static final class ClientReplies {
        private final Channel channel;
        private final java.util.concurrent.atomic.AtomicBoolean readingOn;
        private final java.util.concurrent.ConcurrentLinkedQueue<ClientCodec.Reply> queue = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final java.util.concurrent.atomic.AtomicBoolean flushScheduled = new java.util.concurrent.atomic.AtomicBoolean();
        /** The loop's: requests read and not yet written back. */
        private int unanswered;

        ClientReplies(Channel channel, java.util.concurrent.atomic.AtomicBoolean readingOn) {
            this.channel = channel;
            this.readingOn = readingOn;
        }

        /** On the loop, for each request read: false when it is one too many and must be refused. */
        boolean admit() {
            unanswered++; // every request read gets one reply, and each reply written counts one off
            if (unanswered >= CLIENT_PAUSE_AT) {
                channel.config().setAutoRead(false);
            }
            return unanswered <= CLIENT_REFUSE_AT;
        }

        void add(ClientCodec.Reply reply) {
            queue.add(reply);
            if (flushScheduled.compareAndSet(false, true)) {
                try {
                    channel.eventLoop().execute(this::flush);
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    queue.clear(); // the transport is closing: the client sees its connection go
                }
            }
        }

        /** On the loop: writes what waits while the socket takes it. */
        void flush() {
            flushScheduled.set(false);
            if (!channel.isActive()) {
                queue.clear();
                return;
            }
            boolean wrote = false;
            ClientCodec.Reply reply;
            while (channel.isWritable() && (reply = queue.poll()) != null) {
                unanswered--;
                ByteBuf frame;
                try {
                    frame = ClientCodec.encode(channel.alloc(), reply);
                } catch (RuntimeException e) {
                    log.error("cannot encode a table reply to {}: {}", channel.remoteAddress(), e.toString());
                    frame = ClientCodec.encode(channel.alloc(), ClientCodec.Reply.failed(reply.id(), ClientCodec.Status.ERROR,
                            "the reply could not be encoded"));
                }
                channel.write(frame, channel.voidPromise());
                wrote = true;
            }
            if (wrote) {
                channel.flush();
            }
            resumeIfDrained();
        }

        void resumeIfDrained() {
            if (!channel.config().isAutoRead() && unanswered <= CLIENT_PAUSE_AT / 2 && channel.isWritable() && readingOn.get()) {
                channel.config().setAutoRead(true);
            }
        }
    }

    private static final class Inbound extends SimpleChannelInboundHandler<ByteBuf> {
        private final Consumer<Envelope> deliver;
        private final AtomicLong received;
        private final ClientRequests clients;
        private final java.util.concurrent.atomic.AtomicBoolean readingOn;
        private ClientReplies replies; // the first client request makes it
        /** What the connection's first frame was: a client's connection carries no peer frames, nor a peer's client ones. */
        private Boolean clientConnection;

        Inbound(Consumer<Envelope> deliver, AtomicLong received, ClientRequests clients, java.util.concurrent.atomic.AtomicBoolean readingOn) {
            this.deliver = deliver;
            this.received = received;
            this.clients = clients;
            this.readingOn = readingOn;
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // A client that sends faster than it reads its replies is not read until it catches up.
            if (!ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(false);
            } else if (replies != null) {
                replies.flush(); // what waited for the socket, then reading again if few are unanswered
            } else {
                ctx.channel().config().setAutoRead(readingOn.get());
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            boolean client = ClientCodec.isClientFrame(frame);
            if (clientConnection == null) {
                clientConnection = client;
            } else if (clientConnection != client) {
                log.warn("closing the table connection from {}: a {} frame on a {}'s connection", ctx.channel().remoteAddress(),
                        client ? "client" : "peer", clientConnection ? "client" : "peer");
                ctx.close();
                return;
            }
            if (client) {
                clientRequest(ctx, frame);
                return;
            }
            Envelope envelope;
            try {
                envelope = TableCodec.decode(ByteBufUtil.getBytes(frame));
            } catch (TableCodec.MalformedFrameException e) {
                log.warn("closing the table connection from {}: {}", ctx.channel().remoteAddress(), e.getMessage());
                ctx.close();
                return;
            }
            received.incrementAndGet();
            deliver.accept(envelope);
        }

        private void clientRequest(ChannelHandlerContext ctx, ByteBuf frame) {
            if (replies == null) {
                replies = new ClientReplies(ctx.channel(), readingOn);
            }
            ClientReplies out = replies;
            if (!ClientCodec.hasId(frame)) {
                log.warn("closing the table client connection from {}: a frame of {} bytes holds no request id",
                        ctx.channel().remoteAddress(), frame.readableBytes());
                ctx.close();
                return;
            }
            long id = ClientCodec.idOf(frame);
            if (!out.admit()) {
                out.add(ClientCodec.Reply.of(id, ClientCodec.Status.OVERLOADED, 0));
                return;
            }
            ClientCodec.Request request;
            try {
                request = ClientCodec.decodeRequest(frame);
            } catch (TableCodec.MalformedFrameException e) {
                // The frame's length kept the stream in step: answer this one, keep the connection.
                out.add(ClientCodec.Reply.failed(id, ClientCodec.Status.INVALID, "malformed request: " + e.getMessage()));
                return;
            }
            CompletableFuture<ClientCodec.Reply> reply;
            try {
                reply = clients.handle(request);
            } catch (RuntimeException e) {
                reply = CompletableFuture.failedFuture(e);
            }
            reply.whenComplete((r, failure) -> out.add(failure == null ? r
                    : ClientCodec.Reply.failed(request.id(), ClientCodec.Status.ERROR, String.valueOf(failure))));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
                log.warn("closing the table connection from {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
            } else {
                log.debug("table connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            }
            ctx.close();
        }
    }
}
