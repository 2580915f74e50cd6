package io.spate.broker.cli;

import io.spate.broker.cli.ClusterCommand.Layout;
import io.spate.broker.cli.ClusterCommand.Node;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

/** {@code spate cluster status}: each node's ports, process and roles. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"One line per node: its id, Kafka port, controller port ('-' if not a voter), pid, whether its process is alive, "
                + "whether it leads the controller quorum, and how many partitions it leads (internal topics included).",
                "When no node answers, the pids and liveness are still shown. Exit codes: 0 the cluster answered; 1 it is not reachable; "
                        + "2 no cluster in DIR."})
final class ClusterCommandStatus extends ClusterCommand.Sub {
    @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "5000",
            description = "How long to wait for an answer from the cluster (default: ${DEFAULT-VALUE}).")
    int timeoutMs;

    @Override
    int execute() throws Exception {
        Path dir = dir();
        Layout layout = layout();
        Map<Integer, Optional<Long>> pids = new HashMap<>();
        Set<Integer> alive = new TreeSet<>();
        for (Node node : layout.nodes()) {
            pids.put(node.id(), ClusterCommand.recordedPid(dir, node));
            if (ClusterCommand.liveProcess(dir, node).isPresent()) {
                alive.add(node.id());
            }
        }

        String unreachable = null;
        Integer controller = null;
        Set<Integer> registered = null;
        Map<Integer, Integer> leaders = null;
        String leadersError = null;
        int topics = 0;
        int partitions = 0;
        if (alive.isEmpty()) {
            unreachable = "no node is running";
        } else {
            String bootstrap = layout.nodes().stream().filter(n -> alive.contains(n.id())).map(Node::bootstrap)
                    .collect(Collectors.joining(","));
            Admin admin = ClusterCommand.admin(bootstrap, Math.max(1, timeoutMs), Math.max(1, Math.min(3_000, timeoutMs)));
            try {
                try {
                    DescribeClusterResult cluster = admin.describeCluster();
                    registered = new TreeSet<>();
                    for (org.apache.kafka.common.Node n : cluster.nodes().get()) {
                        registered.add(n.id());
                    }
                    org.apache.kafka.common.Node c = cluster.controller().get();
                    controller = c == null || c.id() < 0 ? null : c.id();
                } catch (ExecutionException e) {
                    unreachable = "no node answered (" + ClusterCommand.explain(e) + ")";
                }
                if (unreachable == null) {
                    try {
                        Set<String> names = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
                        Map<String, TopicDescription> described = names.isEmpty() ? Map.of()
                                : admin.describeTopics(names).allTopicNames().get();
                        leaders = new HashMap<>();
                        topics = described.size();
                        for (TopicDescription topic : described.values()) {
                            for (TopicPartitionInfo p : topic.partitions()) {
                                partitions++;
                                if (p.leader() != null && p.leader().id() >= 0) {
                                    leaders.merge(p.leader().id(), 1, Integer::sum);
                                }
                            }
                        }
                    } catch (ExecutionException e) {
                        leadersError = ClusterCommand.explain(e);
                    }
                }
            } finally {
                admin.close(Duration.ofMillis(500));
            }
        }

        out().printf("cluster in %s: %d node%s, controller quorum on node%s %s, bootstrap %s%n", dir, layout.nodes().size(),
                layout.nodes().size() == 1 ? "" : "s", layout.nodes().stream().filter(Node::voter).count() == 1 ? "" : "s",
                layout.voterIds(), layout.bootstrap());
        GroupsCommand.Table table = new GroupsCommand.Table("NODE", "KAFKA-PORT", "CONTROLLER-PORT", "PID", "ALIVE",
                "CONTROLLER-LEADER", "PARTITION-LEADERS");
        for (Node node : layout.nodes()) {
            table.row(String.valueOf(node.id()), String.valueOf(node.kafkaPort()),
                    node.voter() ? String.valueOf(node.controllerPort()) : "-",
                    pids.get(node.id()).map(String::valueOf).orElse("-"),
                    alive.contains(node.id()) ? "yes" : "no",
                    unreachable != null ? "?" : Integer.valueOf(node.id()).equals(controller) ? "yes" : "no",
                    leaders == null ? "?" : String.valueOf(leaders.getOrDefault(node.id(), 0)));
        }
        table.print(out());
        if (unreachable != null) {
            out().println("cluster not reachable: " + unreachable);
            return 1;
        }
        for (Node node : layout.nodes()) {
            if (alive.contains(node.id()) && !registered.contains(node.id())) {
                out().printf("node %d is running but the cluster does not list it (still joining, or fenced)%n", node.id());
            }
        }
        out().println(controller == null ? "controller leader: none (the quorum has no leader)" : "controller leader: node " + controller);
        if (leadersError != null) {
            out().println("partition leaders unknown: " + leadersError);
        } else {
            out().printf("%d topic%s, %d partition%s%n", topics, topics == 1 ? "" : "s", partitions, partitions == 1 ? "" : "s");
        }
        return 0;
    }
}
