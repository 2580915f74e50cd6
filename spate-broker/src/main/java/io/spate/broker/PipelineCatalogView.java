package io.spate.broker;

import io.spate.http.NodeAdmin;
import io.spate.processing.CatalogRecords;
import io.spate.processing.PipelineSpec;
import io.spate.processing.TaskStatus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The pipelines and their tasks' last reports as {@code spate pipeline describe} tells them (the
 * catalog and status topics), for {@code /admin/pipelines} and the console, which asks every 3 s.
 * Both topics are followed, so a look reads only what changed since the last one: the jars in the
 * catalog pass once, as they are deployed, and are not kept.
 */
final class PipelineCatalogView implements AutoCloseable {
    /** As long as {@code PipelineAdmin} waits for a read of these topics. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final CompactedTopicFollower catalog;
    private final CompactedTopicFollower status;

    PipelineCatalogView(String bootstrap, int nodeId) {
        this.catalog = new CompactedTopicFollower(bootstrap, "spate-admin-pipelines-" + nodeId, CatalogRecords.CATALOG_TOPIC,
                key -> key.startsWith(CatalogRecords.PIPELINE_PREFIX));
        // A standby's report is not a task's (the page lists tasks; PipelineAdmin leaves standbys out of them too).
        this.status = new CompactedTopicFollower(bootstrap, "spate-admin-pipeline-status-" + nodeId, CatalogRecords.STATUS_TOPIC,
                key -> !key.contains("/standby/"));
    }

    /** Every pipeline, by name, with the reports of its tasks of its current generation. */
    List<NodeAdmin.Pipeline> pipelines() {
        List<PipelineSpec> specs = new ArrayList<>();
        catalog.table(TIMEOUT).values().forEach(value -> specs.add(CatalogRecords.decodeSpec(value)));
        specs.sort(Comparator.comparing(PipelineSpec::name));
        Map<String, byte[]> reports = status.table(TIMEOUT);
        List<NodeAdmin.Pipeline> answer = new ArrayList<>();
        for (PipelineSpec spec : specs) {
            answer.add(new NodeAdmin.Pipeline(spec.name(), spec.source(), spec.className(), spec.paused(), spec.generation(), spec.settings(),
                    tasks(spec, reports)));
        }
        return answer;
    }

    /** Catalog records read so far: a look at an unchanged catalog reads none. */
    long catalogRecordsRead() {
        return catalog.recordsRead();
    }

    private static List<NodeAdmin.Task> tasks(PipelineSpec spec, Map<String, byte[]> reports) {
        List<TaskStatus> tasks = new ArrayList<>();
        reports.forEach((key, value) -> {
            if (key.startsWith(spec.name() + "/")) {
                TaskStatus t = CatalogRecords.decodeStatus(value);
                // An older generation's report is of tasks that have stopped since.
                if (t.pipeline().equals(spec.name()) && t.generation() >= spec.generation()) {
                    tasks.add(t);
                }
            }
        });
        tasks.sort(Comparator.comparingInt(TaskStatus::subTopology).thenComparingInt(TaskStatus::partition).thenComparingInt(TaskStatus::node));
        return tasks.stream().map(t -> new NodeAdmin.Task(t.subTopology(), t.partition(), t.node(), t.state(), t.recordsProcessed(),
                t.inputLag(), t.recordsPerSecond(), t.latencyP50Us(), t.latencyP99Us(), t.restores(), t.failures(), t.error(),
                t.reportedAtMs())).toList();
    }

    @Override
    public void close() {
        try (status) {
            catalog.close();
        }
    }
}
