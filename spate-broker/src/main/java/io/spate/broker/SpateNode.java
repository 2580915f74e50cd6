package io.spate.broker;

import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import io.spate.server.ServerConfig;
import io.spate.log.compaction.LogCompactor;
import io.spate.server.group.GroupCoordinator;
import io.spate.server.handlers.ApiHandler;
import io.spate.server.handlers.GroupHandlers;
import io.spate.server.handlers.CreatePartitionsHandler;
import io.spate.server.handlers.CreateTopicsHandler;
import io.spate.server.handlers.DeleteTopicsHandler;
import io.spate.server.handlers.DescribeClusterHandler;
import io.spate.server.handlers.DescribeConfigsHandler;
import io.spate.server.handlers.FetchHandler;
import io.spate.server.handlers.IncrementalAlterConfigsHandler;
import io.spate.server.handlers.InitProducerIdHandler;
import io.spate.server.handlers.KafkaApis;
import io.spate.server.handlers.ListOffsetsHandler;
import io.spate.server.handlers.MetadataHandler;
import io.spate.server.handlers.ProduceHandler;
import io.spate.server.handlers.TopicConfigDescriber;
import io.spate.server.metadata.ClusterIdentity;
import io.spate.server.metadata.ProducerIdManager;
import io.spate.server.metadata.TopicManager;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.KafkaServer;
import io.spate.server.cluster.ClusterMember;
import io.spate.server.handlers.OffsetForLeaderEpochHandler;
import io.spate.server.metadata.ClusterControl;
import io.spate.server.metadata.ClusterView;
import io.spate.server.partition.ReplicaManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One Spate node: the composition root that wires the log, the topic metadata and the Kafka
 * protocol server together. Used by {@code spate start} and embeddable in a JVM:
 *
 * <pre>{@code
 * try (SpateNode node = SpateNode.builder().dataDir(tmp).port(0).start()) {
 *     props.put("bootstrap.servers", node.bootstrapServers());
 *     ...
 * }
 * }</pre>
 */
public final class SpateNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SpateNode.class);

    private final SpateConfig config;
    private final LogManager logManager;
    private final KafkaServer server;
    private final String clusterId;
    private final GroupCoordinator coordinator;
    private final io.spate.server.txn.TransactionCoordinator transactions;
    private final io.spate.server.cluster.RemoteTxnRequests remoteMarkers;
    /** KIP-890 part 1's questions to other nodes' coordinators; null with transaction.partition.verification.enable=false. */
    private final io.spate.server.cluster.RemoteTxnRequests remoteVerifications;
    private final LogCleaner cleaner;
    private final ClusterMember member;
    private final ReplicaManager replicas;
    private final io.spate.processing.ProcessingRuntime processing;
    private final HttpNodePartitions httpPartitions;
    private final NodeMetrics metrics;
    /** The masterless tables (set once, before the node is handed out; volatile for a shutdown hook's thread). */
    private volatile ClusterTables tables;
    /** What DescribeConfigs shows for this node, with the ports it bound in place of those asked for. */
    private volatile Map<String, String> effectiveConfigs;
    /** The HTTP API; null while it serves none (http.port -1, and no {@link #serveHttp} yet). */
    private volatile io.spate.http.HttpServer http;
    private volatile boolean closed;
    private final java.util.concurrent.CompletableFuture<String> fatalError = new java.util.concurrent.CompletableFuture<>();

    private SpateNode(SpateConfig config, LogManager logManager, KafkaServer server, String clusterId,
                      GroupCoordinator coordinator, io.spate.server.txn.TransactionCoordinator transactions,
                      io.spate.server.cluster.RemoteTxnRequests remoteMarkers, io.spate.server.cluster.RemoteTxnRequests remoteVerifications,
                      LogCleaner cleaner, ClusterMember member, ReplicaManager replicas,
                      io.spate.processing.ProcessingRuntime processing, HttpNodePartitions httpPartitions, NodeMetrics metrics,
                      io.spate.http.HttpServer http) {
        this.processing = processing;
        this.httpPartitions = httpPartitions;
        this.http = http;
        this.metrics = metrics;
        this.remoteVerifications = remoteVerifications;
        this.member = member;
        this.transactions = transactions;
        this.remoteMarkers = remoteMarkers;
        this.replicas = replicas;
        this.coordinator = coordinator;
        this.cleaner = cleaner;
        this.config = config;
        this.logManager = logManager;
        this.server = server;
        this.clusterId = clusterId;
        member.metadata().localLogFailure().thenAccept(cause -> {
            String reason = "this node's copy of the metadata log (in " + config.dataDir().toAbsolutePath()
                    + ") can no longer be written: " + cause;
            log.error("{}; a voter that cannot append holds the controller quorum back: this node must stop"
                    + " (restart it once its disk is repaired)", reason);
            fatalError.complete(reason);
        });
        if (config.clustered()) {
            // A leader that cannot append keeps its partitions until it stops: every write fails
            // while healthy replicas wait. Stopping hands them over within a session timeout. A
            // standalone node has nobody to hand them to: it keeps serving what it can read.
            logManager.firstWriteFailure().thenAccept(cause -> {
                String reason = "this node's data directory can no longer be written (" + cause + ")";
                log.error("{}; its partitions move to replicas with a working disk: this node must stop"
                        + " (restart it once its disk is repaired)", reason);
                // The same full disk may have emptied the voter's raft-meta a moment ago (seed 3128):
                // repaired before the stop, or the node could not start again.
                member.metadata().prepareForAbruptStop();
                fatalError.complete(reason);
            });
        }
    }

    /**
     * Completes, with the reason, when this node can no longer take part in the cluster and must be
     * stopped (its metadata log cannot be written). {@code spate start} halts the process, as Kafka
     * does when its metadata log directory fails; an embedding application decides for itself.
     */
    public java.util.concurrent.CompletableFuture<String> fatalError() {
        return fatalError;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Opens the data directory (recovering after a crash), binds the listener and starts serving. */
    public static SpateNode start(SpateConfig config) throws IOException {
        return start(config, Clock.systemUTC());
    }

    /** As above, on {@code clock} (tests move time forward to see expiry). */
    public static SpateNode start(SpateConfig config, Clock clock) throws IOException {
        turnOffNettyJfrEventsUnlessAsked();
        Path dataDir = config.dataDir();
        io.spate.log.PartitionLog.useDecompressor(io.spate.server.network.KafkaCodecs.INSTANCE);
        LogManager logManager = LogManager.open(dataDir, clock, config.retentionCheckIntervalMs());
        KafkaServer server = null;
        GroupCoordinator coordinator = null;
        io.spate.server.txn.TransactionCoordinator transactions = null;
        io.spate.server.cluster.RemoteTxnRequests remoteMarkers = null;
        io.spate.server.cluster.RemoteTxnRequests remoteVerifications = null;
        LogCleaner cleaner = null;
        ClusterMember member = null;
        ReplicaManager replicas = null;
        io.spate.processing.ProcessingRuntime processing = null;
        ClusterTables tables = null;
        try {
            // One clock for the member's liveness, lease and pause decisions and the replicas' lag and lease checks.
            io.spate.time.Time time = io.spate.time.Time.SYSTEM;
            // Standalone and cluster run the same metadata code: a standalone node is the only voter
            // of its own controller quorum, over a metadata log in a local file.
            member = config.clustered()
                    ? ClusterMember.start(config.clusterSettings(), config.nodeCredentials(), time)
                    : ClusterMember.startAlone(config.clusterSettings(), time);
            // The tables' listener port goes into the node's registration: opened before it joins.
            tables = ClusterTables.start(config, member.metadata(), member.incarnation());
            member.advertiseTablesPort(tables.port());
            TopicRegistry registry = TopicRegistry.mirror(config.topicDefaults());
            replicas = new ReplicaManager(logManager, registry, config.nodeId(), member.metadata(), config.replicationSettings(), time);
            ClusterControl control = new ClusterControl(member.metadata());
            ProducerIdManager producerIds = new ProducerIdManager(control, config.nodeId());
            String clusterId = config.clustered() ? member.clusterId() : ClusterIdentity.loadOrCreate(dataDir, config.nodeId()).clusterId();
            server = KafkaServer.bind(config.listenHost(), config.port(), config.socketRequestMaxBytes(), config.ioThreads(), config.networkLimits(),
                    config.networkTransport());
            log.info("Kafka listener on {}:{} over {} with {} network thread(s)", config.listenHost(), server.port(), server.transport(), config.ioThreads());
            ServerConfig serverConfig = config.toServerConfig(server.port());
            Map<String, String> effective = serverConfig.brokerConfigs();
            effective.put(SpateConfig.PORT, String.valueOf(server.port()));
            effective.put(SpateConfig.TABLES_PORT, String.valueOf(tables.port()));
            TopicManager topics = new TopicManager(registry, serverConfig, control);
            ClusterView view = ClusterView.of(member.metadata(), replicas);
            NodeMetrics metrics = new NodeMetrics();
            // The web console's live figures (p50/p99 per API each second) beside the Prometheus ones.
            io.spate.http.RequestStats liveStats = new io.spate.http.RequestStats();
            io.spate.server.network.RequestMetrics requestMetrics = new LiveRequestMetrics(metrics.kafkaRequests(), liveStats);
            metrics.partitionHealth(registry, view, config.nodeId());
            TopicConfigDescriber describer = new TopicConfigDescriber(registry);
            coordinator = new GroupCoordinator(config.groupSettings(), clock, topics, replicas)
                    .readSubscriptionsWith(io.spate.server.handlers.ConsumerSubscriptions::topics);
            GroupCoordinator groups = coordinator;
            io.spate.time.Time clockTime = timeOf(clock);
            var localMarkers = new io.spate.server.txn.LocalTxnMarkers(replicas, registry, GroupCoordinator.OFFSETS_TOPIC,
                    (p, marker) -> groups.completeTransaction(p, marker.producerId(), marker.producerEpoch(), marker.coordinatorEpoch(), marker.commit()),
                    clockTime);
            remoteMarkers = new io.spate.server.cluster.RemoteTxnRequests(config.nodeId(), view, "txn-markers");
            io.spate.time.SystemScheduler txnThread = new io.spate.time.SystemScheduler("spate-txn-coordinator");
            var markerChannel = new io.spate.server.txn.TxnMarkerChannel(markerLeaders(view, registry, config.nodeId()), localMarkers,
                    remoteMarkers, txnThread);
            transactions = new io.spate.server.txn.TransactionCoordinator(config.transactionSettings(), clockTime, txnThread, topics, replicas,
                    producerIds, markerChannel);
            io.spate.server.txn.TxnVerifier verifier = null;
            if (config.transactionVerification()) {
                remoteVerifications = new io.spate.server.cluster.RemoteTxnRequests(config.nodeId(), view, "txn-verify");
                verifier = new io.spate.server.txn.TxnVerifier(transactions, view, config.nodeId(), remoteVerifications);
                io.spate.server.txn.TxnVerifier verifying = verifier;
                coordinator.verifyTransactionsWith((id, producerId, epoch, partition) -> verifying.verify(id, producerId, epoch, java.util.Set.of(partition)));
            }
            var partitionAdmin = new io.spate.server.admin.PartitionAdmin(registry, view, control, replicas);
            List<ApiHandler> handlers = new ArrayList<>(List.of(
                    new MetadataHandler(serverConfig, clusterId, topics, view),
                    new io.spate.server.handlers.DescribeTopicPartitionsHandler(registry, view),
                    new OffsetForLeaderEpochHandler(registry, replicas),
                    new ProduceHandler(registry, replicas, clock, verifier),
                    new FetchHandler(registry, replicas),
                    new ListOffsetsHandler(registry, replicas),
                    new io.spate.server.handlers.DeleteRecordsHandler(partitionAdmin),
                    new CreateTopicsHandler(topics, describer),
                    new DeleteTopicsHandler(topics),
                    new CreatePartitionsHandler(topics),
                    new DescribeConfigsHandler(registry, describer, serverConfig, replicas.throttles()),
                    new IncrementalAlterConfigsHandler(topics),
                    new DescribeClusterHandler(view, clusterId),
                    new io.spate.server.handlers.ElectLeadersHandler(registry, partitionAdmin),
                    new io.spate.server.handlers.AlterPartitionReassignmentsHandler(partitionAdmin),
                    new io.spate.server.handlers.ListPartitionReassignmentsHandler(control),
                    new io.spate.server.handlers.DescribeLogDirsHandler(replicas),
                    new InitProducerIdHandler(producerIds, transactions)));
            handlers.addAll(GroupHandlers.all(coordinator, transactions, view));
            handlers.addAll(io.spate.server.handlers.TransactionHandlers.all(transactions, coordinator, registry, replicas, localMarkers, clockTime));
            replicas.addLeadershipListener(coordinator.offsetsLeadership());
            replicas.addLeadershipListener(transactions.leadership());
            ReplicaManager hosted = replicas;
            processing = new io.spate.processing.ProcessingRuntime(config.nodeId(), dataDir, replicas.parkedReads(),
                    tp -> hosted.partition(tp.topic(), tp.partition()), hosted::hostedPartitions,
                    () -> registry.get(io.spate.processing.CatalogRecords.CATALOG_TOPIC) != null);
            processing.useTables(new PipelineTableWrites(tables));
            replicas.addLeadershipListener(processing.leadership());
            metrics.pipelineTasks(processing::taskReports);
            metrics.fsyncs(logManager);
            metrics.roleChanges(replicas.roleEvents());
            io.spate.cluster.MetadataLog metadataLog = member.metadata();
            metrics.metadataFetches(metadataLog::fetched);
            metrics.groupLag(coordinator, hosted::partition);
            handlers.add(new io.spate.server.handlers.BrokerHeartbeatHandler(member));
            handlers.add(new io.spate.server.handlers.DescribeQuorumHandler(member));
            if (config.clustered()) {
                // Serving first: a voter answers the other nodes' heartbeats on this listener.
                server.serve(new io.spate.server.network.LazyDispatcher(() -> new KafkaApis(handlers, config.nodeCredentials())),
                        requestMetrics);
                member.join(registry, replicas, config.host(), server.port(), config.clusterJoinTimeoutMs());
                // Registered: the image now knows every assignment made before this start, so a log
                // no partition assigned here uses is a replica moved away (or a topic deleted) while
                // the node was down, which nothing would serve or delete otherwise.
                replicas.roles().removeStrayLogs(member.metadata().image());
            } else {
                // Alone, the node answers its own heartbeats in-process, so it joins before any client
                // can reach it: an earlier layout's topics and producer ids are in the metadata before
                // a request could create a topic of the same name or take a producer id again.
                member.join(registry, replicas, config.host(), server.port(), config.clusterJoinTimeoutMs());
                io.spate.server.metadata.StandaloneMetadataImport.importOnce(dataDir, member.metadata(), config.nodeId());
                // Its image is the whole truth: a partition directory it does not name is left over
                // from a topic deleted while the files could not be removed. Before serving, so a
                // topic created again under that name does not find the old records.
                replicas.roles().removeStrayLogs(member.metadata().image());
                server.serve(new io.spate.server.network.LazyDispatcher(() -> new KafkaApis(handlers, config.nodeCredentials())),
                        requestMetrics);
            }
            cleaner = startCleaner(config, clock, logManager);
            coordinator.startOffsetExpiry();
            startProducerExpiry(config, clock, logManager);
            if (!logManager.wasCleanShutdown() && !logManager.logs().isEmpty()) {
                log.info("recovered {} partition log(s) after an unclean shutdown", logManager.logs().size());
            }
            // Kafka's protocol tables, which the first request needs and the start does not (the
            // dispatcher is built lazily, heartbeats use bare error codes): warmed now, beside the
            // caller's next steps (a test creating its first client), not on two cores the start needs.
            StartupPreloader.startOnce();
            processing.start(config.host() + ":" + server.port());
            HttpNodePartitions httpPartitions = new HttpNodePartitions(registry, replicas, view, new HttpNodeAdmin(config.nodeId(), clusterId,
                    config.replicationSettings().rack(), member.metadata(), replicas, config.clusterSettings().voters(),
                    config.host() + ":" + server.port(), liveStats));
            tables.follow();
            metrics.tables(tables.service());
            io.spate.http.HttpServer http = config.httpPort() < 0 ? null : startHttp(config, config.httpPort(), server.port(), httpPartitions,
                    metrics);
            if (http != null) {
                http.serveTables(tables);
                effective.put(SpateConfig.HTTP_PORT, String.valueOf(http.port()));
            }
            SpateNode node = new SpateNode(config, logManager, server, clusterId, coordinator, transactions, remoteMarkers, remoteVerifications,
                    cleaner, member, replicas, processing, httpPartitions, metrics, http);
            node.tables = tables;
            node.effectiveConfigs = effective;
            return node;
        } catch (IOException | RuntimeException e) {
            if (processing != null) {
                processing.close();
            }
            if (server != null) {
                server.close();
            }
            // The coordinators before the replicas, as close() does: their last tasks still use them.
            if (transactions != null) {
                transactions.close();
            }
            if (remoteMarkers != null) {
                remoteMarkers.close();
            }
            if (remoteVerifications != null) {
                remoteVerifications.close();
            }
            if (coordinator != null) {
                coordinator.close();
            }
            if (replicas != null) {
                replicas.close();
            }
            if (member != null) {
                member.close();
            }
            if (cleaner != null) {
                cleaner.stop();
            }
            if (tables != null) {
                tables.close();
            }
            logManager.close();
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (tables != null) {
                tables.close();
            }
            logManager.close();
            throw new IOException("interrupted while binding the listener", e);
        }
    }

    /** Milliseconds from {@code clock} (tests move it to see timeouts and expiry); intervals from the monotonic counter. */
    private static io.spate.time.Time timeOf(Clock clock) {
        return new io.spate.time.Time() {
            @Override
            public long millis() {
                return clock.millis();
            }

            @Override
            public long nanos() {
                return io.spate.time.Time.SYSTEM.nanos();
            }
        };
    }

    /** Where the transaction coordinator's markers go: each partition's leader, or gone once its topic is deleted. */
    private static io.spate.server.txn.TxnMarkerChannel.Leaders markerLeaders(ClusterView view, TopicRegistry registry, int localId) {
        return new io.spate.server.txn.TxnMarkerChannel.Leaders() {
            @Override
            public int leaderOf(io.spate.log.TopicPartition partition) {
                var topic = registry.get(partition.topic());
                if (topic == null || partition.partition() >= topic.partitions()) {
                    return GONE;
                }
                ClusterView.PartitionView state = view.partition(partition.topic(), partition.partition());
                return state == null ? -1 : state.leader();
            }

            @Override
            public int localId() {
                return localId;
            }
        };
    }

    /**
     * Netty 4.2 emits JFR events from its buffer allocators, and its first allocation loads and
     * registers the JFR event machinery: 0.1 to 0.3 s paid by the node's first request. Nobody
     * records these events without asking for them, so Spate turns them off unless the JVM was
     * started with {@code -Dio.netty.jfr.enabled}. Netty reads the property once, when its
     * first class initialises, so this only acts in a JVM where Netty has not run yet.
     */
    private static void turnOffNettyJfrEventsUnlessAsked() {
        if (System.getProperty("io.netty.jfr.enabled") == null) {
            System.setProperty("io.netty.jfr.enabled", "false");
        }
    }

    /** Runs compaction passes on its own thread, so that cleaning never delays produce or fetch. */
    private static LogCleaner startCleaner(SpateConfig config, Clock clock, LogManager logManager) {
        long backoffMs = config.cleanerBackoffMs();
        if (backoffMs <= 0) {
            return null;
        }
        LogCompactor compactor = new LogCompactor(clock, config.cleanerKeyMapBytes(), io.spate.server.network.KafkaCodecs.INSTANCE);
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("spate-log-cleaner").daemon().unstarted(r));
        io.spate.log.ScheduledTasks.withFixedDelay(thread, "log cleaner", () -> compactor.compactDue(logManager.logs()), backoffMs, backoffMs, TimeUnit.MILLISECONDS);
        return new LogCleaner(thread, compactor);
    }

    /** The log cleaner's thread and its compactor. */
    private record LogCleaner(ScheduledExecutorService thread, LogCompactor compactor) {
        /**
         * A pass running now gives up at its next batch; the thread is not interrupted (that
         * would close the files of the log it reads: ClosedByInterruptException), unless it has
         * not ended 10 s later.
         */
        void stop() {
            compactor.stop();
            thread.shutdown();
            try {
                if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                    log.warn("the log cleaner did not stop within 10 s of being asked: interrupting it");
                    thread.shutdownNow();
                }
            } catch (InterruptedException e) {
                thread.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Forgets idle producer ids (producer.id.expiration.ms) every producer.id.expiration.check.interval.ms, on the
     * log manager's scheduler, which the log manager stops when it closes.
     */
    private static void startProducerExpiry(SpateConfig config, Clock clock, LogManager logManager) {
        long expirationMs = config.producerIdExpirationMs();
        long intervalMs = config.producerIdExpirationCheckIntervalMs();
        Runnable[] check = new Runnable[1];
        check[0] = io.spate.log.ScheduledTasks.logged("producer-id expiry", () -> {
            try {
                long now = clock.millis();
                int removed = 0;
                for (io.spate.log.PartitionLog partitionLog : logManager.logs()) {
                    removed += partitionLog.removeExpiredProducers(now, expirationMs);
                }
                if (removed > 0) {
                    log.info("forgot {} producer id(s) idle for {} ms", removed, expirationMs);
                }
            } finally {
                logManager.schedule(check[0], intervalMs);
            }
        });
        logManager.schedule(check[0], intervalMs);
    }

    public int port() {
        return server.port();
    }

    /** The Kafka listener's socket layer (network.transport): "epoll" or "nio". */
    public String networkTransport() {
        return server.transport().toString();
    }

    public String host() {
        return config.host();
    }

    /** The HTTP API's port; -1 when this node serves none. */
    public int httpPort() {
        io.spate.http.HttpServer serving = http;
        return serving == null ? -1 : serving.port();
    }

    /**
     * Starts the HTTP API on {@code port} (0: any free one) on a node started without one; false
     * when the port cannot be bound. {@code spate start} uses it for its default port, which a node
     * does without when another process holds it.
     */
    public synchronized boolean serveHttp(int port) {
        if (http != null || closed) {
            throw new IllegalStateException(closed ? "the node is closed" : "the node already serves HTTP on " + http.port());
        }
        try {
            http = startHttp(config, port, server.port(), httpPartitions, metrics);
            http.serveTables(tables);
            effectiveConfigs.put(SpateConfig.HTTP_PORT, String.valueOf(http.port()));
            return true;
        } catch (IOException e) {
            log.warn("{}", e.getMessage());
            return false;
        }
    }

    private static io.spate.http.HttpServer startHttp(SpateConfig config, int port, int kafkaPort, HttpNodePartitions partitions,
                                                      NodeMetrics metrics) throws IOException {
        return io.spate.http.HttpServer.start(new io.spate.http.HttpSettings(config.listenHost(), port, config.httpMaxBodyBytes(),
                config.httpMaxInFlightBytes(), config.host() + ":" + kafkaPort, config.httpConsumerInstanceTimeoutMs(),
                config.httpConsumerMaxInstances()), partitions, metrics.registry(), partitions.admin());
    }

    public String bootstrapServers() {
        return config.host() + ":" + port();
    }

    public String clusterId() {
        return clusterId;
    }

    /** Producer ids with state on this node, summed over its partitions (each partition counts its own). */
    public int producerStateCount() {
        return logManager.logs().stream().mapToInt(io.spate.log.PartitionLog::producerCount).sum();
    }

    /** Committed offsets held by this node's group coordinator. */
    public int committedOffsetCount() {
        return coordinator.committedOffsetCount().join();
    }

    /** Request bytes being read or handled now, held under queued.max.request.bytes. */
    public long queuedRequestBytes() {
        return server.queuedRequestBytes();
    }

    /** Response bytes waiting for clients to read them, over every connection of the Kafka listener. */
    public long unsentResponseBytes() {
        return server.unsentResponseBytes();
    }

    /** Client and node connections open on the Kafka listener. */
    public int connectionCount() {
        return server.connectionCount();
    }

    public Path dataDir() {
        return config.dataDir();
    }

    /**
     * Deploys, lists and manages pipelines on the cluster this node belongs to, as `spate pipeline`
     * does (over this node's own listener). The caller closes it.
     */
    public io.spate.processing.PipelineAdmin pipelines() {
        return new io.spate.processing.PipelineAdmin(bootstrapServers());
    }

    /** The pipeline tasks running on this node now. */
    public java.util.Set<io.spate.processing.TaskId> pipelineTasks() throws Exception {
        return processing.runningTasks();
    }

    /** Stops accepting requests, then fsyncs every log and marks the shutdown clean. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (cleaner != null) {
            cleaner.compactor().stop(); // a pass over a big log winds down meanwhile; stop() below waits for it
        }
        if (http != null) {
            http.close(); // its internal clients use the Kafka listener
        }
        httpPartitions.admin().close();
        // Tasks first: their last commit goes through this node's listener.
        processing.close();
        if (config.clustered()) {
            // Alone, there is nobody to hand leadership to.
            member.leaveGracefully(5_000);
        }
        server.close();
        // The coordinators' last writes (expiry, a rebalance in flight) wait on the partitions'
        // deadlines: they stop before the replicas do.
        transactions.close();
        remoteMarkers.close();
        if (remoteVerifications != null) {
            remoteVerifications.close();
        }
        coordinator.close();
        replicas.close();
        if (cleaner != null) {
            cleaner.stop();
        }
        // Table requests come in over HTTP (closed above); its peers see this node fenced once it has left.
        // Whatever the tables or the membership throw, the logs are still fsynced and marked clean.
        try {
            tables.close();
        } finally {
            try {
                member.close();
            } finally {
                logManager.close();
            }
        }
    }

    /** The node's masterless tables (the stores, the coordinator, the catalog it serves). */
    public io.spate.tables.service.TableService tables() {
        return tables.service();
    }

    /** Creates a table in the cluster's catalog; completes once this node serves it. */
    public java.util.concurrent.CompletableFuture<io.spate.tables.TableConfig> createTable(io.spate.tables.TableConfig config) {
        return tables.create(config);
    }

    /** Embedded start-up with defaults suited to tests: a free port and the given directory. */
    public static final class Builder {
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder() {
            settings.put(SpateConfig.PORT, "0");
        }

        public Builder dataDir(Path dir) {
            settings.put(SpateConfig.LOG_DIRS, dir.toString());
            return this;
        }

        public Builder port(int port) {
            settings.put(SpateConfig.PORT, String.valueOf(port));
            return this;
        }

        /** Serves the HTTP API on {@code port} (0: any free port; see {@link SpateNode#httpPort()}). */
        public Builder httpPort(int port) {
            settings.put(SpateConfig.HTTP_PORT, String.valueOf(port));
            return this;
        }

        /** Any broker setting, under its Kafka name (e.g. {@code log.flush.interval.messages}). */
        public Builder config(String name, String value) {
            settings.put(name, value);
            return this;
        }

        private Clock clock = Clock.systemUTC();

        /** The node's clock (commit times, expiry); tests pass one they can move forward. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public SpateNode start() throws IOException {
            return SpateNode.start(SpateConfig.from(settings), clock);
        }
    }
}
