package io.spate.processing;

import io.spate.processing.store.RocksDbStores;
import io.spate.replication.LeadershipListener;
import io.spate.replication.ParkedReads;
import io.spate.replication.Partition;
import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.engine.SubTopology;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The processing tier of one node. It reads the pipeline catalog, loads and compiles each
 * pipeline, and runs the tasks whose anchor partitions this node leads ({@link TaskPlacement}),
 * starting and stopping them as leadership comes and goes. Its decisions run on one thread; each
 * task runs on its own ({@link TaskRunner}); the catalog is read on another, and set-up work
 * that waits on the network (loading a jar, creating topics) on a fourth.
 */
public final class ProcessingRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProcessingRuntime.class);
    private static final long REPORT_INTERVAL_MS = 1_000;
    /** How often standbys apply what their changelogs gained, and how often the node looks which it should keep. */
    private static final long STANDBY_CATCH_UP_MS = 100;
    /**
     * How long tasks are held on a leadership this node gave up with no other leader named: past a
     * controller's fail-over (about a second with the default election timeout and session), well
     * short of what a stopped task's restart costs.
     */
    static final long LEADERSHIP_DOUBT_MS = 3_000;
    private static final long STANDBY_RECONCILE_MS = 1_000;
    /** A standby that failed here is made again only after this long. */
    private static final long STANDBY_RETRY_MS = 30_000;
    /** How long a standby waits for the committed positions of its source tables' inputs before it goes on with the last. */
    private static final long STANDBY_COMMITTED_TIMEOUT_MS = 5_000;

    private final int nodeId;
    private final Path jarDir;
    /** Tasks' stores on disk ({@code state.store=rocksdb}): {@code <pipeline>/<sub-topology>_<partition>/<store>-<partition>}. */
    private final Path stateDir;
    private final ParkedReads parkedReads;
    private final Function<TopicPartition, Partition> localPartition;
    private final ScheduledExecutorService decisions;
    private final ExecutorService setup;
    private final Map<String, PipelineSpec> specs = new HashMap<>();
    private final Map<String, Deployment> deployments = new HashMap<>();
    private final Set<TopicPartition> led = new HashSet<>();
    /** Leaderships given up with no other leader named, whose tasks are held for a while (decisions thread). */
    private final Map<TopicPartition, LeadershipInDoubt> inDoubt = new HashMap<>();
    private final Map<TaskId, TaskRunner> running = new TreeMap<>();
    /** The running tasks' reports as of the last report round (every second), for the node's metrics. */
    private volatile List<TaskStatus> lastReports = List.of();
    /** Tasks asked to stop whose threads have not ended yet. */
    private final Map<TaskId, TaskRunner> stopping = new HashMap<>();
    /** The status keys this node has reported, by pipeline: what it takes back when a pipeline goes. */
    private final Map<String, Set<String>> published = new HashMap<>();
    private final ExecutorService statusSender;
    /** Every runner whose thread may still run, for close() to stop and await without the decisions thread. */
    private final Set<TaskRunner> allRunners = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The partitions this node holds a replica of: where its standbys are. */
    private final java.util.function.Supplier<? extends java.util.Collection<Partition>> hostedPartitions;
    /** Warm copies of stateful tasks this node may take over: kept by the decisions thread, caught up on the standby thread. */
    private final Map<TaskId, StandbyTask> standbys = new java.util.concurrent.ConcurrentHashMap<>();
    /** When a standby last failed here (decisions thread). */
    private final Map<TaskId, Long> standbyFailedAt = new HashMap<>();
    private final ScheduledExecutorService standbyWorker;
    private volatile boolean closed;
    private String bootstrap;
    private Thread catalogReader;
    private KafkaConsumer<String, byte[]> catalogConsumer;
    private Producer<String, byte[]> statusProducer;
    private Admin admin;

    /** A pipeline this node has loaded and compiled, at one generation of its spec. */
    private static final class Deployment {
        final PipelineSpec spec;
        PipelineLoader.Loaded loaded;
        CompiledPipeline compiled;
        List<TaskPlacement.Anchored> anchored = List.of();
        PositionStore positions;
        /** Read by this node's standbys of source tables, made with the first of them (decisions thread). */
        PositionStore standbyPositions;
        /**
         * The pipeline's at-least-once producer, one per deployment rather than per node: a producer
         * refreshes the metadata of every topic it ever wrote, and the refresh of a deleted topic
         * would create it again with the broker's defaults.
         */
        Producer<byte[], byte[]> producer;
        String failure;
        /** Replaced or removed: its resources close once its last task has ended. Read by its set-up, which then makes nothing. */
        volatile boolean retired;
        boolean closed;
        int liveTasks;

        Deployment(PipelineSpec spec) {
            this.spec = spec;
        }

        boolean ready() {
            return compiled != null;
        }
    }

    private final java.util.function.BooleanSupplier catalogExists;
    private volatile TableWrites tables = TableWrites.NONE;

    /**
     * @param catalogExists whether this node's metadata holds the catalog topic yet: until a first
     *                      deploy creates it, the tier costs nothing (no client, no connection)
     */
    public ProcessingRuntime(int nodeId, Path dataDir, ParkedReads parkedReads, Function<TopicPartition, Partition> localPartition,
                             java.util.function.Supplier<? extends java.util.Collection<Partition>> hostedPartitions,
                             java.util.function.BooleanSupplier catalogExists) {
        this.nodeId = nodeId;
        this.hostedPartitions = hostedPartitions;
        this.catalogExists = catalogExists;
        this.jarDir = dataDir.resolve("pipelines").resolve("jars");
        this.stateDir = dataDir.resolve("pipelines").resolve("state");
        try {
            // What tasks of a previous run left: a clean stop's stores with their checkpoint stay for the
            // task's next start here; the rest (a crash's, an old checkpoint's) go, rebuilt from the changelogs.
            io.spate.processing.store.StateCheckpoint.clearUnusable(stateDir, System.currentTimeMillis());
        } catch (RuntimeException e) {
            log.warn("cannot delete the pipelines' old state in {}; each task wipes its own directory when it starts", stateDir, e);
        }
        this.parkedReads = parkedReads;
        this.localPartition = localPartition;
        this.decisions = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("spate-processing").unstarted(r));
        this.setup = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("spate-processing-setup").unstarted(r));
        this.statusSender = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("spate-processing-status").unstarted(r));
        this.standbyWorker = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("spate-standby").unstarted(r));
    }

    /**
     * Leaderships taken by the image being applied, not yet in {@link #led} (decisions thread
     * only): their tasks start once every role of that image is taken. A fail-over moves a
     * task's input and the outputs placed with it in one image, and a task started on the input
     * alone found its output led elsewhere and committed in transactions until it moved again.
     */
    private final Set<TopicPartition> ledOnceApplied = new HashSet<>();

    /** Told of this node's leaderships (registered before the node joins, so none is missed). */
    public LeadershipListener leadership() {
        return new LeadershipListener() {
            @Override
            public void onBecameLeader(Partition partition, int leaderEpoch) {
                TopicPartition tp = new TopicPartition(partition.topicPartition().topic(), partition.topicPartition().partition());
                onDecisions(() -> {
                    LeadershipInDoubt doubt = inDoubt.remove(tp);
                    if (doubt != null) {
                        doubt.expiry().cancel(false);
                        if (doubt.partition() == partition && doubt.leaderEpoch() == leaderEpoch) {
                            holdTasks(tp, false); // the same leadership back: its tasks go on with their stores
                            reconcile(); // and one that ended meanwhile starts again
                            return;
                        }
                        led.remove(tp); // led by another node meanwhile: its tasks start again from their commits
                        reconcile();
                    }
                    ledOnceApplied.add(tp);
                });
            }

            @Override
            public void onRolesApplied() {
                onDecisions(() -> {
                    if (!ledOnceApplied.isEmpty()) {
                        led.addAll(ledOnceApplied);
                        ledOnceApplied.clear();
                        reconcile();
                    }
                });
            }

            @Override
            public void onResigned(Partition partition, int leaderEpoch) {
                TopicPartition tp = new TopicPartition(partition.topicPartition().topic(), partition.topicPartition().partition());
                // Self-fencing keeps the epoch; a replica that stops being hosted here (a topic
                // deleted, a move away) moves past it, and its tasks stop at once.
                boolean noOtherLeader = partition.leaderId() < 0 && partition.leaderEpoch() == leaderEpoch;
                onDecisions(() -> {
                    ledOnceApplied.remove(tp);
                    if (noOtherLeader && led.contains(tp) && !inDoubt.containsKey(tp) && !closed) {
                        ScheduledFuture<?> expiry = decisions.schedule(() -> guarded(() -> doubtOver(tp)), LEADERSHIP_DOUBT_MS, TimeUnit.MILLISECONDS);
                        inDoubt.put(tp, new LeadershipInDoubt(partition, leaderEpoch, expiry));
                        holdTasks(tp, true);
                        return;
                    }
                    LeadershipInDoubt doubt = inDoubt.remove(tp);
                    if (doubt != null) {
                        doubt.expiry().cancel(false);
                    }
                    led.remove(tp);
                    reconcile();
                });
            }
        };
    }

    /**
     * A leadership this node gave up with no other leader named: it fenced itself, unanswered by
     * the controller for a session. When a controller fails over, every node goes through that for
     * a moment and then leads what it led, at the same epoch: its tasks are held meanwhile (no
     * input taken, nothing written, stores kept) instead of stopped, which would throw their
     * stores away, or restore them again, and wipe a standby's warm copy just handed over. The
     * doubt ends when the leadership comes back, another leader is named, or after
     * {@link #LEADERSHIP_DOUBT_MS}; then the tasks stop.
     */
    private record LeadershipInDoubt(Partition partition, int leaderEpoch, ScheduledFuture<?> expiry) {
    }

    /** The partition's leadership did not come back in time: its tasks stop. */
    private void doubtOver(TopicPartition tp) {
        if (inDoubt.remove(tp) != null) {
            led.remove(tp);
            reconcile();
        }
    }

    /** Holds (or lets go on) every task running here on {@code tp}. */
    private void holdTasks(TopicPartition tp, boolean held) {
        for (Map.Entry<TaskId, TaskRunner> task : running.entrySet()) {
            if (tp.equals(anchorOf(task.getKey()))) {
                task.getValue().hold(held);
            }
        }
    }

    /** The input partition a task runs by (the one whose leader runs it), or null when its deployment is gone. */
    private TopicPartition anchorOf(TaskId id) {
        Deployment d = deployments.get(id.pipeline());
        if (d == null) {
            return null;
        }
        for (TaskPlacement.Anchored a : d.anchored) {
            if (a.subTopology() == id.subTopology()) {
                return new TopicPartition(a.anchorTopic(), id.partition());
            }
        }
        return null;
    }

    /** Starts reading the catalog through the node's own listener, once it serves. */
    public void start(String bootstrap) {
        this.bootstrap = bootstrap;
        catalogReader = Thread.ofPlatform().daemon().name("spate-pipeline-catalog").start(this::readCatalog);
    }

    /** The clients the tier writes with, made when the catalog first appears (on the catalog thread, before any record is applied). */
    private synchronized void openClients() {
        if (closed) {
            return;
        }
        statusProducer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "1",
                ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.CLIENT_ID_CONFIG, "spate-pipeline-status-" + nodeId,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000,
                // Reports are sent every few seconds and superseded by the next: one stuck behind a
                // leader that stopped answering is given up early, so later ones reach the new leader.
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, CompactedTopicReader.INTERNAL_REQUEST_TIMEOUT_MS,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 2 * CompactedTopicReader.INTERNAL_REQUEST_TIMEOUT_MS),
                new StringSerializer(), new ByteArraySerializer());
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, AdminClientConfig.CLIENT_ID_CONFIG,
                "spate-processing-" + nodeId));
        decisions.scheduleWithFixedDelay(() -> guarded(this::report), REPORT_INTERVAL_MS, REPORT_INTERVAL_MS, TimeUnit.MILLISECONDS);
        decisions.scheduleWithFixedDelay(() -> guarded(this::reconcileStandbys), STANDBY_RECONCILE_MS, STANDBY_RECONCILE_MS, TimeUnit.MILLISECONDS);
        standbyWorker.scheduleWithFixedDelay(this::catchUpStandbys, STANDBY_CATCH_UP_MS, STANDBY_CATCH_UP_MS, TimeUnit.MILLISECONDS);
    }

    private Map<String, Object> producerConfig(Map<String, Object> extra) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "spate-pipeline-output-" + nodeId);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // A task's micro-batch is already a batch: send it at once rather than linger.
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 1 << 16);
        // Well under task.timeout.ms: a send that cannot go (no metadata, a full buffer) fails as the
        // node's fault, not as a task stuck in its own code.
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        config.putAll(extra);
        return config;
    }

    /** Queues {@code action} on the decisions thread; false when the tier is closing and it never runs. */
    private boolean onDecisions(Runnable action) {
        if (!closed) {
            try {
                decisions.execute(() -> guarded(action));
                return true;
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
        return false;
    }

    private static void guarded(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            log.error("processing: a decision failed", e);
        }
    }

    // ---- the catalog -------------------------------------------------------------------------

    private void readCatalog() {
        try {
            // A local look, no request: no pipeline was ever deployed until the catalog exists.
            while (!closed && !catalogExists.getAsBoolean()) {
                Thread.sleep(1_000);
            }
        } catch (InterruptedException e) {
            return;
        }
        if (closed) {
            return;
        }
        openClients();
        long backoffMs = 500;
        while (!closed) {
            try {
                followCatalog();
                return;
            } catch (WakeupException | InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                // The catalog's partition moving, a timeout: read it again from the start (applying is idempotent).
                log.warn("processing: reading the pipeline catalog failed; reading it again in {} ms", backoffMs, e);
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException interrupted) {
                    return;
                }
                backoffMs = Math.min(backoffMs * 2, 10_000);
            }
        }
    }

    private void followCatalog() throws InterruptedException {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "spate-pipeline-catalog-" + nodeId);
        // A missing topic must stay missing: auto-created, it would get the defaults (one replica, not compacted).
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, CatalogRecords.MAX_JAR_BYTES + (1 << 20));
        config.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, CatalogRecords.MAX_JAR_BYTES + (1 << 20));
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            catalogConsumer = consumer;
            while (!closed) {
                List<PartitionInfo> partitions;
                try {
                    partitions = consumer.partitionsFor(CatalogRecords.CATALOG_TOPIC, Duration.ofSeconds(5));
                } catch (org.apache.kafka.common.errors.TimeoutException e) {
                    partitions = List.of();
                }
                if (partitions != null && !partitions.isEmpty()) {
                    break;
                }
                Thread.sleep(500);
            }
            TopicPartition catalog = new TopicPartition(CatalogRecords.CATALOG_TOPIC, 0);
            consumer.assign(List.of(catalog));
            consumer.seekToBeginning(List.of(catalog));
            // The jars the catalog holds, as far as read: once it has been read to where it ended at
            // the start, a jar file here that it does not hold belongs to a pipeline deleted while this
            // node was away (its record and tombstone compacted away): removed.
            Set<String> jarsInCatalog = new HashSet<>();
            long endAtStart = consumer.endOffsets(List.of(catalog), Duration.ofSeconds(30)).getOrDefault(catalog, 0L);
            boolean swept = false;
            while (!closed) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    applyCatalogRecord(r.key(), r.value(), jarsInCatalog);
                }
                if (!swept && consumer.position(catalog) >= endAtStart) {
                    removeJarsNotIn(jarsInCatalog);
                    swept = true;
                }
            }
        }
    }

    private void applyCatalogRecord(String key, byte[] value, Set<String> jarsInCatalog) {
        if (key == null) {
            return;
        }
        if (key.startsWith(CatalogRecords.JAR_PREFIX) && value == null) {
            // The last pipeline running it was deleted (or redeployed with another jar).
            String sha = key.substring(CatalogRecords.JAR_PREFIX.length());
            jarsInCatalog.remove(sha);
            removeJar(sha);
        } else if (key.startsWith(CatalogRecords.JAR_PREFIX)) {
            String sha = key.substring(CatalogRecords.JAR_PREFIX.length());
            jarsInCatalog.add(sha);
            try {
                storeJar(sha, value);
                onDecisions(() -> {
                    for (PipelineSpec spec : List.copyOf(specs.values())) {
                        if (spec.source().equals(PipelineSpec.JAR) && spec.reference().equals(sha)) {
                            changed(spec.name());
                        }
                    }
                });
            } catch (IOException | RuntimeException e) {
                log.error("processing: cannot keep the jar {}", sha, e);
            }
        } else if (key.startsWith(CatalogRecords.PIPELINE_PREFIX)) {
            String name = key.substring(CatalogRecords.PIPELINE_PREFIX.length());
            PipelineSpec spec;
            try {
                spec = value == null ? null : CatalogRecords.decodeSpec(value);
            } catch (IllegalArgumentException e) {
                log.error("processing: the catalog's record for {} is not a spec; ignored", name, e);
                return;
            }
            onDecisions(() -> {
                if (spec == null) {
                    specs.remove(name);
                } else {
                    specs.put(name, spec);
                }
                changed(name);
            });
        }
    }

    /**
     * Deletes this node's copy of a jar. A task of a retired deployment still running its classes
     * keeps reading them: its class loader holds the file open, and the file system keeps an open
     * file's contents until it is closed.
     */
    private void removeJar(String sha) {
        try {
            if (Files.deleteIfExists(jarDir.resolve(sha + ".jar"))) {
                log.info("processing: removed the jar {}, which no pipeline runs any more", sha);
            }
        } catch (IOException e) {
            log.warn("processing: cannot remove the jar {} that no pipeline runs any more", sha, e);
        }
    }

    private void removeJarsNotIn(Set<String> jarsInCatalog) {
        if (!Files.isDirectory(jarDir)) {
            return;
        }
        try (var files = Files.list(jarDir)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (name.endsWith(".jar") && !jarsInCatalog.contains(name.substring(0, name.length() - ".jar".length()))) {
                    removeJar(name.substring(0, name.length() - ".jar".length()));
                }
            }
        } catch (IOException e) {
            log.warn("processing: cannot list {} to remove jars no pipeline runs", jarDir, e);
        }
    }

    private void storeJar(String sha, byte[] bytes) throws IOException {
        if (!PipelineAdmin.sha256(bytes).equals(sha)) {
            throw new IOException("the catalog's jar " + sha + " does not match its own SHA-256");
        }
        Path target = jarDir.resolve(sha + ".jar");
        if (Files.exists(target)) {
            return;
        }
        Files.createDirectories(jarDir);
        Path temporary = jarDir.resolve(sha + ".jar.tmp");
        Files.write(temporary, bytes);
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    // ---- decisions (on the decisions thread) ---------------------------------------------------

    /** The spec of {@code name} changed (or went): retire what ran the old one, set up the new one. */
    private void changed(String name) {
        PipelineSpec spec = specs.get(name);
        Deployment current = deployments.get(name);
        if (current != null && current.spec.equals(spec)) {
            return;
        }
        Set<String> ownDirs = spec == null ? stateDirsInUse(name) : Set.of();
        if (current != null) {
            deployments.remove(name);
            current.retired = true;
            stopTasks(name, spec);
            reconcileStandbys(); // its standbys go before its class loader closes
            closeIfDone(current);
        } else if (spec == null || spec.paused()) {
            // Nothing runs here; still, reports this node made of the pipeline go or say PAUSED.
            stopTasks(name, spec);
        }
        if (spec == null) {
            removeKeptState(name, ownDirs);
        }
        if (spec == null || spec.paused()) {
            return;
        }
        if (spec.source().equals(PipelineSpec.JAR) && !Files.exists(jarDir.resolve(spec.reference() + ".jar"))) {
            log.info("pipeline {} (generation {}) waits for its jar {} from the catalog", name, spec.generation(), spec.reference());
            return; // the jar's record comes first in the catalog; its arrival calls this again
        }
        Deployment deployment = new Deployment(spec);
        deployments.put(name, deployment);
        setup.execute(() -> prepare(deployment, 0));
    }

    /** The state directories of {@code pipeline}'s tasks and standbys here that remove themselves when they end. */
    private Set<String> stateDirsInUse(String pipeline) {
        Set<TaskId> ids = new HashSet<>(running.keySet());
        ids.addAll(stopping.keySet());
        ids.addAll(standbys.keySet());
        Set<String> dirs = new HashSet<>();
        for (TaskId id : ids) {
            if (id.pipeline().equals(pipeline)) {
                dirs.add(id.subTopology() + "_" + id.partition());
                dirs.add(StandbyTask.stateDir(stateDir, id).getFileName().toString());
            }
        }
        return dirs;
    }

    /**
     * A deleted pipeline's stores that tasks kept here at a clean stop (a pause, a leadership that
     * moved): a pipeline deployed later under the same name must not take them up, and its
     * changelogs, made anew, could run past their checkpoint and let it.
     */
    private void removeKeptState(String pipeline, Set<String> inUse) {
        for (Map.Entry<TaskId, TaskRunner> ending : stopping.entrySet()) {
            if (ending.getKey().pipeline().equals(pipeline)) {
                ending.getValue().stopAndDiscardState(); // one stopped by a pause a moment ago keeps nothing either
            }
        }
        Path dir = stateDir.resolve(pipeline);
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var entries = Files.list(dir)) {
            for (Path entry : entries.toList()) {
                if (!inUse.contains(entry.getFileName().toString())) {
                    RocksDbStores.deleteRecursively(entry);
                }
            }
            if (inUse.isEmpty()) {
                Files.deleteIfExists(dir);
            }
        } catch (IOException | RuntimeException e) {
            log.warn("processing: cannot remove the stores deleted pipeline {} kept in {}", pipeline, dir, e);
        }
    }

    /**
     * Loads, compiles and makes the topics of a deployment (off the decisions thread: it waits on the
     * network); what it made is handed to the decisions thread, which alone reads a deployment.
     * A failure (the inputs not there yet, a timeout) is retried while the deployment is current.
     */
    private void prepare(Deployment d, int attempt) {
        if (d.retired) {
            return; // deleted or replaced while this waited its turn
        }
        PipelineLoader.Loaded loaded = null;
        try {
            loaded = PipelineLoader.load(d.spec, jarDir.resolve(d.spec.reference() + ".jar"));
            CompiledPipeline compiled = PipelineAdmin.compile(d.spec.name(), loaded.pipeline(), d.spec.settings());
            if (d.retired) {
                // A pipeline deleted with its state meanwhile: its internal topics must not be made again.
                loaded.close();
                return;
            }
            PipelineTopics.ensure(admin, compiled);
            List<TaskPlacement.Anchored> anchored = new ArrayList<>();
            for (SubTopology s : compiled.subTopologies()) {
                anchored.add(new TaskPlacement.Anchored(d.spec.name(), s.id(), TaskPlacement.anchor(s.inputTopics())));
            }
            boolean exactlyOnce = d.spec.parsedSettings().guarantee() == Guarantee.EXACTLY_ONCE;
            PositionStore positions = new PositionStore(bootstrap, d.spec.name(), exactlyOnce);
            Producer<byte[], byte[]> producer;
            try {
                producer = exactlyOnce ? null : new KafkaProducer<>(producerConfig(Map.of(
                        ProducerConfig.CLIENT_ID_CONFIG, "spate-pipeline-" + d.spec.name() + "-" + nodeId)), new ByteArraySerializer(), new ByteArraySerializer());
            } catch (RuntimeException e) {
                positions.close(); // its consumer would otherwise outlive the failed set-up
                throw e;
            }
            PipelineLoader.Loaded made = loaded;
            // Retired while this ran, its deployment was already closed (with nothing in it): what was made here is closed instead.
            Runnable discard = () -> closeResources(producer, positions, null, made);
            boolean queued = onDecisions(() -> {
                if (d.retired || closed) {
                    offDecisions(discard);
                    return;
                }
                d.producer = producer;
                d.loaded = made;
                d.compiled = compiled;
                d.anchored = anchored;
                d.positions = positions;
                d.failure = null;
                log.info("pipeline {} (generation {}) is ready: {} sub-topologies", d.spec.name(), d.spec.generation(), anchored.size());
                reconcile();
            });
            if (!queued) {
                discard.run();
            }
        } catch (Exception | LinkageError e) {
            if (loaded != null) {
                loaded.close();
            }
            String failure = e.getMessage() == null ? e.toString() : e.getMessage();
            long retryMs = Math.min(30_000, 1_000L << Math.min(attempt, 5));
            log.error("pipeline {} (generation {}) cannot run on this node yet: {}; trying again in {} ms", d.spec.name(), d.spec.generation(),
                    failure, retryMs, e);
            onDecisions(() -> {
                d.failure = failure + " (retrying)";
                if (!d.retired) {
                    decisions.schedule(() -> {
                        if (!d.retired) {
                            setup.execute(() -> prepare(d, attempt + 1));
                        }
                    }, retryMs, TimeUnit.MILLISECONDS);
                }
            });
        }
    }

    /** Closes a retired deployment's clients and class loader once the last of its tasks has ended. */
    private void closeIfDone(Deployment d) {
        // One not ready holds nothing yet: what its set-up makes is closed when handed over (see prepare).
        if (!d.retired || d.liveTasks > 0 || d.closed || !d.ready()) {
            return;
        }
        d.closed = true;
        offDecisions(() -> closeResources(d.producer, d.positions, d.standbyPositions, d.loaded));
    }

    /** Closing clients waits on the network: on the set-up thread, or here when that has shut down. */
    private void offDecisions(Runnable action) {
        try {
            setup.execute(action);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            action.run();
        }
    }

    private static void closeResources(Producer<byte[], byte[]> producer, PositionStore positions, PositionStore standbyPositions,
                                       PipelineLoader.Loaded loaded) {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        if (positions != null) {
            positions.close();
        }
        if (standbyPositions != null) {
            standbyPositions.close();
        }
        if (loaded != null) {
            loaded.close();
        }
    }

    /** Starts the tasks this node should run and stops the others. */
    private void reconcile() {
        if (closed) {
            return;
        }
        List<TaskPlacement.Anchored> anchored = new ArrayList<>();
        for (Deployment d : deployments.values()) {
            if (d.ready()) {
                anchored.addAll(d.anchored);
            }
        }
        Set<TaskId> wanted = TaskPlacement.tasksHere(anchored, led);
        for (TaskId id : List.copyOf(running.keySet())) {
            TaskRunner runner = running.get(id);
            Deployment d = deployments.get(id.pipeline());
            if (!wanted.contains(id) || d == null || d.spec.generation() != runner.generation()) {
                stop(id, runner);
            }
        }
        for (TaskId id : wanted) {
            // A task of the same id still stopping here starts again only once it has ended: two
            // instances would race for its outputs and positions. None starts on a leadership in doubt.
            if (!running.containsKey(id) && !stopping.containsKey(id) && !inDoubt.containsKey(anchorOf(id))) {
                start(id, deployments.get(id.pipeline()));
            }
        }
        reconcileStandbys();
    }

    // ---- standbys ----------------------------------------------------------------------------

    /**
     * Keeps a standby of each stateful task whose anchor partition this node follows, when this
     * node is among the first {@code num.standby.replicas} of that partition's in-sync followers
     * ({@link TaskPlacement#standbyRank}: every node reaches the same answer from the same
     * metadata), and drops the others. Leadership changes call it; so does a timer, for followerships (no event tells them).
     */
    private void reconcileStandbys() {
        if (closed) {
            return;
        }
        Map<TaskId, Deployment> wanted = new HashMap<>();
        List<Deployment> withStandbys = new ArrayList<>();
        for (Deployment d : deployments.values()) {
            if (d.ready() && !d.retired && d.spec.parsedSettings().standbyReplicas() > 0) {
                withStandbys.add(d);
            }
        }
        if (!withStandbys.isEmpty()) {
            for (Partition partition : hostedPartitions.get()) {
                // Leading already, the task not started yet (its leadership event still queued): the standby waits for it.
                boolean leads = partition.isLeader();
                // No leader named (this node fenced itself, or the partition is offline): the standbys
                // here stay as they are until one is.
                boolean leaderless = !leads && partition.leaderId() < 0;
                int rank = leads || leaderless ? -1 : TaskPlacement.standbyRank(partition.isr(), partition.leaderId(), nodeId);
                for (Deployment d : withStandbys) {
                    if (!leads && !leaderless && (rank < 0 || rank >= d.spec.parsedSettings().standbyReplicas())) {
                        continue;
                    }
                    for (TaskPlacement.Anchored a : d.anchored) {
                        if (a.anchorTopic().equals(partition.topicPartition().topic())
                                && !d.compiled.subTopologies().get(a.subTopology()).stores().isEmpty()) {
                            TaskId id = new TaskId(d.spec.name(), a.subTopology(), partition.topicPartition().partition());
                            // Not while a stopping instance still closes its stores: with RocksDB, a task that
                            // ran on a standby's databases keeps them in the directory a new standby would wipe.
                            if (!running.containsKey(id) && !stopping.containsKey(id) && ((!leads && !leaderless) || standbys.containsKey(id))) {
                                wanted.put(id, d);
                            }
                        }
                    }
                }
            }
        }
        for (StandbyTask standby : List.copyOf(standbys.values())) {
            Deployment d = wanted.get(standby.id());
            if (d == null || d.spec.generation() != standby.generation()) {
                dropStandby(standby);
                log.info("{} stops here", standby);
            }
        }
        long now = System.currentTimeMillis();
        standbyFailedAt.values().removeIf(at -> now - at > STANDBY_RETRY_MS);
        for (Map.Entry<TaskId, Deployment> w : wanted.entrySet()) {
            if (!standbys.containsKey(w.getKey()) && !standbyFailedAt.containsKey(w.getKey())) {
                startStandby(w.getKey(), w.getValue(), now);
            }
        }
    }

    private void startStandby(TaskId id, Deployment d, long now) {
        ClassLoader codeLoader = codeLoader(d);
        RocksDbStores onDisk = null;
        try {
            PipelineSettings settings = d.spec.parsedSettings();
            if (settings.stateStore() == StateStoreType.ROCKSDB) {
                onDisk = RocksDbStores.open(StandbyTask.stateDir(stateDir, id));
            }
            io.spate.stream.store.StoreFactory stores = onDisk != null ? onDisk : io.spate.stream.store.InMemoryStores.INSTANCE;
            io.spate.stream.engine.Task task = CodeLoader.call(codeLoader,
                    () -> d.compiled.createTask(id.subTopology(), id.partition(), stores));
            StandbyTask standby = new StandbyTask(id, d.spec.generation(), task, onDisk, settings.guarantee() == Guarantee.EXACTLY_ONCE,
                    settings.batchMaxBytes(), localPartition, codeLoader, committedPositions(d, task), System::currentTimeMillis);
            standbys.put(id, standby);
            log.info("{} starts here", standby);
        } catch (RuntimeException | LinkageError e) {
            if (onDisk != null) {
                try {
                    onDisk.close();
                } catch (RuntimeException ignored) {
                    // its directory is deleted all the same
                }
            }
            standbyFailedAt.put(id, now);
            log.warn("task {}: its standby cannot be made here; trying again in {} ms", id, STANDBY_RETRY_MS, e);
        }
    }

    /**
     * How a standby of {@code task} reads its source tables' committed input positions: through a
     * position store of the pipeline's own for standbys, so that a slow read never holds up the
     * tasks' commits and starts.
     */
    private StandbyTask.CommittedPositions committedPositions(Deployment d, io.spate.stream.engine.Task task) {
        boolean sourceTables = task.changelogTopics().values().stream().anyMatch(task.inputTopics()::contains);
        if (!sourceTables) {
            return inputs -> CompletableFuture.completedFuture(Map.of());
        }
        if (d.standbyPositions == null) {
            // Not asking for stable offsets: while a task's transaction holds offsets not yet committed, a
            // stable read waits (KIP-447), and exactly-once tasks commit every interval. The last committed
            // offsets are enough here: never past what the next task restores to, only a little behind.
            d.standbyPositions = new PositionStore(bootstrap, d.spec.name(), false);
        }
        PositionStore store = d.standbyPositions;
        return inputs -> CompletableFuture.supplyAsync(() -> {
            Map<TopicPartition, Long> offsets = new HashMap<>();
            store.committed(inputs, Duration.ofMillis(STANDBY_COMMITTED_TIMEOUT_MS)).forEach((tp, position) -> offsets.put(tp, position.offset()));
            return offsets;
        }, runnable -> Thread.ofVirtual().name("spate-standby-positions").start(runnable));
    }

    /** On the standby thread: each standby applies what its changelogs gained; one that cannot is dropped. */
    private void catchUpStandbys() {
        for (StandbyTask standby : standbys.values()) {
            if (closed) {
                return;
            }
            try {
                standby.catchUp();
            } catch (Throwable e) {
                // Any throwable: one escaping would end this scheduled loop, and every standby here
                // would go stale while still reported and handed over.
                standby.close();
                log.warn("{} failed and stops here; made again in {} ms if still wanted", standby, STANDBY_RETRY_MS, e);
                onDecisions(() -> {
                    if (standbys.get(standby.id()) == standby) {
                        dropStandby(standby);
                        standbyFailedAt.put(standby.id(), System.currentTimeMillis());
                    }
                });
            }
        }
    }

    /** The standby of a task about to start here, handed over (its stores then belong to the task), or null. */
    private StandbyTask.Warm takeStandby(TaskId id, Deployment d) {
        StandbyTask standby = standbys.get(id);
        if (standby == null) {
            return null;
        }
        StandbyTask.Warm warm = standby.generation() == d.spec.generation() ? standby.handOver() : null;
        dropStandby(standby); // nothing to close once handed over
        return warm;
    }

    /** Closes a standby here and takes its report back (a pipeline deleted takes back every report anyway). */
    private void dropStandby(StandbyTask standby) {
        TaskId id = standby.id();
        standbys.remove(id, standby);
        standby.close();
        String key = CatalogRecords.standbyKey(id.pipeline(), id.subTopology(), id.partition(), nodeId);
        if (published.getOrDefault(id.pipeline(), Set.of()).contains(key)) {
            tombstone(key);
        }
    }

    private static ClassLoader codeLoader(Deployment d) {
        return d.loaded.loader() != null ? d.loaded.loader() : ProcessingRuntime.class.getClassLoader();
    }

    private void start(TaskId id, Deployment d) {
        TaskRunner[] self = new TaskRunner[1];
        TopicPartition anchor = null;
        for (TaskPlacement.Anchored a : d.anchored) {
            if (a.subTopology() == id.subTopology()) {
                anchor = new TopicPartition(a.anchorTopic(), id.partition());
            }
        }
        TopicPartition anchorPartition = anchor;
        ClassLoader codeLoader = codeLoader(d);
        TaskRunner runner = new TaskRunner(id, d.spec.generation(), d.compiled, d.spec.parsedSettings(), environment(d), d.positions, codeLoader,
                () -> {
                    Partition partition = anchorPartition == null ? null : localPartition.apply(anchorPartition);
                    return partition != null && partition.isLeader();
                },
                ending -> onDecisions(() -> ended(id, self[0], d, ending)), takeStandby(id, d));
        self[0] = runner;
        running.put(id, runner);
        allRunners.add(runner);
        d.liveTasks++;
        runner.start();
        log.info("task {} starts here", id);
    }

    private void stop(TaskId id, TaskRunner runner) {
        running.remove(id);
        // One abandoned in the pipeline's code may still return from it, with its stores open, and
        // write its results and positions: no new instance starts here until its thread has ended.
        if (!runner.hasEnded()) {
            stopping.put(id, runner);
        }
        runner.stop();
        log.info("task {} stops here", id);
    }

    /** A task's thread ended: free its place, close what it used if its deployment is gone, start it again if it should run. */
    private void ended(TaskId id, TaskRunner runner, Deployment d, TaskRunner.Ending ending) {
        stopping.remove(id, runner);
        allRunners.remove(runner);
        d.liveTasks--;
        boolean current = running.get(id) == runner;
        if (current && ending != TaskRunner.Ending.FAILED) {
            // Fenced, or no longer leading: not this node's to run unless leadership says so again.
            running.remove(id);
        }
        if (current && ending == TaskRunner.Ending.FAILED) {
            publish(CatalogRecords.statusKey(id.pipeline(), id.subTopology(), id.partition()), runner.report(System.currentTimeMillis()));
        }
        if (!deployments.containsKey(id.pipeline()) && !specs.containsKey(id.pipeline())) {
            // Deleted: its report goes once the task has really stopped.
            tombstone(CatalogRecords.statusKey(id.pipeline(), id.subTopology(), id.partition()));
            try {
                // Its tasks deleted their own state directories; the last one to end takes the pipeline's.
                java.nio.file.Files.deleteIfExists(stateDir.resolve(id.pipeline()));
            } catch (java.io.IOException e) {
                // not empty yet (a task still ending), or not deletable: the next start of the node clears it
            }
        }
        closeIfDone(d);
        if (ending == TaskRunner.Ending.FENCED) {
            // Give the metadata a moment to tell this node where the leadership went.
            decisions.schedule(() -> guarded(this::reconcile), 1, TimeUnit.SECONDS);
        } else {
            reconcile();
        }
    }

    private TaskEnvironment environment(Deployment d) {
        return new TaskEnvironment(nodeId, bootstrap, localPartition, parkedReads, d.producer,
                extra -> new KafkaProducer<>(producerConfig(extra), new ByteArraySerializer(), new ByteArraySerializer()),
                System::currentTimeMillis, stateDir, tables);
    }

    /** Where pipelines' {@code toTable} writes go from now on (the node's tables, once they run). */
    public void useTables(TableWrites tables) {
        this.tables = tables;
    }

    /** Stops {@code pipeline}'s tasks here; their reports say PAUSED under the new generation, or go once the tasks end ({@code next} null: deleted). */
    private void stopTasks(String pipeline, PipelineSpec next) {
        long now = System.currentTimeMillis();
        for (TaskId id : List.copyOf(running.keySet())) {
            if (id.pipeline().equals(pipeline)) {
                TaskRunner runner = running.get(id);
                if (next == null || !next.paused()) {
                    // Deleted or redeployed: its stores on disk are of no use to a next start.
                    runner.stopAndDiscardState();
                }
                stop(id, runner);
                if (next != null && next.paused()) {
                    TaskStatus last = runner.report(now);
                    publish(CatalogRecords.statusKey(id.pipeline(), id.subTopology(), id.partition()), new TaskStatus(last.pipeline(),
                            last.subTopology(), last.partition(), nodeId, "PAUSED", next.generation(), last.recordsProcessed(), last.inputLag(),
                            0, 0, 0, 0, last.lateRecords(), last.restores(), last.lastRestoreMs(), last.restoredRecords(), last.failures(), "", now,
                            last.resultsInPlace(), last.resultsSent(), last.standbyRecords()));
                }
            }
        }
        Set<String> mine = published.getOrDefault(pipeline, Set.of());
        for (String key : List.copyOf(mine)) {
            boolean ofARunningTask = false;
            for (TaskId id : stopping.keySet()) {
                ofARunningTask |= key.equals(CatalogRecords.statusKey(id.pipeline(), id.subTopology(), id.partition()));
            }
            if (next == null && !ofARunningTask) {
                tombstone(key);
            }
        }
        if (next == null) {
            tombstone(CatalogRecords.statusKey(pipeline, -1, nodeId));
        }
    }

    /** Publishes every task's report and fails those stuck in their pipeline's code. */
    private void report() {
        long now = System.currentTimeMillis();
        List<TaskStatus> reports = new ArrayList<>(running.size());
        for (TaskRunner runner : running.values()) {
            if (runner.stuck(now)
                    && runner.abandon("the pipeline's code did not return within task.timeout.ms; the task is failed (its thread may still run)", now)) {
                log.error("task {}: its micro-batch has been in the pipeline's code for longer than task.timeout.ms; failed", runner.id());
            }
            TaskStatus status = runner.report(now);
            reports.add(status);
            publish(CatalogRecords.statusKey(status.pipeline(), status.subTopology(), status.partition()), status);
        }
        lastReports = List.copyOf(reports);
        for (TaskRunner runner : List.copyOf(stopping.values())) {
            // Stopped (paused, redeployed, handed over) while in the pipeline's code: watched all the
            // same. Unwatched, code blocked in a call an interrupt would end stayed there, and the
            // task never started on this node again, nor could its pipeline be deleted (found by review).
            if (runner.stuck(now)
                    && runner.abandon("the pipeline's code did not return within task.timeout.ms while the task was stopping; failed", now)) {
                log.error("task {}: stopping, its micro-batch has been in the pipeline's code for longer than task.timeout.ms; failed",
                        runner.id());
            }
        }
        reportHeldBack(now);
        for (StandbyTask standby : standbys.values()) {
            TaskId id = standby.id();
            publish(CatalogRecords.standbyKey(id.pipeline(), id.subTopology(), id.partition(), nodeId), standby.report(nodeId, now));
        }
        for (Deployment d : deployments.values()) {
            if (d.failure != null) {
                // A pipeline that cannot run here is told under this node's key of it.
                publish(CatalogRecords.statusKey(d.spec.name(), -1, nodeId), new TaskStatus(d.spec.name(), -1, -1, nodeId, "FAILED",
                        d.spec.generation(), 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 1, d.failure, now, 0, 0, 0));
            }
        }
    }

    /**
     * A task wanted here again (resumed, redeployed, led again) that cannot start while an instance
     * abandoned in the pipeline's code has not returned: reported FAILED under the current
     * generation, which is what {@code describe} shows, rather than not at all.
     */
    private void reportHeldBack(long now) {
        for (Map.Entry<TaskId, TaskRunner> held : stopping.entrySet()) {
            TaskId id = held.getKey();
            Deployment d = deployments.get(id.pipeline());
            if (!held.getValue().failedForGood() || running.containsKey(id) || d == null || !d.ready() || !led.contains(anchorOf(id))) {
                continue;
            }
            TaskStatus last = held.getValue().report(now);
            publish(CatalogRecords.statusKey(id.pipeline(), id.subTopology(), id.partition()), new TaskStatus(last.pipeline(),
                    last.subTopology(), last.partition(), nodeId, "FAILED", d.spec.generation(), last.recordsProcessed(), last.inputLag(),
                    0, 0, 0, 0, last.lateRecords(), last.restores(), last.lastRestoreMs(), last.restoredRecords(), last.failures(),
                    "an earlier instance of the task has not returned from the pipeline's code; the task starts here once it has: "
                            + last.error(), now, last.resultsInPlace(), last.resultsSent(), last.standbyRecords()));
        }
    }

    /** Sends a report on the status thread: a slow status topic never holds up a decision. */
    private void publish(String key, TaskStatus status) {
        if (statusProducer == null) {
            return;
        }
        published.computeIfAbsent(status.pipeline(), p -> new HashSet<>()).add(key);
        byte[] value = CatalogRecords.encode(status);
        send(key, value);
    }

    private void tombstone(String key) {
        if (statusProducer == null) {
            return;
        }
        String pipeline = key.substring(0, key.indexOf('/'));
        Set<String> keys = published.get(pipeline);
        if (keys != null) {
            keys.remove(key);
        }
        send(key, null);
    }

    private void send(String key, byte[] value) {
        try {
            statusSender.execute(() -> {
                try {
                    statusProducer.send(new ProducerRecord<>(CatalogRecords.STATUS_TOPIC, 0, key, value));
                } catch (RuntimeException e) {
                    log.debug("processing: a status report was not sent", e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** The reports of the tasks running here, as of the last report round (at most a second old): for the node's metrics. */
    public List<TaskStatus> taskReports() {
        return lastReports;
    }

    /** The tasks running here now (for the embedded API and tests). */
    public Set<TaskId> runningTasks() throws Exception {
        return decisions.submit(() -> Set.copyOf(running.keySet())).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        List<TaskRunner> stoppingNow = new ArrayList<>();
        List<Deployment> deployed = new ArrayList<>();
        try {
            decisions.submit(() -> {
                closed = true;
                deployed.addAll(deployments.values());
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            closed = true;
        }
        // Every task ever started that may still run, stopped together and awaited against one deadline.
        stoppingNow.addAll(allRunners);
        stoppingNow.forEach(TaskRunner::stop);
        long deadline = System.currentTimeMillis() + 10_000;
        for (TaskRunner runner : stoppingNow) {
            try {
                runner.awaitStopped(deadline - System.currentTimeMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (catalogConsumer != null) {
            catalogConsumer.wakeup();
        }
        if (catalogReader != null) {
            catalogReader.interrupt();
            try {
                catalogReader.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (ExecutorService executor : List.of(decisions, setup, statusSender, standbyWorker)) {
            executor.shutdown();
            // A standby's catch-up reads the node's logs: interrupted, it would close their files
            // (ClosedByInterruptException). It sees the runtime closed and stops by itself.
            boolean interruptible = executor != standbyWorker;
            try {
                if (!executor.awaitTermination(2, TimeUnit.SECONDS) && interruptible) {
                    executor.shutdownNow();
                }
            } catch (InterruptedException e) {
                if (interruptible) {
                    executor.shutdownNow();
                }
                Thread.currentThread().interrupt();
            }
        }
        standbys.values().forEach(StandbyTask::close);
        standbys.clear();
        for (Deployment d : deployed) {
            closeResources(d.producer, d.positions, d.standbyPositions, d.loaded);
        }
        synchronized (this) {
            if (statusProducer != null) {
                statusProducer.close(Duration.ofSeconds(2));
            }
            if (admin != null) {
                admin.close(Duration.ofSeconds(2));
            }
        }
    }
}
