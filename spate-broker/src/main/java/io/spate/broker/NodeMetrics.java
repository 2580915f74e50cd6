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

    /** How long each fsync of appended data took (group commits, {@code flush.ms}, rolls, shutdown). */
    void fsyncs(LogManager logs) {
        Histogram fsync = Histogram.builder()
                .name("spate_log_fsync_duration")
                .unit(Unit.SECONDS)
                .help("Time one fsync of a partition log's appended data took")
                .classicOnly()
                .classicExponentialUpperBounds(0.00005, 2, 19) // 50 µs to 13 s
                .register(registry);
        DistributionDataPoint point = fsync.labelValues();
        logs.observeFsyncs(nanos -> point.observe(nanos / 1e9));
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
                    case UNDER_REPLICATED -> led && partition.isr().size() < partition.replicas().size();
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
