package io.spate.tables.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.spate.tables.Cell;
import io.spate.tables.Consistency;
import io.spate.tables.ReadResult;
import io.spate.tables.WriteResult;
import io.spate.tables.net.ClientCodec;
import io.spate.tables.net.TableCodec;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The tables' Java client over the native protocol ({@link ClientCodec}) on the nodes' tables
 * ports: one TCP connection per node, many requests in flight on each, replies matched by id.
 * Where {@link TablesClient} (HTTP) spends most of a request's cost on HTTP itself, this one costs
 * a frame each way.
 *
 * <p>It learns the members of the ring from the first node it reaches (and again every
 * {@code refreshInterval}) and sends each request to the next live one, round robin: every node
 * coordinates any key. Requests not yet written when their node's connection fails go to another
 * node; requests written and not answered fail ({@link TablesUnreachableException}: they may have
 * been applied), and so do those not answered within {@code requestTimeout}. Futures complete on
 * the client's I/O thread: what is chained to them must not block.
 */
public final class NativeTablesClient implements AutoCloseable {
    public record Settings(Duration requestTimeout, Duration connectTimeout, Duration refreshInterval) {
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(10));
        }
    }

    /** The node refused the request: an unknown table, one it does not serve now, an invalid request, its own error. */
    public static final class TablesRequestException extends RuntimeException {
        private final ClientCodec.Status status;

        TablesRequestException(ClientCodec.Status status, String message) {
            super(status + ": " + message);
            this.status = status;
        }

        public ClientCodec.Status status() {
            return status;
        }
    }

    /** The request's node could not be reached, or its connection was lost with the request unanswered: it may have been applied. */
    public static final class TablesUnreachableException extends IOException {
        TablesUnreachableException(String message) {
            super(message);
        }
    }

    private static final long RECONNECT_BACKOFF_MS = 500;
    /** The nodes' frame limit (their transport's). */
    static final int MAX_FRAME_BYTES = 64 << 20;
    private static final long SWEEP_MS = 50;

    private final Settings settings;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoop loop = group.next();
    private final Bootstrap bootstrap;
    private final List<InetSocketAddress> seeds;
    /**
     * Every node known, by {@code host:port} as the ring names it (resolved only when connecting, never
     * on a refresh); a node no longer in the ring keeps its connection until it fails, then goes.
     */
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();
    /** The live members to send to, in a fixed order; replaced whole by a refresh. */
    private volatile List<Connection> targets = List.of();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong(1);
    private volatile boolean closed;

    private NativeTablesClient(List<InetSocketAddress> seeds, Settings settings) {
        this.seeds = List.copyOf(seeds);
        this.settings = settings;
        this.bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis());
    }

    /** Connects to the first of {@code seeds} (nodes' tables ports) that answers and learns the ring's members from it. */
    public static NativeTablesClient connect(List<InetSocketAddress> seeds) throws IOException {
        return connect(seeds, Settings.defaults());
    }

    public static NativeTablesClient connect(List<InetSocketAddress> seeds, Settings settings) throws IOException {
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("no node to connect to");
        }
        NativeTablesClient client = new NativeTablesClient(seeds, settings);
        // Expiry first: a seed that takes the connection and never answers fails discovery by the timeout.
        client.loop.scheduleAtFixedRate(client::sweep, SWEEP_MS, SWEEP_MS, TimeUnit.MILLISECONDS);
        try {
            client.discover();
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
        long refreshMs = settings.refreshInterval().toMillis();
        client.loop.scheduleAtFixedRate(client::refresh, refreshMs, refreshMs, TimeUnit.MILLISECONDS);
        return client;
    }

    /** {@code w} null: the table's default. {@code after}: a version this write must be ordered after (0: none). */
    public CompletableFuture<WriteResult> put(String table, byte[] key, byte[] value, Consistency w, long after) {
        return send(new ClientCodec.Request(ids.getAndIncrement(), ClientCodec.Op.PUT, w, table, key, after, value))
                .thenApply(NativeTablesClient::writeResult);
    }

    public CompletableFuture<WriteResult> delete(String table, byte[] key, Consistency w, long after) {
        return send(new ClientCodec.Request(ids.getAndIncrement(), ClientCodec.Op.DELETE, w, table, key, after, null))
                .thenApply(NativeTablesClient::writeResult);
    }

    /** {@code r} null: the table's default. Not found is OK with no value ({@link ReadResult#found()} false). */
    public CompletableFuture<ReadResult> get(String table, byte[] key, Consistency r) {
        return send(new ClientCodec.Request(ids.getAndIncrement(), ClientCodec.Op.GET, r, table, key, 0, null))
                .thenApply(reply -> switch (reply.status()) {
                    case OK -> new ReadResult(ReadResult.Status.OK, Cell.value(reply.version(), reply.value()));
                    case NOT_FOUND -> new ReadResult(ReadResult.Status.OK, reply.version() == 0 ? null : Cell.tombstone(reply.version()));
                    case TIMEOUT -> new ReadResult(ReadResult.Status.TIMEOUT, null);
                    case UNAVAILABLE -> new ReadResult(ReadResult.Status.UNAVAILABLE, null);
                    case OVERLOADED -> new ReadResult(ReadResult.Status.OVERLOADED, null);
                    default -> throw new TablesRequestException(reply.status(), reply.message());
                });
    }

    /** The ring's members as the client last learned them. */
    public List<ClientCodec.NodeEndpoint> nodes() throws IOException {
        try {
            return await(send(ClientCodec.Request.nodes(ids.getAndIncrement()))).nodes();
        } catch (TimeoutException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static WriteResult writeResult(ClientCodec.Reply reply) {
        return switch (reply.status()) {
            case OK -> new WriteResult(WriteResult.Status.OK, reply.version());
            case TIMEOUT -> new WriteResult(WriteResult.Status.TIMEOUT, reply.version());
            case UNAVAILABLE -> new WriteResult(WriteResult.Status.UNAVAILABLE, reply.version());
            case OVERLOADED -> new WriteResult(WriteResult.Status.OVERLOADED, reply.version());
            default -> throw new TablesRequestException(reply.status(), reply.message());
        };
    }

    private CompletableFuture<ClientCodec.Reply> send(ClientCodec.Request request) {
        Pending pending = new Pending(request, System.nanoTime() + settings.requestTimeout().toNanos());
        if (closed) {
            pending.future.completeExceptionally(new IllegalStateException("the client is closed"));
            return pending.future;
        }
        Connection target = pick(null);
        if (target == null) {
            pending.future.completeExceptionally(new TablesUnreachableException("no table node is reachable"));
        } else {
            target.offer(pending);
        }
        return pending.future;
    }

    /** The next live target, skipping {@code except} and nodes whose last connection attempt failed recently. */
    private Connection pick(Connection except) {
        List<Connection> all = targets;
        int n = all.size();
        int start = Math.floorMod(next.getAndIncrement(), Math.max(n, 1));
        Connection fallback = null;
        for (int i = 0; i < n; i++) {
            Connection c = all.get((start + i) % n);
            if (c == except) {
                continue;
            }
            if (c.usable()) {
                return c;
            }
            if (fallback == null) {
                fallback = c;
            }
        }
        return fallback;
    }

    /** Asks the seeds in turn for the members until one answers. */
    private void discover() throws IOException {
        IOException last = null;
        for (InetSocketAddress seed : seeds) {
            Connection c = connection(seed.getHostString(), seed.getPort());
            Pending pending = new Pending(ClientCodec.Request.nodes(ids.getAndIncrement()),
                    System.nanoTime() + settings.requestTimeout().toNanos());
            c.offer(pending);
            try {
                ClientCodec.Reply reply = await(pending.future);
                if (reply.status() != ClientCodec.Status.OK || reply.nodes() == null) {
                    throw new IOException(seed + " does not serve tables: " + reply.status() + " " + reply.message());
                }
                adopt(reply.nodes());
                if (targets.isEmpty()) {
                    targets = List.of(c); // it knows no live member yet (still starting): it coordinates meanwhile
                }
                return;
            } catch (IOException | TimeoutException | RuntimeException e) {
                last = e instanceof IOException io ? io : new IOException(seed + ": " + e.getMessage(), e);
            }
        }
        throw new IOException("none of " + seeds + " answered", last);
    }

    private void refresh() {
        if (closed) {
            return;
        }
        Connection c = pick(null);
        if (c == null) {
            return;
        }
        Pending pending = new Pending(ClientCodec.Request.nodes(ids.getAndIncrement()), System.nanoTime() + settings.requestTimeout().toNanos());
        pending.future.thenAccept(reply -> {
            if (reply.status() == ClientCodec.Status.OK && reply.nodes() != null) {
                adopt(reply.nodes());
            }
        });
        c.offer(pending);
    }

    private Connection connection(String host, int port) {
        return connections.computeIfAbsent(host + ":" + port, key -> new Connection(InetSocketAddress.createUnresolved(host, port)));
    }

    private void adopt(List<ClientCodec.NodeEndpoint> nodes) {
        List<Connection> live = new ArrayList<>();
        for (ClientCodec.NodeEndpoint n : nodes) {
            if (n.live() && n.port() > 0 && n.port() <= 0xFFFF) {
                live.add(connection(n.host(), n.port()));
            }
        }
        if (live.isEmpty()) {
            // A view without live members (a node still starting): keep sending to whom answered.
            return;
        }
        targets = List.copyOf(live);
        // Nodes gone from the ring whose connection is gone too are forgotten.
        connections.values().removeIf(c -> !live.contains(c) && c.channel == null && !c.connecting && c.outbox.isEmpty());
    }

    private <T> T await(CompletableFuture<T> future) throws IOException, TimeoutException {
        try {
            // The sweep fails the request at its deadline; this bound only guards against a sweep that never ran.
            return future.get(settings.requestTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof TimeoutException t) {
                throw t;
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(e.getCause());
        }
    }

    /** Fails the requests whose time is up (on the loop). */
    private void sweep() {
        long now = System.nanoTime();
        for (Connection c : connections.values()) {
            c.expire(now);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        loop.execute(() -> {
            for (Connection c : connections.values()) {
                c.fail(new IllegalStateException("the client is closed"), true);
                if (c.channel != null) {
                    c.channel.close();
                }
            }
        });
        io.netty.util.concurrent.Future<?> stopped = group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        if (!loop.inEventLoop()) { // closed from a callback on the client's own thread: it stops after that callback
            stopped.syncUninterruptibly();
        }
    }

    private static final class Pending {
        final ClientCodec.Request request;
        final long deadlineNanos;
        final CompletableFuture<ClientCodec.Reply> future = new CompletableFuture<>();

        Pending(ClientCodec.Request request, long deadlineNanos) {
            this.request = request;
            this.deadlineNanos = deadlineNanos;
        }
    }

    /**
     * One node's connection. Senders queue requests (any thread) and schedule one flush; the loop
     * writes what is queued in one go. What was written waits in {@code inFlight} (the loop's
     * only), in the order written, so expiry stops at the first request still in time.
     */
    private final class Connection {
        final InetSocketAddress address;
        final ConcurrentLinkedQueue<Pending> outbox = new ConcurrentLinkedQueue<>();
        final AtomicBoolean flushScheduled = new AtomicBoolean();
        final LinkedHashMap<Long, Pending> inFlight = new LinkedHashMap<>();
        Channel channel;
        boolean connecting;
        volatile long downUntilNanos;

        Connection(InetSocketAddress address) {
            this.address = address;
        }

        boolean usable() {
            return System.nanoTime() - downUntilNanos >= 0;
        }

        void offer(Pending pending) {
            outbox.add(pending);
            if (flushScheduled.compareAndSet(false, true)) {
                try {
                    loop.execute(this::flush);
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    pending.future.completeExceptionally(new IllegalStateException("the client is closed"));
                }
            }
        }

        private void flush() {
            flushScheduled.set(false);
            if (closed) {
                fail(new IllegalStateException("the client is closed"), true);
                return;
            }
            if (channel == null || !channel.isActive()) {
                connect();
                return;
            }
            boolean wrote = false;
            Pending p;
            while ((p = outbox.poll()) != null) {
                ByteBuf frame;
                try {
                    frame = ClientCodec.encode(channel.alloc(), p.request);
                } catch (RuntimeException e) {
                    p.future.completeExceptionally(e);
                    continue;
                }
                int bytes = frame.readableBytes() - 4;
                if (bytes > MAX_FRAME_BYTES) {
                    // The node would close the connection, failing every request on it: refused here alone.
                    frame.release();
                    p.future.completeExceptionally(new IllegalArgumentException("a request of " + bytes
                            + " bytes is over the " + MAX_FRAME_BYTES + "-byte frame limit"));
                    continue;
                }
                inFlight.put(p.request.id(), p);
                channel.write(frame, channel.voidPromise());
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
            connecting = true;
            ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(MAX_FRAME_BYTES, 0, 4, 0, 4), new Replies(Connection.this));
                }
            }).connect(address);
            f.addListener(done -> {
                connecting = false;
                if (done.isSuccess()) {
                    channel = f.channel();
                    downUntilNanos = 0;
                    flush();
                } else {
                    downUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RECONNECT_BACKOFF_MS);
                    reroute(new TablesUnreachableException("cannot connect to table node " + address + ": " + done.cause()));
                }
            });
        }

        /** Requests never written go to another node if there is one; the rest fail with {@code why}. */
        private void reroute(IOException why) {
            Pending p;
            while ((p = outbox.poll()) != null) {
                Connection other = closed ? null : pick(this);
                if (other != null && other.usable()) {
                    other.offer(p);
                } else {
                    p.future.completeExceptionally(why);
                }
            }
        }

        void lost() {
            channel = null;
            downUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RECONNECT_BACKOFF_MS);
            fail(new TablesUnreachableException("the connection to table node " + address
                    + " was lost with the request unanswered: it may have been applied"), false);
            reroute(new TablesUnreachableException("table node " + address + " is unreachable"));
        }

        /** Fails what was written (and, with {@code queuedToo}, what waits to be). */
        void fail(Throwable why, boolean queuedToo) {
            for (Pending p : inFlight.values()) {
                p.future.completeExceptionally(why);
            }
            inFlight.clear();
            if (queuedToo) {
                Pending p;
                while ((p = outbox.poll()) != null) {
                    p.future.completeExceptionally(why);
                }
            }
        }

        void expire(long now) {
            Iterator<Pending> it = inFlight.values().iterator();
            while (it.hasNext()) {
                Pending p = it.next();
                if (now - p.deadlineNanos < 0) {
                    break;
                }
                it.remove();
                p.future.completeExceptionally(new TimeoutException("table node " + address + " did not answer within "
                        + settings.requestTimeout().toMillis() + " ms: the request may have been applied"));
            }
        }

        void reply(ByteBuf body) {
            long id = ClientCodec.idOf(body);
            Pending p = inFlight.remove(id);
            if (p == null) {
                return; // expired already
            }
            try {
                p.future.complete(ClientCodec.decodeReply(body, p.request.op() == ClientCodec.Op.NODES));
            } catch (TableCodec.MalformedFrameException e) {
                p.future.completeExceptionally(new IOException("a reply from " + address + " cannot be read: " + e.getMessage()));
                channel.close();
            }
        }
    }

    private static final class Replies extends SimpleChannelInboundHandler<ByteBuf> {
        private final Connection connection;

        Replies(Connection connection) {
            this.connection = connection;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf body) {
            connection.reply(body);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (connection.channel == ctx.channel()) {
                connection.lost();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
