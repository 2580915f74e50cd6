package io.spate.processing;

import io.spate.stream.engine.CompiledPipeline;
import io.spate.stream.engine.InternalTopic;
import io.spate.stream.engine.SubTopology;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The topics a pipeline needs besides its inputs: its outputs, repartition and changelog topics,
 * all with as many partitions as its inputs (partition p of each belongs with input partition p)
 * and the inputs' replication factor; changelogs compacted. Internal topics, and outputs when
 * created here, are co-located: partition p is placed on the replicas of input partition p, led
 * by the same node (the topic config spate.colocate.with); a changelog goes next to the anchor of
 * the sub-topology that keeps the store, where the task that restores it runs.
 */
public final class PipelineTopics {
    /** Spate's topic config asking for the placement of another topic's partitions (io.spate.log.LogConfig.COLOCATE_WITH). */
    public static final String COLOCATE_CONFIG = io.spate.log.LogConfig.COLOCATE_WITH;

    private PipelineTopics() {
    }

    /** {@link #ensure(Admin, CompiledPipeline, Duration)} with 30 s a request. */
    public static int ensure(Admin admin, CompiledPipeline pipeline) throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        return ensure(admin, pipeline, Duration.ofSeconds(30));
    }

    /**
     * Creates what is missing; checks that the inputs exist and agree on their partition count.
     * Returns the count. Each request to the cluster is given {@code step} (topic creation twice
     * that: it waits for the partitions' leaders).
     */
    public static int ensure(Admin admin, CompiledPipeline pipeline, Duration step)
            throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        long stepMs = step.toMillis();
        Map<String, TopicDescription> sources;
        try {
            sources = admin.describeTopics(pipeline.sourceTopics()).allTopicNames().get(stepMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalArgumentException("pipeline " + pipeline.name() + " reads " + pipeline.sourceTopics()
                        + ", and not all of them exist: create its input topics first", e.getCause());
            }
            throw e;
        }
        int partitions = -1;
        short factor = 1;
        String anchor = null;
        for (String topic : pipeline.sourceTopics()) {
            TopicDescription d = sources.get(topic);
            if (partitions == -1) {
                partitions = d.partitions().size();
                factor = (short) d.partitions().get(0).replicas().size();
                anchor = topic;
            } else if (d.partitions().size() != partitions) {
                throw new IllegalArgumentException("the inputs of pipeline " + pipeline.name() + " must have the same number of partitions"
                        + " (records with the same key meet in the same task): " + anchor + " has " + partitions + ", " + topic + " has "
                        + d.partitions().size());
            }
        }
        // Which sub-topology keeps each changelog: it goes where that sub-topology's anchor is.
        Map<String, String> changelogAnchor = new HashMap<>();
        for (SubTopology sub : pipeline.subTopologies()) {
            for (String store : sub.stores()) {
                changelogAnchor.put(pipeline.name() + "-" + store + "-changelog", TaskPlacement.anchor(sub.inputTopics()));
            }
        }
        // Two rounds: a changelog may belong next to a repartition topic, which must exist first.
        Map<String, NewTopic> first = new LinkedHashMap<>();
        Map<String, NewTopic> second = new LinkedHashMap<>();
        for (String sink : pipeline.sinkTopics()) {
            first.put(sink, topic(sink, partitions, factor, anchor, false));
        }
        for (InternalTopic internal : pipeline.internalTopics()) {
            String with = changelogAnchor.getOrDefault(internal.name(), anchor);
            NewTopic topic = topic(internal.name(), partitions, factor, with, internal.compacted());
            // A repartition record's timestamp is its stream time downstream, and a restore takes a
            // task's stream time from its changelog's: neither may be replaced by the append time,
            // whatever the node's log.message.timestamp.type (Kafka Streams pins it the same way).
            topic.configs().put("message.timestamp.type", "CreateTime");
            (with.equals(anchor) ? first : second).put(internal.name(), topic);
        }
        Map<String, TopicDescription> existing = new HashMap<>();
        List<String> names = new ArrayList<>(first.keySet());
        names.addAll(second.keySet());
        names.removeAll(pipeline.sourceTopics());
        java.util.Set<String> listed = admin.listTopics().names().get(stepMs, TimeUnit.MILLISECONDS);
        names.removeIf(n -> !listed.contains(n));
        if (!names.isEmpty()) {
            existing.putAll(admin.describeTopics(names).allTopicNames().get(stepMs, TimeUnit.MILLISECONDS));
        }
        for (TopicDescription d : existing.values()) {
            boolean internal = pipeline.internalTopics().stream().anyMatch(t -> t.name().equals(d.name()));
            if (internal && d.partitions().size() != partitions) {
                throw new IllegalArgumentException("pipeline " + pipeline.name() + "'s topic " + d.name() + " has " + d.partitions().size()
                        + " partitions and its inputs " + partitions + ": task p keeps its state in partition p (delete the pipeline"
                        + " with its state, or its topic, to start over)");
            }
        }
        pinCreateTime(admin, existing.keySet().stream()
                .filter(n -> pipeline.internalTopics().stream().anyMatch(t -> t.name().equals(n))).toList(), stepMs);
        for (Map<String, NewTopic> round : List.of(first, second)) {
            round.keySet().removeAll(existing.keySet());
            round.keySet().removeAll(pipeline.sourceTopics());
            if (round.isEmpty()) {
                continue;
            }
            try {
                admin.createTopics(round.values()).all().get(2 * stepMs, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
        return partitions;
    }

    /** Internal topics made before they were created with CreateTime, on a node whose default is LogAppendTime, are set to it. */
    private static void pinCreateTime(Admin admin, List<String> internal, long stepMs)
            throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        if (internal.isEmpty()) {
            return;
        }
        List<org.apache.kafka.common.config.ConfigResource> resources = internal.stream()
                .map(n -> new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, n)).toList();
        Map<org.apache.kafka.common.config.ConfigResource, java.util.Collection<org.apache.kafka.clients.admin.AlterConfigOp>> changes =
                new HashMap<>();
        admin.describeConfigs(resources).all().get(stepMs, TimeUnit.MILLISECONDS).forEach((resource, config) -> {
            org.apache.kafka.clients.admin.ConfigEntry type = config.get("message.timestamp.type");
            if (type != null && !"CreateTime".equals(type.value())) {
                changes.put(resource, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                        new org.apache.kafka.clients.admin.ConfigEntry("message.timestamp.type", "CreateTime"),
                        org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)));
            }
        });
        if (!changes.isEmpty()) {
            admin.incrementalAlterConfigs(changes).all().get(stepMs, TimeUnit.MILLISECONDS);
        }
    }

    private static NewTopic topic(String name, int partitions, short factor, String anchor, boolean compacted) {
        Map<String, String> configs = new HashMap<>();
        configs.put(COLOCATE_CONFIG, anchor);
        if (compacted) {
            configs.put("cleanup.policy", "compact");
        }
        return new NewTopic(name, partitions, factor).configs(configs);
    }
}
