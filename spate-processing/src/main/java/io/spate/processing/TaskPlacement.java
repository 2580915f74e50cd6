package io.spate.processing;

import org.apache.kafka.common.TopicPartition;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where tasks run, decided from leadership alone: task (s, p) runs on the node that leads
 * partition p of sub-topology s's anchor, its first input topic. Every node reaches the same
 * answer from the same metadata with no placement state of its own, and a task follows its
 * partition's leadership wherever it moves (failover, hand-over, reassignment).
 */
public final class TaskPlacement {
    /** A sub-topology as placement sees it. */
    public record Anchored(String pipeline, int subTopology, String anchorTopic) {
    }

    private TaskPlacement() {
    }

    /** The tasks this node runs: one per partition of each anchor topic that {@code led} holds. */
    public static Set<TaskId> tasksHere(Collection<Anchored> subTopologies, Set<TopicPartition> led) {
        Set<TaskId> tasks = new TreeSet<>();
        for (Anchored s : subTopologies) {
            for (TopicPartition tp : led) {
                if (tp.topic().equals(s.anchorTopic())) {
                    tasks.add(new TaskId(s.pipeline(), s.subTopology(), tp.partition()));
                }
            }
        }
        return tasks;
    }

    /**
     * Where {@code node} stands among the followers that may keep a standby of a task anchored on
     * a partition led by {@code leader}: its place among the in-sync followers, in the in-sync
     * set's order, which is the order the controller picks a new leader in when the leader fails
     * (so the first standby is on the node the task moves to). -1 when it is not an in-sync
     * follower: a replica out of sync cannot be elected cleanly, and a fenced node has left the
     * set, so the standby moves on to the next follower in sync.
     */
    public static int standbyRank(List<Integer> isr, int leader, int node) {
        if (node == leader) {
            return -1;
        }
        int rank = 0;
        for (int replica : isr) {
            if (replica == node) {
                return rank;
            }
            if (replica != leader) {
                rank++;
            }
        }
        return -1;
    }

    /** The anchor of a sub-topology reading {@code inputTopics} (first one named). */
    public static String anchor(List<String> inputTopics) {
        if (inputTopics.isEmpty()) {
            throw new IllegalArgumentException("a sub-topology without inputs");
        }
        return inputTopics.get(0);
    }
}
