package io.spate.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The node's HTTP listener. Two event-loop threads decode HTTP and admit requests
 * ({@link RequestReader}); handlers run on virtual threads ({@link ConnectionHandler}), since a
 * produce waits on its acknowledgement and a read may wait on a consumer. A table's single-key
 * requests, which wait on nothing but a future, are answered on the event loop instead
 * ({@link HttpApi#tableKey}). See the module README.
 */
public final class HttpServer implements AutoCloseable {
    /**
     * A connection with nothing to do (no request, no stream) for this long is closed; a body that
     * stops arriving (while the node reads) gets 408.
     */
    static final int IDLE_SECONDS = 60;
    private static final int IO_THREADS = 2;

    private final EventLoopGroup group;
    private final Channel listener;
    private final ChannelGroup connections;
    private final ExecutorService executor;
    private final KafkaClients clients;
    private final HttpApi api;
    private final InFlightBytes inFlight;
    private final RestProxyConsumers consumers;
    private final AdminApi adminApi;

    private HttpServer(EventLoopGroup group, Channel listener, ChannelGroup connections, ExecutorService executor, KafkaClients clients,
                       HttpApi api, InFlightBytes inFlight, AdminApi adminApi, RestProxyConsumers consumers) {
        this.consumers = consumers;
        this.adminApi = adminApi;
        this.group = group;
        this.listener = listener;
        this.connections = connections;
        this.executor = executor;
        this.clients = clients;
        this.api = api;
        this.inFlight = inFlight;
    }

    /** Binds {@code settings.host():settings.port()} and serves {@code node}'s partitions; {@code /metrics} shows only the HTTP figures. */
    public static HttpServer start(HttpSettings settings, NodePartitions node) throws IOException {
        return start(settings, node, new PrometheusRegistry());
    }

    /**
     * As above; {@code /metrics} shows what {@code metrics} holds (the node's figures), to which
     * this server adds its HTTP request figures while it listens.
     */
    public static HttpServer start(HttpSettings settings, NodePartitions node, PrometheusRegistry metrics) throws IOException {
        return start(settings, node, metrics, NodeAdmin.none(new RequestStats()));
    }

    /**
     * As above, also serving the web console and the {@code /admin} endpoints over what
     * {@code admin} tells of the cluster, its pipelines and the node's request figures.
     */
    public static HttpServer start(HttpSettings settings, NodePartitions node, PrometheusRegistry metrics, NodeAdmin admin)
            throws IOException {
        HttpMetrics httpMetrics = new HttpMetrics(metrics);
        httpMetrics.recordInto(admin.requestStats());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(IO_THREADS, NioIoHandler.newFactory());
        ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("spate-http-", 0).factory());
        KafkaClients clients = new KafkaClients(settings.kafkaBootstrap());
        RestProxyConsumers consumers = RestProxyConsumers.start(clients, settings, executor);
        HttpApi api = new HttpApi(node, clients, executor, httpMetrics, consumers);
        AdminApi adminApi = new AdminApi(node, admin, settings.kafkaBootstrap());
        api.serveAdmin(adminApi);
        InFlightBytes inFlight = new InFlightBytes(settings.maxInFlightBytes());
        ChannelGroup connections = new DefaultChannelGroup("spate-http", GlobalEventExecutor.INSTANCE);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // A live stream stops polling once this much waits unsent.
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 << 10, 256 << 10))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ReadPause reading = new ReadPause();
                        ch.pipeline().addLast(
                                // Writer-idle observing the output: an answer that does not move (ConnectionHandler).
                                new IdleStateHandler(true, TimeUnit.SECONDS.toMillis(IDLE_SECONDS), settings.stalledWriteMs(), 0,
                                        TimeUnit.MILLISECONDS),
                                new HttpServerCodec(),
                                new RequestReader(settings.maxBodyBytes(), inFlight, reading),
                                new ConnectionHandler(api, reading));
                    }
                });
        try {
            Channel listener = bootstrap.bind(new InetSocketAddress(settings.host(), settings.port())).sync().channel();
            httpMetrics.register();
            return new HttpServer(group, listener, connections, executor, clients, api, inFlight, adminApi, consumers);
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            consumers.close();
            executor.shutdownNow();
            clients.close();
            adminApi.close();
            throw new IOException("cannot listen for HTTP on " + settings.host() + ":" + settings.port() + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Serves the masterless tables under {@code /tables} from now on. */
    public void serveTables(NodeTables tables) {
        api.serveTables(new TablesApi(tables));
        adminApi.serveTables(tables);
    }

    /** Request bytes admitted and not yet answered. */
    public long inFlightBytes() {
        return inFlight.usedBytes();
    }

    /** Stops listening, ends the live streams and open connections, then the internal clients. */
    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        api.stopStreams();
        consumers.close(); // REST Proxy v2 consumer instances leave their groups
        adminApi.close(); // its stats streams, and its admin client (which uses the Kafka listener)
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        executor.shutdown();
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        clients.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        api.metrics().unregister();
    }
}
