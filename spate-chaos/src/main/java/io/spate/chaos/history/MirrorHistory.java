package io.spate.chaos.history;

import java.util.List;
import java.util.Map;

/**
 * The mirror pipelines' part of a run (the {@code pipeline} workload): Spate pipelines deployed at
 * the data, each copying the producers' topic record for record into its own output, partition p
 * into partition p. At the end, each output as a read_committed consumer reads it from its start
 * (records only: markers and aborted records left out), and where each task ran.
 *
 * @param mirrors one per pipeline deployed; empty: the workload did not run
 */
public record MirrorHistory(List<Mirror> mirrors) {

    public static final MirrorHistory NONE = new MirrorHistory(List.of());

    public boolean ran() {
        return !mirrors.isEmpty();
    }

    /**
     * @param name         the pipeline's name
     * @param exactlyOnce  its guarantee: exactly_once, or at_least_once
     * @param output       its output topic's records per partition, in offset order
     * @param tasks        the task of each input partition as last described
     */
    public record Mirror(String name, boolean exactlyOnce, Map<Integer, List<String>> output, List<TaskSeen> tasks) {
    }

    /**
     * @param partition the input partition
     * @param node      the node the task reported from; -1: no task reported
     * @param state     its state (RUNNING, RESTORING, FAILED ...), or "-"
     * @param leader    the input partition's leader when the tasks were described; -1: none
     */
    public record TaskSeen(int partition, int node, String state, int leader) {
        public boolean runningOnLeader() {
            return "RUNNING".equals(state) && node >= 0 && node == leader;
        }
    }
}
