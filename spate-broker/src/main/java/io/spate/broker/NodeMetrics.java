package io.spate.broker;

import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import io.spate.log.LogManager;
import io.spate.log.TopicPartition;
import io.spate.processing.TaskStatus;
import io.spate.replication.Partition;
import io.spate.server.group.GroupCoordinator;
import io.spate.server.metadata.ClusterView;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.RequestMetrics;
import io.spate.server.partition.CountedRoleEvents;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The node's figures, in one registry of its own (several nodes may share a JVM in tests), served
 * by its HTTP server at {@code /metrics}: the JVM's (memory, GC, threads, classes, from the
 * Prometheus client's JVM instrumentation), the Kafka listener's requests ({@link KafkaRequestMetrics}),
 * partition health computed at scrape time from this node's metadata view, and the pipeline
 * tasks' last reports.
 */
final class NodeMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final KafkaRequestMetrics kafkaRequests;

    NodeMetrics() {
        // The JVM's figures are the process's, not a node's: instrumented once per JVM (the
        // instrumentation adds GC listeners it never removes), each node's scrape reads them.
        PrometheusRegistry jvm = JvmRegistry.INSTANCE;
        registry.register((MultiCollector) jvm::scrape);
        kafkaRequests = new KafkaRequestMetrics(registry);
    }

    /** The process's JVM figures, made on the first node's start. */
    private static final class JvmRegistry {
        static final PrometheusRegistry INSTANCE = new PrometheusRegistry();

        static {
            JvmMetrics.builder().register(INSTANCE);
        }
    }

    PrometheusRegistry registry() {
        return registry;
    }

    RequestMetrics kafkaRequests() {
        return kafkaRequests;
    }

    /**
     * Partition health, counted over every partition of {@code topics} as {@code view} tells it at
     * scrape time: led here; led here with an in-sync set smaller than its replicas (Kafka's
     * UnderReplicatedPartitions); with no leader. A node without its leader lease names no leader
     * at all (see {@link ClusterView#of}), so it counts every partition offline until it has it back.
     */
    void partitionHealth(TopicRegistry topics, ClusterView view, int localId) {
        GaugeWithCallback.builder()
                .name("spate_partitions_led")
                .help("Partitions this node leads")
                .callback(cb -> cb.call(count(topics, view, localId, Health.LED)))
                .register(registry);
        GaugeWithCallback.builder()
                .name("spate_partitions_under_replicated")
                .help("Partitions this node leads whose in-sync set is smaller than their replicas")
                .callback(cb -> cb.call(count(topics, view, localId, Health.UNDER_REPLICATED)))
                .register(registry);
        GaugeWithCallback.builder()
                .name("spate_partitions_offline")
                .help("Partitions with no leader, as this node's metadata tells")
                .callback(cb -> cb.call(count(topics, view, localId, Health.OFFLINE)))
                .register(registry);
    }

    /**
     * The pipeline tasks running here, from their last reports (at most a second old), labelled
     * by pipeline, sub-topology and input partition: records processed, input lag, p99 latency
     * (a record's timestamp to its micro-batch's outputs acknowledged).
     */
    void pipelineTasks(Supplier<List<TaskStatus>> reports) {
        CounterWithCallback.builder()
                .name("spate_pipeline_task_records_processed")
                .help("Records a pipeline task running here has processed")
                .labelNames("pipeline", "sub_topology", "partition")
                .callback(cb -> reports.get().forEach(r -> cb.call(r.recordsProcessed(), labels(r))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("spate_pipeline_task_input_lag_records")
                .help("Records in a pipeline task's input partitions past its position")
                .labelNames("pipeline", "sub_topology", "partition")
                .callback(cb -> reports.get().forEach(r -> cb.call(r.inputLag(), labels(r))))
                .register(registry);
        GaugeWithCallback.builder()
                .name("spate_pipeline_task_latency_p99")
                .unit(Unit.SECONDS)
                .help("99th percentile over a pipeline task's last report interval, from a record's timestamp to its outputs acknowledged")
                .labelNames("pipeline", "sub_topology", "partition")
                .callback(cb -> reports.get().forEach(r -> cb.call(r.latencyP99Us() / 1e6, labels(r))))
                .register(registry);
    }

    /** A copy of the tables' counters, taken on their event thread (they are that thread's alone). */
    private record TableFigures(long[][] latency, long[] counters, long hintsPending, double readRepairRate, long dropped) {
        static final String[] OPS = {"write", "read"};
        static final String[] COUNTERS = {"write_timeouts", "writes_unavailable", "read_timeouts", "reads_unavailable",
                "read_repairs_blocking", "read_repairs_background", "keys_read_repaired", "anti_entropy_sessions",
                "anti_entropy_in_sync", "anti_entropy_abandoned", "anti_entropy_keys_pushed", "anti_entropy_keys_pulled",
                "tombstones_collected", "hints_sent"};
        static final String[] HELP = {"Table writes coordinated here that timed out", "Table writes refused here: fewer than W replicas live",
                "Table reads coordinated here that timed out", "Table reads refused here: fewer than R replicas live",
                "Reads that repaired stale replicas before answering", "Reads that repaired stale replicas after answering",
                "Keys written back to replicas by read repair", "Anti-entropy sessions started here (one range, one peer)",
                "Anti-entropy sessions that found the range in sync", "Anti-entropy sessions abandoned (the peer did not answer in time)",
                "Keys anti-entropy pushed from here to peers", "Keys anti-entropy pulled here from peers",
                "Tombstones collected past their grace", "Hints delivered to replicas back up"};

        static TableFigures of(io.spate.tables.TableMetrics m, long hintsPending, long dropped) {
            io.spate.tables.Consistency[] levels = io.spate.tables.Consistency.values();
            long[][] latency = new long[2 * levels.length][];
            for (int i = 0; i < levels.length; i++) {
                var w = m.writeLatency(levels[i]);
                var r = m.readLatency(levels[i]);
                latency[i] = new long[]{w.count(), w.totalNanos(), w.maxNanos()};
                latency[levels.length + i] = new long[]{r.count(), r.totalNanos(), r.maxNanos()};
            }
            long[] counters = {m.writeTimeouts(), m.writesUnavailable(), m.readTimeouts(), m.readsUnavailable(), m.blockingReadRepairs(),
                    m.backgroundReadRepairs(), m.keysReadRepaired(), m.antiEntropySessions(), m.antiEntropyInSync(), m.antiEntropyAbandoned(),
                    m.keysPushedByAntiEntropy(), m.keysPulledByAntiEntropy(), m.tombstonesPurged(), m.hintsSent()};
            return new TableFigures(latency, counters, hintsPending, m.readRepairRate(), dropped);
        }
    }

    /**
     * The masterless tables' figures on this node, read at scrape time from its event thread:
     * requests it coordinated per operation and consistency (count, total and largest latency),
     * their timeouts and refusals, read repairs, anti-entropy sessions and keys, tombstones
     * collected, hints sent and pending, and messages the transport dropped.
     */
    void tables(io.spate.tables.service.TableService tables) {
        registry.register((MultiCollector) () -> {
            TableFigures f;
            try {
                f = tables.metrics(m -> TableFigures.of(m, 0, 0))
                        .thenCombine(tables.hintsPending(), (figures, hints) -> new TableFigures(figures.latency(), figures.counters(), hints,
                                figures.readRepairRate(), tables.messagesDropped()))
                        .get(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return MetricSnapshots.of();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                return MetricSnapshots.of(); // the tables are closing or their thread is busy: no figures this scrape
            }
            List<io.prometheus.metrics.model.snapshots.MetricSnapshot> out = new ArrayList<>();
            io.spate.tables.Consistency[] levels = io.spate.tables.Consistency.values();
            var count = io.prometheus.metrics.model.snapshots.CounterSnapshot.builder().name("spate_table_requests")
                    .help("Table requests this node coordinated and answered OK, by operation and consistency");
            var total = io.prometheus.metrics.model.snapshots.CounterSnapshot.builder().name("spate_table_request_duration_seconds")
                    .help("Summed latency of those requests");
            var max = GaugeSnapshot.builder().name("spate_table_request_duration_seconds_max")
                    .help("Largest latency of those requests since the node started");
            for (int op = 0; op < 2; op++) {
                for (int i = 0; i < levels.length; i++) {
                    long[] l = f.latency()[op * levels.length + i];
                    Labels labels = Labels.of("op", TableFigures.OPS[op], "consistency", levels[i].name().toLowerCase(java.util.Locale.ROOT));
                    count.dataPoint(io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot.builder()
                            .labels(labels).value(l[0]).build());
                    total.dataPoint(io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot.builder()
                            .labels(labels).value(l[1] / 1e9).build());
                    max.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(l[2] / 1e9).build());
                }
            }
            out.add(count.build());
            out.add(total.build());
            out.add(max.build());
            for (int i = 0; i < TableFigures.COUNTERS.length; i++) {
                out.add(io.prometheus.metrics.model.snapshots.CounterSnapshot.builder().name("spate_table_" + TableFigures.COUNTERS[i])
                        .help(TableFigures.HELP[i])
                        .dataPoint(io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot.builder()
                                .value(f.counters()[i]).build())
                        .build());
            }
            out.add(GaugeSnapshot.builder().name("spate_table_hints_pending").help("Hints this node holds for replicas that are down")
                    .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(f.hintsPending()).build()).build());
            out.add(GaugeSnapshot.builder().name("spate_table_read_repair_rate")
                    .help("Share of reads coordinated here that repaired a replica, since the node started")
                    .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(f.readRepairRate()).build()).build());
            out.add(io.prometheus.metrics.model.snapshots.CounterSnapshot.builder().name("spate_table_messages_dropped")
                    .help("Table messages to other nodes dropped: no endpoint known, a full queue, a connection that failed")
                    .dataPoint(io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot.builder()
                            .value(f.dropped()).build())
                    .build());
            return MetricSnapshots.of(out.toArray(new io.prometheus.metrics.model.snapshots.MetricSnapshot[0]));
        });
    }

    /** How long each fsync of appended data took (group commits, {@code flush.ms}, rolls, shutdown). */
    void fsyncs(LogManager logs) {
        Histogram fsync = Histogram.builder()
                .name("spate_log_fsync_duration")
                .withoutExemplars() // exemplars: no tracer to link them to, and their rate limiter woke a thread ~100 times a second
                .unit(Unit.SECONDS)
                .help("Time one fsync of a partition log's appended data took")
                .classicOnly()
                .classicExponentialUpperBounds(0.00005, 2, 19) // 50 µs to 13 s
                .register(registry);
        DistributionDataPoint point = fsync.labelValues();
        logs.observeFsyncs(nanos -> point.observe(nanos / 1e9));
    }

    /**
     * The metadata this node fetched from the controller leader (a node that is not a voter learns
     * every change so): whole images and updates made of the entries it missed, and their bytes.
     */
    void metadataFetches(Supplier<io.spate.cluster.MetadataLog.Fetched> fetched) {
        CounterWithCallback.builder()
                .name("spate_metadata_fetches")
                .help("Metadata fetched from the controller leader: a whole image, or the entries this node missed")
                .labelNames("kind")
                .callback(cb -> {
                    io.spate.cluster.MetadataLog.Fetched now = fetched.get();
                    cb.call(now.wholeImages(), "image");
                    cb.call(now.entryUpdates(), "entries");
                })
                .register(registry);
        CounterWithCallback.builder()
                .name("spate_metadata_fetches_passed_over")
                .help("Metadata fetches left waiting on a voter that no longer led, another sent to the voter answering heartbeats")
                .callback(cb -> cb.call(fetched.get().passedOver()))
                .register(registry);
        CounterWithCallback.builder()
                .name("spate_metadata_fetched_bytes")
                .help("Bytes of metadata fetched from the controller leader")
                .callback(cb -> cb.call(fetched.get().bytes()))
                .register(registry);
    }

    /** Leader elections won here and in-sync set changes of partitions led here, as the role decisions count them. */
    void roleChanges(CountedRoleEvents events) {
        CounterWithCallback.builder()
                .name("spate_leader_elections")
                .help("Times this node became a partition's leader, or led it again at a new leader epoch")
                .callback(cb -> cb.call(events.leaderships()))
                .register(registry);
        CounterWithCallback.builder()
                .name("spate_isr_shrinks")
                .help("In-sync set shrinks of partitions this node leads, as the metadata applied them (a follower fell behind or its node was fenced)")
                .callback(cb -> cb.call(events.isrShrinks()))
                .register(registry);
        CounterWithCallback.builder()
                .name("spate_isr_expands")
                .help("In-sync set expansions of partitions this node leads, as the metadata applied them (a follower caught up)")
                .callback(cb -> cb.call(events.isrExpands()))
                .register(registry);
    }

    /**
     * Consumer lag of the groups this node coordinates, computed at scrape time: per group, the
     * sum and the largest over its committed partitions of (high watermark - committed offset).
     * Only partitions with a replica on this node count (the high watermark of one held nowhere
     * here is not known without a request); a follower's high watermark trails its leader's by a
     * fetch at most.
     */
    void groupLag(GroupCoordinator groups, Function<TopicPartition, Partition> replicas) {
        // One collector for both metrics: a scrape asks every group's offsets once.
        registry.register((MultiCollector) () -> {
            GaugeSnapshot.Builder sum = GaugeSnapshot.builder().name("spate_consumer_group_lag_sum")
                    .help("Records behind the high watermark, summed over a group's committed partitions held on this node");
            GaugeSnapshot.Builder max = GaugeSnapshot.builder().name("spate_consumer_group_lag_max")
                    .help("Records behind the high watermark in a group's most lagging committed partition held on this node");
            for (GroupLag lag : groupLags(groups, replicas)) {
                Labels labels = Labels.of("group", lag.group());
                sum.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(lag.sum()).build());
                max.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(lag.max()).build());
            }
            return MetricSnapshots.of(sum.build(), max.build());
        });
    }

    private record GroupLag(String group, long sum, long max) {
    }

    private static List<GroupLag> groupLags(GroupCoordinator groups,
                                            Function<TopicPartition, Partition> replicas) {
        try {
            List<GroupLag> lags = new ArrayList<>();
            for (var group : groups.listGroups().get(2, TimeUnit.SECONDS)) {
                var committed = groups.fetchOffsets(group.groupId()).get(2, TimeUnit.SECONDS);
                long sum = 0;
                long max = 0;
                boolean any = false;
                for (var entry : committed.entrySet()) {
                    Partition replica = replicas.apply(new TopicPartition(entry.getKey().topic(), entry.getKey().partition()));
                    if (replica == null) {
                        continue;
                    }
                    long lag = Math.max(0, replica.log().highWatermark() - entry.getValue().offset());
                    sum += lag;
                    max = Math.max(max, lag);
                    any = true;
                }
                if (any) {
                    lags.add(new GroupLag(group.groupId(), sum, max));
                }
            }
            return lags;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        } catch (ExecutionException | TimeoutException e) {
            // Shards moving (a failover) or not loaded yet: this scrape shows no lag rather than failing.
            return List.of();
        }
    }

    private static String[] labels(TaskStatus report) {
        return new String[] {report.pipeline(), Integer.toString(report.subTopology()), Integer.toString(report.partition())};
    }

    private enum Health { LED, UNDER_REPLICATED, OFFLINE }

    private static int count(TopicRegistry topics, ClusterView view, int localId, Health health) {
        int n = 0;
        for (TopicInfo topic : topics.all()) {
            for (int p = 0; p < topic.partitions(); p++) {
                ClusterView.PartitionView partition = view.partition(topic.name(), p);
                if (partition == null) {
                    continue;
                }
                boolean led = partition.leader() == localId;
                boolean counts = switch (health) {
                    case LED -> led;
                    case UNDER_REPLICATED -> led && partition.underReplicated();
                    case OFFLINE -> partition.leader() < 0;
                };
                if (counts) {
                    n++;
                }
            }
        }
        return n;
    }
}
