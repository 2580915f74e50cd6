package io.spate.broker.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

/**
 * {@code spate cluster drain --node N --cancel}: cancels the running moves that take replicas off
 * node N (Kafka's cancel, an empty reassignment: each partition goes back to its replicas from
 * before the move). A drain stopped with Ctrl-C or by its --timeout leaves its moves running, and
 * every later drain is refused until they end.
 */
final class DrainCancel {
    private DrainCancel() {
    }

    static int offNode(Admin admin, int node, PrintWriter out) throws Exception {
        Map<TopicPartition, Optional<NewPartitionReassignment>> cancels = new LinkedHashMap<>();
        admin.listPartitionReassignments().reassignments().get().forEach((tp, move) -> {
            if (move.removingReplicas().contains(node)) {
                cancels.put(tp, Optional.empty());
            }
        });
        if (cancels.isEmpty()) {
            out.println("no move off node " + node + " is running");
            return 0;
        }
        List<String> cancelled = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Map.Entry<TopicPartition, KafkaFuture<Void>> e : admin.alterPartitionReassignments(cancels).values().entrySet()) {
            try {
                e.getValue().get();
                cancelled.add(e.getKey().toString());
            } catch (ExecutionException failure) {
                failed.add(e.getKey() + " (" + failure.getCause().getMessage() + ")");
            }
        }
        if (!cancelled.isEmpty()) {
            out.println("cancelled " + cancelled.size() + " move(s) off node " + node + ": " + String.join(", ", cancelled));
        }
        if (!failed.isEmpty()) {
            throw new GroupsCommand.Failure("could not cancel " + failed.size() + " move(s): " + String.join(", ", failed));
        }
        return 0;
    }

    /** How to cancel the running moves, for a drain refused because of them ("" when none takes a replica off a node). */
    static String hint(Collection<PartitionReassignment> running, String bootstrap) {
        TreeSet<Integer> from = new TreeSet<>();
        running.forEach(move -> from.addAll(move.removingReplicas()));
        if (from.isEmpty()) {
            return "";
        }
        return ", or cancel them: " + from.stream().map(n -> "`spate cluster drain --node " + n + " --cancel --bootstrap-server " + bootstrap + "`")
                .collect(Collectors.joining(", ")) + " (kafka-reassign-partitions.sh --cancel works too)";
    }
}
