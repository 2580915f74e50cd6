package io.spate.processing;

import java.util.regex.Pattern;

/** The names a pipeline's resources get: its consumer group, its tasks' transactional ids, its topics' prefix. */
public final class PipelineNames {
    /** Topic-name characters only: a pipeline's name starts the names of its internal topics. */
    private static final Pattern VALID = Pattern.compile("[a-zA-Z0-9._-]{1,120}");

    private PipelineNames() {
    }

    public static void validate(String name) {
        if (!VALID.matcher(name).matches()) {
            throw new IllegalArgumentException("a pipeline name is 1 to 120 of a-z, A-Z, 0-9, '.', '_' and '-'; got '" + name + "'");
        }
    }

    /** The consumer group whose committed offsets are the pipeline's input positions: visible to `spate groups` and Kafka's tools. */
    public static String group(String pipeline) {
        return "spate-pipeline-" + pipeline;
    }

    /**
     * One per task, stable across nodes, so that a task's new node fences its old one (exactly-once).
     * Named by the task's anchor topic, not its sub-topology's number: a redeploy that renumbers the
     * sub-topologies still fences the old generation's instance of the same task.
     */
    public static String transactionalId(String pipeline, String anchorTopic, int partition) {
        return "spate-pipeline-" + pipeline + "-" + anchorTopic + "-" + partition;
    }
}
