package io.spate.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
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
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Spate table over the nodes' HTTP API: {@code GET|PUT /tables/{t}/keys/{k}?consistency=...}.
 * Netty HTTP/1.1 client on one event-loop thread, keep-alive connections to every node, one request
 * at a time per connection (the server answers a connection's requests in order, so pipelining would
 * only queue them behind each other), up to {@code connectionsPerNode} per node, opened as needed;
 * past that requests wait in the node's queue (their latency still counts from their start).
 * Requests go round robin over the nodes: every node coordinates any key.
 */
final class HttpKvTarget implements TableKvBench.Target {
    private final List<String> hosts;
    private final String table;
    private final int connectionsPerNode;
    private final String durability;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoop loop = group.next();
    private final Node[] nodes;
    private final AtomicInteger next = new AtomicInteger();
    private final Bootstrap bootstrap;

    HttpKvTarget(List<String> hosts, String table, int connectionsPerNode, String durability) {
        this.hosts = hosts;
        this.table = table;
        this.connectionsPerNode = connectionsPerNode;
        this.durability = durability;
        this.nodes = new Node[hosts.size()];
        for (int i = 0; i < nodes.length; i++) {
            URI u = URI.create(hosts.get(i).contains("://") ? hosts.get(i) : "http://" + hosts.get(i));
            nodes[i] = new Node(u.getHost(), u.getPort(), u.getHost() + ":" + u.getPort());
        }
        bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(4 << 20), new Handler());
                    }
                });
    }

    @Override
    public String describe() {
        return "Spate HTTP " + hosts + " table " + table + ", Netty client, 1 event loop, up to " + connectionsPerNode
                + " keep-alive connections per node";
    }

    /** Creates the table (409: it exists), then waits until every node serves it. */
    @Override
    public void setup(int rf) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String body = "{\"name\":\"" + table + "\",\"replicationFactor\":" + rf
                + ",\"durability\":\"" + durability + "\"}";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base(0) + "/tables"))
                        .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201 && r.statusCode() != 409) throw new IllegalStateException("create table: " + r.statusCode() + " " + r.body());
        System.out.println("table: " + r.statusCode() + " " + r.body());
        for (int i = 0; i < nodes.length; i++) {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (true) {
                HttpResponse<String> g = http.send(HttpRequest.newBuilder(URI.create(base(i) + "/tables/" + table + "/keys/setup-probe?consistency=one"))
                        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (g.statusCode() == 200 || (g.statusCode() == 404 && g.body().contains("40411"))) break;
                if (System.nanoTime() > deadline) throw new IllegalStateException(base(i) + " does not serve " + table + ": " + g.statusCode() + " " + g.body());
                Thread.sleep(200);
            }
        }
    }

    private String base(int i) {
        return "http://" + nodes[i].hostPort;
    }

    @Override
    public void read(String key, String consistency, TableKvBench.Callback cb) {
        submit(new Op(HttpMethod.GET, path(key, consistency), null, cb));
    }

    @Override
    public void write(String key, byte[] value, String consistency, TableKvBench.Callback cb) {
        submit(new Op(HttpMethod.PUT, path(key, consistency), value, cb));
    }

    private String path(String key, String consistency) {
        return "/tables/" + table + "/keys/" + key + "?consistency=" + consistency.toLowerCase();
    }

    private void submit(Op op) {
        Node node = nodes[Math.floorMod(next.getAndIncrement(), nodes.length)];
        if (loop.inEventLoop()) node.dispatch(op);
        else loop.execute(() -> node.dispatch(op));
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    record Op(HttpMethod method, String uri, byte[] body, TableKvBench.Callback cb) {
    }

    /** One node's connections and waiting requests; touched only on the event loop. */
    final class Node {
        final String host, hostPort;
        final int port;
        final ArrayDeque<Channel> idle = new ArrayDeque<>();
        final ArrayDeque<Op> waiting = new ArrayDeque<>();
        int open, connecting;

        Node(String host, int port, String hostPort) {
            this.host = host;
            this.port = port;
            this.hostPort = hostPort;
        }

        void dispatch(Op op) {
            Channel ch;
            while ((ch = idle.pollLast()) != null) {
                if (ch.isActive()) {
                    send(ch, op);
                    return;
                }
            }
            waiting.add(op);
            if (open < connectionsPerNode && connecting < waiting.size()) connect();
        }

        void connect() {
            open++;
            connecting++;
            bootstrap.connect(host, port).addListener((ChannelFutureListener) f -> {
                connecting--;
                if (!f.isSuccess()) {
                    open--;
                    Op op = waiting.poll();
                    if (op != null) op.cb.done(false, "connect_failed");
                    return;
                }
                Channel c = f.channel();
                c.closeFuture().addListener(x -> {
                    open--;
                    idle.remove(c);
                    Op current = c.attr(Handler.CURRENT).getAndSet(null);
                    if (current != null) current.cb.done(false, "connection_closed");
                    if (open < connectionsPerNode && connecting < waiting.size()) connect();
                });
                released(c);
            });
        }

        void released(Channel c) {
            Op op = waiting.poll();
            if (op != null) send(c, op);
            else idle.add(c);
        }

        void send(Channel c, Op op) {
            ByteBuf content = op.body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(op.body);
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, op.method, op.uri, content);
            req.headers().set(HttpHeaderNames.HOST, hostPort).setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
            if (op.body != null) req.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
            c.attr(Handler.CURRENT).set(op);
            c.attr(Handler.NODE).set(this);
            c.writeAndFlush(req, c.voidPromise());
        }
    }

    static final class Handler extends SimpleChannelInboundHandler<FullHttpResponse> {
        static final io.netty.util.AttributeKey<Op> CURRENT = io.netty.util.AttributeKey.valueOf("kvbench.op");
        static final io.netty.util.AttributeKey<Node> NODE = io.netty.util.AttributeKey.valueOf("kvbench.node");

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse res) {
            Op op = ctx.channel().attr(CURRENT).getAndSet(null);
            Node node = ctx.channel().attr(NODE).get();
            int status = res.status().code();
            if (op != null) {
                if (status == 200 || status == 201 || status == 204) op.cb.done(true, null);
                else if (status == 404 && op.method == HttpMethod.GET) op.cb.done(false, null);
                else op.cb.done(false, "http_" + status);
            }
            if (node != null) node.released(ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
