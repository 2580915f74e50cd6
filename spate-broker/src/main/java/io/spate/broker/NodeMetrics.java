package io.spate.broker;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.snapshots.Unit;
import io.spate.processing.TaskStatus;
import io.spate.server.metadata.ClusterView;
import io.spate.server.metadata.TopicInfo;
import io.spate.server.metadata.TopicRegistry;
import io.spate.server.network.RequestMetrics;

import java.util.List;
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
