package io.spate.tables.service;

import io.spate.tables.Consistency;
import io.spate.tables.HintStore;
import io.spate.tables.Membership;
import io.spate.tables.NodeSettings;
import io.spate.tables.ReadResult;
import io.spate.tables.ReplicaNode;
import io.spate.tables.RepairResult;
import io.spate.tables.RocksDbTableStore;
import io.spate.tables.TableConfig;
import io.spate.tables.TableMessage;
import io.spate.tables.TableMetrics;
import io.spate.tables.Transport;
import io.spate.tables.TableStore;
import io.spate.tables.WriteResult;
import io.spate.tables.net.ClientCodec;
import io.spate.tables.net.NettyTransport;
import io.spate.time.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A node's tables in a process: the {@link ReplicaNode} on its own event thread, the network
 * transport, a RocksDB store per table and one for hints, under {@code dir}. The process feeds it
 * views of the cluster ({@link #apply}: members with their tables endpoints, which are live, the
 * catalog); clients' requests come in from any thread and are posted to the event thread, their
 * answers come back as futures completed there.
 *
 * <pre>
 * dir/incarnation        the last incarnation used (request ids of a new run start above it)
 * dir/hints/             the hint store (RocksDB)
 * dir/data/{table}/      one RocksDB store per table
 * </pre>
 */
public final class TableService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TableService.class);
    /** Incarnations count seconds from here, so they fit the 30 bits request ids give them until 2057. */
    static final long INCARNATION_ORIGIN_SECONDS = 1_700_000_000L;

    /** Bounds of the hint store: how many hints, how long a value's and a deletion's hint is kept. */
    public record HintSettings(int maxHints, long maxHintAgeMs, long maxTombstoneHintAgeMs) {
        /** Three hours for values (Cassandra's hint window), thirty days for deletions (longer than the default grace). */
        public static HintSettings defaults() {
            return new HintSettings(1_000_000, 3 * 3600_000L, 30 * 24 * 3600_000L);
        }

        /**
         * The shortest tombstone grace a table may have. A value's hint is judged for age on the
         * clock of the stand-in holding it, a tombstone for collection on the replica's; with a
         * grace only just above the hint's age, a stand-in whose clock is behind the replica's
         * delivers the value after the replica collected the deletion, and the value comes back.
         * So the grace covers the hint's age, the clocks' disagreement (the bound past which a
         * node refuses a peer's timestamps) and a hint's time in flight after its age was last
         * checked (a request timeout). The collection period needs no room: it only makes
         * collection later than the grace, never earlier.
         */
        public long minTombstoneGraceMs(NodeSettings settings) {
            return maxHintAgeMs + settings.maxClockForwardMs() + settings.requestTimeoutMs();
        }
    }

    /**
     * Bounds on the work queued for the tables' thread (messages from peers and clients' requests,
     * counted from posting until the thread takes them). Past either bound new client requests are
     * refused with {@link OverloadedException} and the transport stops reading from peers; both
     * resume once the queue is below half of each. The in-flight bound of the coordinator is checked
     * only on the thread, so without these a burst (or a thread slowed by a disk) grew the queue
     * without limit.
     */
    public record QueueLimits(int maxTasks, long maxBytes) {
        public static QueueLimits defaults() {
            return new QueueLimits(50_000, 256L << 20);
        }
    }

    /** The tables' thread has more work queued than {@link QueueLimits} allow: retry later. */
    public static final class OverloadedException extends RuntimeException {
        public OverloadedException(String message) {
            super(message, null, false, false);
        }
    }

    /** Where a member's tables listen. */
    public record Endpoint(String host, int port) {
    }

    /**
     * The cluster as the metadata says: {@code members} own tokens (with their endpoints),
     * {@code live} are those not fenced, {@code tables} the catalog; {@code epoch} orders views.
     */
    public record View(long epoch, Map<String, Endpoint> members, Set<String> live, Map<String, TableConfig> tables) {
    }

    /** The request names a table this node does not serve (not in the catalog, or not yet opened here). */
    public static final class UnknownTableException extends RuntimeException {
        public UnknownTableException(String table) {
            super("table '" + table + "' not found", null, false, false);
        }
    }

    private final String id;
    private final Path dir;
    /**
     * The tables' one thread: the event loop of their network too, so that a request read from a
     * client or a peer is handled, and its answer written, without waking another thread (on these
     * machines a wake-up of the other thread cost more than the request's own work).
     */
    private final io.netty.channel.EventLoopGroup group;
    private final io.netty.channel.EventLoop loop;
    /** The event thread as everything posts to it: a task that throws is logged, never lost in silence. */
    private final io.spate.time.Scheduler events;
    /**
     * The thread's: work that came before the stores were open (or failed to open), run in order
     * once they are. The opening itself runs on a thread of its own, so the listener binds and the
     * node's start goes on meanwhile.
     */
    private final java.util.ArrayDeque<Runnable> beforeOpen = new java.util.ArrayDeque<>();
    private boolean opened;
    /** Completes once the opening thread has handed its stores (or its failure) to the loop: what {@link #close} waits for. */
    private final CompletableFuture<Void> opening = new CompletableFuture<>();
    /** Shared by the table stores; made with the hint store, before the thread learns it is open. */
    private volatile org.rocksdb.Cache blockCache;
    private final long incarnation;
    private final long requestTimeoutMs;
    /** Set once the listener is bound, before {@link #start} returns. */
    private volatile NettyTransport transport;
    // The event thread's alone: null until the stores are open (or for good, if they could not be).
    private RocksDbTableStore hintCells;
    private ReplicaNode node;
    private volatile RuntimeException openFailure;
    /** The tables open on this node, readable from any thread (the node's own map is its thread's). */
    private final Map<String, TableConfig> open = new ConcurrentHashMap<>();
    private final Map<String, TableStore> stores = new HashMap<>();
    private final Map<String, List<CompletableFuture<TableConfig>>> waitingFor = new HashMap<>();
    /** Tables whose store failed to open, with the reason (read from any thread); retried with a back-off. */
    private final Map<String, String> tableFailures = new ConcurrentHashMap<>();
    /** The event thread's: the next retry's back-off per failed table, present while a retry is scheduled. */
    private final Map<String, Long> retryBackoffMs = new HashMap<>();
    static final long MIN_RETRY_MS = 1_000;
    static final long MAX_RETRY_MS = 60_000;
    private volatile boolean closed;
    private final QueueLimits limits;
    private final java.util.concurrent.atomic.AtomicLong queuedTasks = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong queuedBytes = new java.util.concurrent.atomic.AtomicLong();
    /** Whether the transport's reading is off because the queue passed a bound (changed under {@code this}). */
    private volatile boolean readingPaused;
    /** The last view applied: the catalog and the members, for the native protocol's answers. */
    private volatile View view;
    private volatile int maxValueBytes = 1 << 20;
    /** The longest key a client may write (Cassandra's partition key limit): the native protocol and the HTTP API refuse longer ones. */
    public static final int MAX_KEY_BYTES = 65_535;
    /**
     * The largest {@link #maxValueBytes} may be: a replica's Write of such a value must fit the
     * transport's frame, or the sender drops it and the write times out. The 1 MiB kept aside is
     * more than the rest of a Write can take (a key of {@link #MAX_KEY_BYTES}, three names of at
     * most 65,535 bytes each, a few numbers).
     */
    public static final int MAX_VALUE_BYTES_LIMIT = NettyTransport.Settings.defaults().maxFrameBytes() - (1 << 20);

    private TableService(String id, Path dir, io.netty.channel.EventLoopGroup group, long incarnation, long requestTimeoutMs,
                         QueueLimits limits) {
        this.limits = limits;
        this.id = id;
        this.dir = dir;
        this.group = group;
        this.loop = group.next();
        this.events = guarded(id, new LoopScheduler(loop), this);
        this.incarnation = incarnation;
        this.requestTimeoutMs = requestTimeoutMs;
    }

    /**
     * Listens on {@code host:port} (0: a free port) and opens the stores under {@code dir} on the
     * tables' thread, in the background: loading RocksDB's native library and opening the stores
     * takes from a fraction of a second to many on a busy machine, and nothing else of the node's
     * start needs to wait for it. Whatever reaches the tables meanwhile (messages, requests, views)
     * queues behind the opening on that thread.
     *
     * @param brokerEpochMs the broker epoch of this run's registration (its start time): the
     *                      incarnation is derived from it, kept above the last one used
     */
    public static TableService start(String id, long brokerEpochMs, Path dir, String host, int port, NodeSettings settings,
                                     HintSettings hintSettings) {
        return start(id, brokerEpochMs, dir, host, port, settings, hintSettings, QueueLimits.defaults());
    }

    public static TableService start(String id, long brokerEpochMs, Path dir, String host, int port, NodeSettings settings,
                                     HintSettings hintSettings, QueueLimits limits) {
        return start(id, brokerEpochMs, dir, host, port, settings, hintSettings, limits, DEFAULT_BLOCK_CACHE_BYTES);
    }

    /** RocksDB's block cache shared by the node's table stores when none is chosen. */
    public static final long DEFAULT_BLOCK_CACHE_BYTES = 64L << 20;

    /** @param blockCacheBytes RocksDB's block cache shared by the node's table stores (off the Java heap) */
    public static TableService start(String id, long brokerEpochMs, Path dir, String host, int port, NodeSettings settings,
                                     HintSettings hintSettings, QueueLimits limits, long blockCacheBytes) {
        if (blockCacheBytes < 1) {
            throw new IllegalArgumentException("block cache of " + blockCacheBytes + " bytes");
        }
        long incarnation = nextIncarnation(dir, brokerEpochMs);
        io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1, task -> {
            Thread t = new io.netty.util.concurrent.FastThreadLocalThread(task, "spate-tables");
            t.setDaemon(true);
            return t;
        }, io.netty.channel.nio.NioIoHandler.newFactory());
        TableService service = new TableService(id, dir, group, incarnation, settings.requestTimeoutMs(), limits);
        // Never throws, as the seam requires: a message sent before the listener is bound is lost like any other.
        Transport network = (to, envelope) -> {
            NettyTransport t = service.transport;
            if (t != null) {
                t.send(to, envelope);
            }
        };
        try {
            service.transport = NettyTransport.bind(id, host, port, NettyTransport.Settings.defaults(),
                    envelope -> service.post(bytesOf(envelope.message()), () -> service.receive(envelope)),
                    service::clientRequest, group);
        } catch (RuntimeException e) {
            service.opening.complete(null); // nothing is opening
            service.close();
            throw e;
        }
        // Whatever reaches the thread before the stores are open waits for them (beforeOpen).
        Thread.ofPlatform().name("spate-tables-open").daemon().start(() -> service.open(settings, hintSettings, network, blockCacheBytes));
        log.info("tables: node {} (incarnation {}) takes table messages on {}:{}, data in {}", id, incarnation, host,
                service.transport.port(), dir.toAbsolutePath());
        return service;
    }

    /**
     * On a thread of its own: loads RocksDB and opens the hint store (from a fraction of a second
     * to many on a busy machine), then hands it to the tables' thread, which starts the node and
     * runs what waited for it.
     */
    private void open(NodeSettings settings, HintSettings hintSettings, Transport network, long blockCacheBytes) {
        RocksDbTableStore cells = null;
        RuntimeException failure = null;
        try {
            blockCache = RocksDbTableStore.blockCache(blockCacheBytes); // loads RocksDB's library first
            cells = new RocksDbTableStore(dir.resolve("hints"), io.spate.tables.Durability.batched(5), events);
        } catch (Throwable e) { // a native library that cannot load is an Error: the node must still learn of it
            failure = e instanceof RuntimeException r ? r : new IllegalStateException("cannot load or open RocksDB: " + e, e);
        }
        RocksDbTableStore opened = cells;
        RuntimeException failed = failure;
        try {
            loop.execute(() -> started(opened, failed, settings, hintSettings, network));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            if (opened != null) {
                opened.close(); // closed before the stores were open
            }
        } finally {
            opening.complete(null);
        }
    }

    private void started(RocksDbTableStore cells, RuntimeException failure, NodeSettings settings, HintSettings hintSettings,
                         Transport network) {
        if (closed) {
            if (cells != null) {
                cells.close();
            }
            return;
        }
        try {
            if (failure != null) {
                throw failure;
            }
            hintCells = cells;
            HintStore hintStore = new HintStore(hintCells, Time.SYSTEM, hintSettings.maxHints(), hintSettings.maxHintAgeMs(),
                    hintSettings.maxTombstoneHintAgeMs());
            ReplicaNode n = new ReplicaNode(id, incarnation, events, Time.SYSTEM, network, hintStore, settings);
            n.start();
            node = n;
        } catch (RuntimeException e) {
            openFailure = e;
            log.error("tables: cannot open the hint store in {}: {}; this node serves no tables", dir.toAbsolutePath(), e.toString());
            if (hintCells != null) {
                hintCells.close();
                hintCells = null;
            }
        } finally {
            opened = true;
            Runnable waiting;
            while ((waiting = beforeOpen.poll()) != null) {
                waiting.run();
            }
        }
    }

    /** Posts work to the thread, counted in the queue until the thread takes it. */
    private void post(long bytes, Runnable task) {
        queuedTasks.incrementAndGet();
        queuedBytes.addAndGet(bytes);
        checkQueue();
        events.schedule(0, new Posted(() -> {
            queuedTasks.decrementAndGet();
            queuedBytes.addAndGet(-bytes);
            checkQueue();
            task.run();
        }));
    }

    /**
     * A message or request posted from outside: it still runs once the tables are closed, to fail
     * its caller's future at once (node null) rather than leave it waiting; the node's own tasks
     * (timers, messages to itself, a collection's next slice) do not, as the stores are closed.
     */
    private record Posted(Runnable task) implements Runnable {
        @Override
        public void run() {
            task.run();
        }
    }

    private boolean overBound() {
        return queuedTasks.get() >= limits.maxTasks() || queuedBytes.get() >= limits.maxBytes();
    }

    /** Turns the transport's reading off past a bound, on again below half of both. */
    private void checkQueue() {
        boolean over = overBound();
        boolean low = queuedTasks.get() <= limits.maxTasks() / 2 && queuedBytes.get() <= limits.maxBytes() / 2;
        if (over == readingPaused && !(readingPaused && low)) {
            return; // the common case, without the lock
        }
        synchronized (this) {
            NettyTransport t = transport;
            if (!readingPaused && overBound()) {
                readingPaused = true;
                log.warn("tables: node {}: {} tasks ({} bytes) queued for the tables' thread; refusing requests, not reading from peers",
                        id, queuedTasks.get(), queuedBytes.get());
                if (t != null) {
                    t.reading(false);
                }
            } else if (readingPaused && queuedTasks.get() <= limits.maxTasks() / 2 && queuedBytes.get() <= limits.maxBytes() / 2) {
                readingPaused = false;
                log.info("tables: node {}: the tables' queue is down to {} tasks; reading from peers again", id, queuedTasks.get());
                if (t != null) {
                    t.reading(true);
                }
            }
        }
    }

    /** Tasks and bytes queued for the tables' thread now. */
    public long[] queued() {
        return new long[]{queuedTasks.get(), queuedBytes.get()};
    }

    /** What a message weighs in the queue: its keys and values, and a little for the rest. */
    static long bytesOf(TableMessage m) {
        return 64 + switch (m) {
            case TableMessage.Write w -> w.key().length + w.cell().value().length;
            case TableMessage.Push p -> p.cells().stream().mapToLong(kc -> kc.key().length + kc.cell().value().length).sum();
            case TableMessage.PullReply p -> p.cells().stream().mapToLong(kc -> kc.key().length + kc.cell().value().length).sum();
            default -> 0L;
        };
    }

    private void receive(io.spate.tables.Envelope envelope) {
        if (node != null) {
            try {
                node.receive(envelope);
            } catch (RuntimeException e) {
                log.error("tables: node {}: handling a {} from {} failed: {}", id, envelope.message().getClass().getSimpleName(),
                        envelope.from(), e.toString(), e);
            }
        }
    }

    /**
     * The event loop as a {@link io.spate.time.Scheduler}: most tasks are posted to run now (every
     * message, request and reply), and those go to the loop's plain queue rather than through its
     * timer heap; a task cancelled before it ran is skipped. Once the loop refuses work (it is
     * shutting down) a task is dropped, as the process is stopping.
     */
    private static final class LoopScheduler implements io.spate.time.Scheduler {
        private final io.netty.channel.EventLoop loop;
        private final io.spate.time.ExecutorScheduler later;

        LoopScheduler(io.netty.channel.EventLoop loop) {
            this.loop = loop;
            this.later = new io.spate.time.ExecutorScheduler(loop, false);
        }

        @Override
        public Time time() {
            return Time.SYSTEM;
        }

        /** Through the loop's timer queue at no delay: Netty takes timers due only before its next pass, after reading its sockets. */
        @Override
        public Timer yieldThen(Runnable task) {
            try {
                java.util.concurrent.ScheduledFuture<?> future = loop.schedule(task, 0, TimeUnit.NANOSECONDS);
                return () -> future.cancel(false);
            } catch (java.util.concurrent.RejectedExecutionException stopping) {
                return () -> {
                };
            }
        }

        @Override
        public Timer schedule(long delayMs, Runnable task) {
            if (delayMs > 0) {
                return later.schedule(delayMs, task);
            }
            try {
                Now now = new Now(task);
                loop.execute(now);
                return now;
            } catch (java.util.concurrent.RejectedExecutionException stopping) {
                return () -> {
                };
            }
        }

        private static final class Now implements Runnable, Timer {
            private final Runnable task;
            private volatile boolean cancelled;

            Now(Runnable task) {
                this.task = task;
            }

            @Override
            public void run() {
                if (!cancelled) {
                    task.run();
                }
            }

            @Override
            public void cancel() {
                cancelled = true;
            }
        }
    }

    /**
     * The event thread, with every task wrapped: the thread's executor would keep an exception in
     * a future nobody reads, so a failing timeout, group commit or posted request would vanish.
     */
    private static io.spate.time.Scheduler guarded(String id, io.spate.time.Scheduler thread, TableService service) {
        return new io.spate.time.Scheduler() {
            @Override
            public Time time() {
                return thread.time();
            }

            @Override
            public Timer schedule(long delayMs, Runnable task) {
                return thread.schedule(delayMs, wrap(task));
            }

            @Override
            public Timer yieldThen(Runnable task) {
                return thread.yieldThen(wrap(task));
            }

            private Runnable wrap(Runnable task) {
                Runnable safe = () -> {
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        log.error("tables: node {}: a task on the tables' thread failed: {}", id, e.toString(), e);
                    }
                };
                return () -> {
                    if (service.closed && !(task instanceof Posted)) {
                        return; // the stores are closed: a late timer or message to itself must not touch them
                    }
                    if (service.opened) {
                        safe.run();
                    } else {
                        service.beforeOpen.add(safe);
                    }
                };
            }
        };
    }

    /**
     * Seconds since {@link #INCARNATION_ORIGIN_SECONDS} of the broker epoch, or one more than the
     * last run's if that is not larger. A node must start on a full disk (to serve what it holds):
     * when the new value cannot be recorded it is used all the same, which only risks a repeat if
     * the next start comes within the same second.
     */
    static long nextIncarnation(Path dir, long brokerEpochMs) {
        Path file = dir.resolve("incarnation");
        long last = 0;
        try {
            if (Files.exists(file)) {
                last = Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim());
            }
        } catch (IOException | NumberFormatException e) {
            log.warn("tables: cannot read the last incarnation in {}: {}", file, e.toString());
        }
        long next = Math.max(brokerEpochMs / 1000 - INCARNATION_ORIGIN_SECONDS, last + 1);
        if (next >= 1L << 30) {
            throw new IllegalStateException("table incarnation " + next + " does not fit request ids");
        }
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve("incarnation.tmp");
            Files.writeString(tmp, Long.toString(next), StandardCharsets.UTF_8);
            try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn("tables: cannot record incarnation {} in {}: {}", next, file, e.toString());
        }
        return next;
    }

    private static <T> T onThread(io.netty.channel.EventLoop thread, Supplier<T> work) {
        if (thread.inEventLoop()) {
            return work.get();
        }
        CompletableFuture<T> done = new CompletableFuture<>();
        thread.execute(() -> {
            try {
                done.complete(work.get());
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        try {
            return done.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the tables' thread did not answer within 60 s", e);
        }
    }

    public String nodeId() {
        return id;
    }

    public long incarnation() {
        return incarnation;
    }

    /** How long a coordinator waits for replicas before it answers TIMEOUT. */
    public long requestTimeoutMs() {
        return requestTimeoutMs;
    }

    /** The port other nodes send table messages to. */
    public int port() {
        return transport.port();
    }

    /** The largest value a request may write. */
    public int maxValueBytes() {
        return maxValueBytes;
    }

    /** The largest value a request of the native protocol may write (the HTTP API checks its own). */
    public void maxValueBytes(int bytes) {
        if (bytes < 1 || bytes > MAX_VALUE_BYTES_LIMIT) {
            throw new IllegalArgumentException("max value bytes " + bytes + " (at most " + MAX_VALUE_BYTES_LIMIT + ")");
        }
        maxValueBytes = bytes;
    }

    /**
     * A request of the native protocol ({@link ClientCodec}), as the HTTP API's single-key routes
     * answer it: a table not in the catalog is UNKNOWN_TABLE, one in it that this node does not
     * serve yet (or cannot) NOT_SERVING with the reason, a value over the limit INVALID.
     */
    CompletableFuture<ClientCodec.Reply> clientRequest(ClientCodec.Request r) {
        View v = view;
        if (r.op() == ClientCodec.Op.NODES) {
            List<ClientCodec.NodeEndpoint> nodes = new java.util.ArrayList<>();
            if (v != null) {
                v.members().forEach((member, endpoint) ->
                        nodes.add(new ClientCodec.NodeEndpoint(member, endpoint.host(), endpoint.port(), v.live().contains(member))));
            }
            return CompletableFuture.completedFuture(ClientCodec.Reply.nodes(r.id(), nodes));
        }
        if (!open.containsKey(r.table())) {
            if (v == null || !v.tables().containsKey(r.table())) {
                return CompletableFuture.completedFuture(ClientCodec.Reply.failed(r.id(), ClientCodec.Status.UNKNOWN_TABLE,
                        "table '" + r.table() + "' not found"));
            }
            return CompletableFuture.completedFuture(ClientCodec.Reply.failed(r.id(), ClientCodec.Status.NOT_SERVING, notServing(r.table())));
        }
        if (r.key().length > MAX_KEY_BYTES) {
            return CompletableFuture.completedFuture(ClientCodec.Reply.failed(r.id(), ClientCodec.Status.INVALID,
                    "a key of " + r.key().length + " bytes is over the " + MAX_KEY_BYTES + " bytes a table key may hold"));
        }
        if (r.op() == ClientCodec.Op.PUT && r.value().length > maxValueBytes) {
            return CompletableFuture.completedFuture(ClientCodec.Reply.failed(r.id(), ClientCodec.Status.INVALID,
                    "a value of " + r.value().length + " bytes is over the " + maxValueBytes + " bytes a table value may hold"));
        }
        long id = r.id();
        CompletableFuture<ClientCodec.Reply> reply = switch (r.op()) {
            case GET -> get(r.table(), r.key(), r.consistency()).thenApply(res -> switch (res.status()) {
                case OK -> res.found() ? ClientCodec.Reply.found(id, res.version(), res.value())
                        : ClientCodec.Reply.of(id, ClientCodec.Status.NOT_FOUND, res.version());
                case TIMEOUT -> ClientCodec.Reply.of(id, ClientCodec.Status.TIMEOUT, res.version());
                case UNAVAILABLE -> ClientCodec.Reply.of(id, ClientCodec.Status.UNAVAILABLE, res.version());
                case OVERLOADED -> ClientCodec.Reply.of(id, ClientCodec.Status.OVERLOADED, res.version());
            });
            case PUT, DELETE -> (r.op() == ClientCodec.Op.PUT ? put(r.table(), r.key(), r.value(), r.consistency(), r.after())
                    : delete(r.table(), r.key(), r.consistency(), r.after())).thenApply(res -> ClientCodec.Reply.of(id, switch (res.status()) {
                        case OK -> ClientCodec.Status.OK;
                        case TIMEOUT -> ClientCodec.Status.TIMEOUT;
                        case UNAVAILABLE -> ClientCodec.Status.UNAVAILABLE;
                        case OVERLOADED -> ClientCodec.Status.OVERLOADED;
                    }, res.version()));
            case NODES -> throw new IllegalStateException("answered above");
        };
        return reply.exceptionally(failure -> {
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            if (cause instanceof OverloadedException) {
                return ClientCodec.Reply.of(id, ClientCodec.Status.OVERLOADED, 0);
            }
            if (cause instanceof UnknownTableException) {
                return ClientCodec.Reply.failed(id, ClientCodec.Status.UNKNOWN_TABLE, cause.getMessage());
            }
            if (cause instanceof io.spate.tables.AfterTooFarAheadException) {
                return ClientCodec.Reply.failed(id, ClientCodec.Status.INVALID, cause.getMessage());
            }
            return ClientCodec.Reply.failed(id, ClientCodec.Status.ERROR, String.valueOf(cause.getMessage()));
        });
    }

    /** Applies a view of the cluster: endpoints, membership, and any table of the catalog not yet open here. */
    public void apply(View view) {
        this.view = view;
        for (Map.Entry<String, Endpoint> e : view.members().entrySet()) {
            if (!e.getKey().equals(id)) {
                transport.endpoint(e.getKey(), new InetSocketAddress(e.getValue().host(), e.getValue().port()));
            }
        }
        events.schedule(0, () -> {
            if (closed || node == null) {
                return;
            }
            for (TableConfig config : view.tables().values()) {
                // A table whose store failed is retried on its own back-off, not at every view.
                if (!node.hasTable(config.name()) && !retryBackoffMs.containsKey(config.name())) {
                    openTable(config);
                }
            }
            Set<String> live = new TreeSet<>(view.live());
            live.retainAll(view.members().keySet());
            node.onMembership(new Membership(view.epoch(), new TreeSet<>(view.members().keySet()), live));
        });
    }

    private void openTable(TableConfig config) {
        TableStore store;
        try {
            store = new RocksDbTableStore(dir.resolve("data").resolve(config.name()), config.durability(), events, blockCache);
        } catch (RuntimeException e) {
            long backoff = Math.min(retryBackoffMs.getOrDefault(config.name(), MIN_RETRY_MS / 2) * 2, MAX_RETRY_MS);
            retryBackoffMs.put(config.name(), backoff);
            String reason = e.getMessage() + (e.getCause() != null ? ": " + e.getCause().getMessage() : "");
            tableFailures.put(config.name(), reason);
            log.error("tables: cannot open the store of table '{}', next try in {} ms: {}", config.name(), backoff, e.toString());
            // Whoever waits for it (a create) learns now rather than at its own timeout.
            List<CompletableFuture<TableConfig>> waiting = waitingFor.remove(config.name());
            if (waiting != null) {
                waiting.forEach(w -> w.completeExceptionally(new IllegalStateException(
                        "the store of table '" + config.name() + "' could not be opened on this node: " + reason)));
            }
            events.schedule(backoff, () -> {
                if (!closed && node != null && !node.hasTable(config.name())) {
                    openTable(config);
                }
            });
            return;
        }
        retryBackoffMs.remove(config.name());
        tableFailures.remove(config.name());
        stores.put(config.name(), store);
        node.addTable(config, store);
        open.put(config.name(), config);
        List<CompletableFuture<TableConfig>> waiting = waitingFor.remove(config.name());
        if (waiting != null) {
            waiting.forEach(w -> w.complete(config));
        }
        log.info("tables: serving table '{}' (replication factor {}, durability {})", config.name(), config.replicationFactor(),
                config.durability());
    }

    /**
     * Why a table of the catalog is not open here: the stores' opening failed (for good, until a
     * restart), or they are still opening (after a start, or the view that brings the table has
     * not been applied yet). Null when the table is open.
     */
    public String notServing(String table) {
        if (open.containsKey(table)) {
            return null;
        }
        RuntimeException failure = openFailure;
        if (failure != null) {
            return "this node's tables could not open their stores: " + failure.getMessage();
        }
        String tableFailure = tableFailures.get(table);
        if (tableFailure != null) {
            return "the table's store could not be opened (retried with a back-off): " + tableFailure;
        }
        return "the table's store is still opening on this node";
    }

    /** The tables open on this node. */
    public Map<String, TableConfig> tables() {
        return Map.copyOf(open);
    }

    /** One table's settings if it is open on this node, else null: a lookup, without the copy {@link #tables()} makes (for every request). */
    public TableConfig table(String name) {
        return open.get(name);
    }

    /** Completes once the table is open on this node (a table just created: once this node's view has it). */
    public CompletableFuture<TableConfig> awaitTable(String name) {
        CompletableFuture<TableConfig> done = new CompletableFuture<>();
        events.schedule(0, new Posted(() -> {
            TableConfig config = open.get(name);
            String failure = tableFailures.get(name);
            if (closed) {
                done.completeExceptionally(new IllegalStateException("the tables are closed"));
            } else if (config != null) {
                done.complete(config);
            } else if (failure != null) {
                done.completeExceptionally(new IllegalStateException(
                        "the store of table '" + name + "' could not be opened on this node: " + failure));
            } else {
                waitingFor.computeIfAbsent(name, n -> new ArrayList<>()).add(done);
            }
        }));
        return done;
    }

    private TableConfig config(String table) {
        TableConfig config = open.get(table);
        if (config == null) {
            throw new UnknownTableException(table);
        }
        return config;
    }

    /** {@code w} null: the table's default. */
    public CompletableFuture<WriteResult> put(String table, byte[] key, byte[] value, Consistency w, long after) {
        Consistency level = w != null ? w : config(table).defaultWrite();
        if (overBound()) { // refused as the coordinator refuses past its in-flight bound: nothing was sent
            return CompletableFuture.completedFuture(new WriteResult(WriteResult.Status.OVERLOADED, 0));
        }
        return call(key.length + value.length, done -> node.put(table, key, value, level, after, done::complete));
    }

    public CompletableFuture<WriteResult> delete(String table, byte[] key, Consistency w, long after) {
        Consistency level = w != null ? w : config(table).defaultWrite();
        if (overBound()) {
            return CompletableFuture.completedFuture(new WriteResult(WriteResult.Status.OVERLOADED, 0));
        }
        return call(done -> node.delete(table, key, level, after, done::complete));
    }

    public CompletableFuture<ReadResult> get(String table, byte[] key, Consistency r) {
        Consistency level = r != null ? r : config(table).defaultRead();
        if (overBound()) {
            return CompletableFuture.completedFuture(new ReadResult(ReadResult.Status.OVERLOADED, null));
        }
        return call(done -> node.get(table, key, level, done::complete));
    }

    /** Anti-entropy of the table now, with every other live replica of every range this node holds. */
    public CompletableFuture<RepairResult> repair(String table) {
        config(table);
        return call(done -> node.repair(table, done::complete));
    }

    /**
     * This node's own replica of the table, key by key in token order, tombstones included, copied
     * in one task on the tables' thread: for tests and small tables ({@link #replica} for figures).
     */
    public CompletableFuture<List<TableMessage.KeyCell>> scan(String table) {
        config(table);
        return call(done -> {
            List<TableMessage.KeyCell> cells = new ArrayList<>();
            node.scan(table, (k, c) -> cells.add(new TableMessage.KeyCell(k, c)));
            done.complete(cells);
        });
    }

    /** One node's replica of a table in figures: keys (tombstones included), tombstones, SHA-256 of every cell in token order. */
    public record ReplicaSummary(long keys, long tombstones, String digest) {
    }

    /** The token ring in this many equal slices, one event-thread task each, for {@link #replica}. */
    static final int SUMMARY_SLICES = 1024;

    /**
     * This node's replica of the table in figures, without copying it: the ring is read one slice
     * (1/{@value #SUMMARY_SLICES} of the tokens) per task on the tables' thread, each cell hashed
     * where it lies, so requests and messages run between slices. Writes that land meanwhile may be
     * counted or not; compare replicas when writes have stopped. Each cell is hashed as
     * {@code [key length: 4][hlc: 8][tombstone: 1][value length: 4][key][value]}.
     */
    public CompletableFuture<ReplicaSummary> replica(String table) {
        config(table);
        java.security.MessageDigest sha;
        try {
            sha = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long[] counts = new long[2];
        java.nio.ByteBuffer fixed = java.nio.ByteBuffer.allocate(17);
        java.util.function.BiConsumer<byte[], io.spate.tables.Cell> hash = (key, c) -> {
            counts[0]++;
            counts[1] += c.tombstone() ? 1 : 0;
            fixed.clear();
            fixed.putInt(key.length).putLong(c.hlc()).put((byte) (c.tombstone() ? 1 : 0)).putInt(c.value().length);
            sha.update(fixed.array(), 0, 17);
            sha.update(key);
            sha.update(c.value());
        };
        CompletableFuture<ReplicaSummary> result = new CompletableFuture<>();
        CompletableFuture<Void> first = call(done -> {
            summarize(table, 0, hash, result, sha, counts);
            done.complete(null);
        });
        first.whenComplete((v, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /** On the event thread: hashes slice {@code i} of the ring, then posts the next. */
    private void summarize(String table, int i, java.util.function.BiConsumer<byte[], io.spate.tables.Cell> hash,
                           CompletableFuture<ReplicaSummary> result, java.security.MessageDigest sha, long[] counts) {
        if (closed || node == null) {
            result.completeExceptionally(new IllegalStateException("the tables are closed"));
            return;
        }
        long width = 1L << (64 - Integer.numberOfTrailingZeros(SUMMARY_SLICES));
        // (MIN + i*width - 1, MIN + (i+1)*width - 1], wrapping: slice 0 starts at MIN_VALUE, the last ends at MAX_VALUE,
        // so the slices in turn visit the cells in the order of a scan of the whole store.
        io.spate.tables.TokenRange slice = new io.spate.tables.TokenRange(Long.MIN_VALUE + i * width - 1,
                Long.MIN_VALUE + (i + 1) * width - 1);
        try {
            if (!node.scan(table, slice, hash)) {
                result.completeExceptionally(new UnknownTableException(table));
                return;
            }
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
            return;
        }
        if (i + 1 == SUMMARY_SLICES) {
            result.complete(new ReplicaSummary(counts[0], counts[1], java.util.HexFormat.of().formatHex(sha.digest())));
        } else {
            // After what waits, the network's reads included (see ReplicaNode.collectSlice).
            events.yieldThen(() -> summarize(table, i + 1, hash, result, sha, counts));
        }
    }

    /** Hints this node holds for other replicas. */
    public CompletableFuture<Long> hintsPending() {
        return call(done -> done.complete(node.hints().pending()));
    }

    /** Messages to other nodes the transport dropped (no endpoint, a full queue, a failed connection). */
    public long messagesDropped() {
        return transport.dropped();
    }

    /** The protocol's counters, read on the event thread. */
    public <T> CompletableFuture<T> metrics(java.util.function.Function<TableMetrics, T> read) {
        return call(done -> done.complete(read.apply(node.metrics())));
    }

    private <T> CompletableFuture<T> call(java.util.function.Consumer<CompletableFuture<T>> work) {
        return call(0, work);
    }

    private <T> CompletableFuture<T> call(long bytes, java.util.function.Consumer<CompletableFuture<T>> work) {
        CompletableFuture<T> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new IllegalStateException("the tables are closed"));
            return done;
        }
        if (overBound()) {
            done.completeExceptionally(new OverloadedException("the tables' thread has " + queuedTasks.get() + " tasks ("
                    + queuedBytes.get() + " bytes) queued; retry"));
            return done;
        }
        post(64 + bytes, () -> {
            if (node == null) {
                done.completeExceptionally(closed ? new IllegalStateException("the tables are closed")
                        : new IllegalStateException("this node's tables could not open their stores", openFailure));
                return;
            }
            try {
                work.accept(done);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    private static void closeStore(String which, TableStore store) {
        try {
            store.close();
        } catch (RuntimeException e) {
            log.error("tables: closing the {} store failed: {}", which, e.toString(), e);
        }
    }

    /**
     * Stops the node (requests in flight are not answered), flushes and closes every store, stops
     * listening. Never throws: a store that cannot be closed is logged and the others are closed.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            // The stores the opening thread may still be opening are closed here, not after this returns
            // (a start in the same process would find their locks held).
            opening.get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("tables: the stores were still opening after 60 s; closing without them");
        }
        NettyTransport t = transport;
        if (t != null) {
            t.close(); // no request or message comes in any more
        }
        try {
            onThread(loop, () -> {
                closed = true; // from here on only posted work runs, and finds no node (guarded)
                ReplicaNode n = node;
                node = null;
                if (n != null) {
                    try {
                        n.stop();
                    } catch (RuntimeException e) {
                        log.error("tables: stopping the node failed: {}", e.toString(), e);
                    }
                }
                opened = true;
                Runnable waiting;
                while ((waiting = beforeOpen.poll()) != null) {
                    waiting.run(); // posted work fails its caller at once; the rest finds the node gone
                }
                waitingFor.values().forEach(futures -> futures.forEach(w -> w.completeExceptionally(
                        new IllegalStateException("the tables are closed"))));
                waitingFor.clear();
                // Each store on its own: one that cannot flush (a full disk, a RocksDB background
                // error) must not leave the others, or the hints, unflushed and open.
                for (Map.Entry<String, TableStore> e : stores.entrySet()) {
                    closeStore("table '" + e.getKey() + "'", e.getValue());
                }
                if (hintCells != null) {
                    closeStore("hint", hintCells);
                }
                if (blockCache != null) {
                    blockCache.close();
                }
                return null;
            });
        } catch (RuntimeException e) {
            // The thread is stuck or gone: the stores stay as they are, their WALs recover them at the next start.
            log.error("tables: closing the stores failed: {}", e.toString(), e);
        } finally {
            closed = true;
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
