package io.spate.chaos.history;

import java.util.List;
import java.util.Map;

/**
 * The mirror pipelines' part of a run (the {@code pipeline} workload): Spate pipelines deployed at
 * the data, each copying the producers' topic record for record into its own output, partition p
 * into partition p. At the end, each output as a read_committed consumer reads it from its start
 * (records only: markers and aborted records left out), and where each task ran.
 *
 * Beside them, the stateful count per writer ({@code CountPipeline}): its output as read the same way.
 *
 * @param mirrors one per mirror deployed; empty: the workload did not run
 * @param counts  one per count deployed
 */
public record MirrorHistory(List<Mirror> mirrors, List<Count> counts) {

    public static final MirrorHistory NONE = new MirrorHistory(List.of(), List.of());

    /** Mirrors without a count (histories written before the count ran). */
    public MirrorHistory(List<Mirror> mirrors) {
        this(mirrors, List.of());
    }

    public boolean ran() {
        return !mirrors.isEmpty();
    }

    /**
     * The exactly-once count per writer, through a repartition topic, with a standby.
     *
     * @param name       the pipeline's name
     * @param stateStore its {@code state.store}: in_memory or rocksdb
     * @param output     its output's values ({@code w-N=COUNT}) per partition, in offset order
     */
    public record Count(String name, String stateStore, Map<Integer, List<String>> output) {
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
