package io.spate.broker.cli;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.NodeDrain;
import io.spate.cluster.NodeInfo;
import io.spate.cluster.PartitionState;
import io.spate.cluster.TopicState;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * {@code spate cluster drain --node N}: moves every replica off a node that is to leave the
 * cluster, through Kafka's reassignment API (what Redpanda calls decommissioning). The plan is
 * {@link NodeDrain}'s; the moves run a bounded number at a time, and the command waits for them
 * (progress on stderr) unless told not to.
 */
@Command(name = "drain", mixinStandardHelpOptions = true,
        description = {"Move every partition replica off a node (before taking it out of the cluster for good).",
                "Each replica goes to the live node with the fewest replicas that does not hold the partition; a pipeline's "
                        + "internal topics move with their input. Moves run --moves-at-once at a time; the command waits for them "
                        + "(with --timeout given, at most that long).",
                "A partition with no leader and no in-sync replica on a live node has nothing to copy from: it is left out, "
                        + "and the command exits 1 once the others have moved.",
                "Moves go on after the command ends (Ctrl-C, --timeout, --no-wait); --cancel cancels those still taking replicas off the node."})
final class ClusterCommandDrain extends ClientCommand {
    private static final String COLOCATE_WITH = "spate.colocate.with";
    private static final long POLL_MS = 500;
    private static final long PROGRESS_EVERY_MS = 5_000;

    @Option(names = "--node", required = true, paramLabel = "ID", description = "The node to empty.")
    int node;

    @Option(names = "--moves-at-once", paramLabel = "N", defaultValue = "10", description = "Partition moves running at once (default: ${DEFAULT-VALUE}).")
    int movesAtOnce;

    @Option(names = "--dry-run", description = "Print the moves, start none.")
    boolean dryRun;

    @Option(names = "--no-wait", description = "Start every move at once and return without waiting for them.")
    boolean noWait;

    @Option(names = "--cancel", description = "Cancel the running moves that take replicas off the node (a drain interrupted or "
            + "timed out leaves them running); start none.")
    boolean cancel;

    @Override
    int execute() throws Exception {
        if (movesAtOnce < 1) {
            throw new GroupsCommand.Failure("--moves-at-once must be at least 1");
        }
        try (Admin admin = connection.admin("spate-cluster-drain")) {
            if (cancel) {
                return DrainCancel.offNode(admin, node, out());
            }
            var running = admin.listPartitionReassignments().reassignments().get();
            if (!running.isEmpty()) {
                throw new GroupsCommand.Failure(running.size() + " partition move(s) are running (" + running.keySet().iterator().next()
                        + " ...): wait for them to end first" + DrainCancel.hint(running.values(), connection.bootstrapServer));
            }
            ClusterImage image = image(admin);
            if (image.node(node) == null) {
                throw new GroupsCommand.Failure("node " + node + " is not in the cluster (nodes: " + image.liveNodes() + ")");
            }
            List<MetadataCommand.ReassignPartition> planned;
            try {
                planned = NodeDrain.moves(image, node);
            } catch (NodeDrain.NoRoomException e) {
                throw new GroupsCommand.Failure("node " + node + " cannot be drained: " + e.getMessage());
            }
            if (planned.isEmpty()) {
                out().println("node " + node + " holds no replica");
                return 0;
            }
            StrandedPartitions stranded = StrandedPartitions.of(image, planned);
            List<MetadataCommand.ReassignPartition> moves = stranded.movable();
            if (!stranded.isEmpty()) {
                error(stranded.describe() + (moves.isEmpty() ? "" : "; moving the other " + moves.size() + " partition(s)"));
            }
            if (dryRun) {
                GroupsCommand.Table table = new GroupsCommand.Table("TOPIC", "PARTITION", "REPLICAS", "NEW-REPLICAS");
                for (MetadataCommand.ReassignPartition move : moves) {
                    table.row(move.topic(), String.valueOf(move.partition()),
                            image.partition(move.topic(), move.partition()).replicas().toString(), move.target().toString());
                }
                table.print(out());
                return 0;
            }
            if (moves.isEmpty()) {
                return 1;
            }
            out().println("moving " + moves.size() + " partition(s) off node " + node + ", " + Math.min(movesAtOnce, moves.size()) + " at a time");
            if (noWait) {
                start(admin, moves);
                out().println("started; follow them with kafka-reassign-partitions.sh --verify or `spate topic describe`");
                return stranded.isEmpty() ? 0 : 1;
            }
            err().println("spate: the moves go on if this command is stopped; `spate cluster drain --node " + node + " --cancel` cancels them");
            err().flush();
            awaitMoves(admin, moves);
            long left = replicasOn(admin, node);
            if (!stranded.isEmpty()) {
                throw new GroupsCommand.Failure("node " + node + " still holds " + left + " replica(s), " + stranded.size()
                        + " of them with nothing to copy from (" + stranded.names() + "): it cannot leave the cluster for good yet");
            }
            if (left > 0) {
                throw new GroupsCommand.Failure("node " + node + " still holds " + left + " replica(s) (topics created meanwhile?): run drain again");
            }
            out().println("node " + node + " holds no replica now: it can be stopped. Started again holding none, it is filled again "
                    + "(partition.autobalancing.mode=node_add).");
            return 0;
        }
    }

    /**
     * Runs the moves {@code movesAtOnce} at a time and waits for each batch to finish. With
     * {@code --timeout} given, gives up once it has passed, naming the moves still running: a move
     * whose new replica never catches up (its leader gone, copying held at a rate of 0) would
     * otherwise keep the command waiting for good.
     */
    private void awaitMoves(Admin admin, List<MetadataCommand.ReassignPartition> moves) throws Exception {
        boolean bounded = spec.commandLine().getParseResult().hasMatchedOption("--timeout");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(connection.timeoutMs);
        long lastProgress = System.currentTimeMillis();
        int done = 0;
        for (int from = 0; from < moves.size(); from += movesAtOnce) {
            List<MetadataCommand.ReassignPartition> batch = moves.subList(from, Math.min(moves.size(), from + movesAtOnce));
            start(admin, batch);
            while (true) {
                var stillRunning = admin.listPartitionReassignments().reassignments().get().keySet();
                List<MetadataCommand.ReassignPartition> unfinished = batch.stream()
                        .filter(m -> stillRunning.contains(new TopicPartition(m.topic(), m.partition()))).toList();
                if (unfinished.isEmpty()) {
                    break;
                }
                if (bounded && System.nanoTime() - deadline >= 0) {
                    throw new GroupsCommand.Failure(timedOut(unfinished, moves.size() - from - batch.size()));
                }
                if (System.currentTimeMillis() - lastProgress >= PROGRESS_EVERY_MS) {
                    lastProgress = System.currentTimeMillis();
                    err().println("spate: moved " + done + " of " + moves.size() + " partition(s), " + stillRunning.size() + " moving");
                    err().flush();
                }
                Thread.sleep(POLL_MS);
            }
            done += batch.size();
        }
    }

    private String timedOut(List<MetadataCommand.ReassignPartition> unfinished, int notStarted) {
        String running = unfinished.stream().map(m -> m.topic() + "-" + m.partition() + " to " + m.target()).collect(Collectors.joining(", "));
        return "node " + node + " is not drained after " + connection.timeoutMs + " ms (--timeout): " + unfinished.size()
                + " move(s) still running (" + running + ")" + (notStarted > 0 ? ", " + notStarted + " not started" : "")
                + ". The running ones go on; `spate cluster drain --node " + node + " --cancel --bootstrap-server "
                + connection.bootstrapServer + "` cancels them, or run the drain again once they have ended";
    }

    private static void start(Admin admin, List<MetadataCommand.ReassignPartition> moves) throws Exception {
        Map<TopicPartition, Optional<NewPartitionReassignment>> request = new LinkedHashMap<>();
        moves.forEach(m -> request.put(new TopicPartition(m.topic(), m.partition()), Optional.of(new NewPartitionReassignment(m.target()))));
        admin.alterPartitionReassignments(request).all().get();
    }

    /** The cluster as the Admin API shows it, in the shape the planner reads. */
    private ClusterImage image(Admin admin) throws Exception {
        Map<Integer, NodeInfo> nodes = new HashMap<>();
        for (Node n : admin.describeCluster().nodes().get()) {
            nodes.put(n.id(), new NodeInfo(n.id(), n.host(), n.port(), 0, false));
        }
        var names = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
        Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames().get();
        List<ConfigResource> resources = names.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
        Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
        Map<String, TopicState> topics = new HashMap<>();
        for (TopicDescription d : described.values()) {
            List<PartitionState> partitions = new ArrayList<>();
            for (TopicPartitionInfo p : d.partitions()) {
                List<Integer> replicas = p.replicas().stream().map(Node::id).toList();
                replicas.forEach(r -> nodes.putIfAbsent(r, new NodeInfo(r, "", 0, 0, true))); // a replica on a node that is down
                partitions.add(new PartitionState(replicas, p.leader() == null ? PartitionState.NO_LEADER : p.leader().id(), 0,
                        p.isr().stream().map(Node::id).toList(), 0));
            }
            Map<String, String> overrides = new HashMap<>();
            var colocate = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, d.name())).get(COLOCATE_WITH);
            if (colocate != null && colocate.value() != null && !colocate.value().isEmpty()) {
                overrides.put(COLOCATE_WITH, colocate.value());
            }
            UUID id = d.topicId() == null ? UUID.nameUUIDFromBytes(d.name().getBytes()) : new UUID(d.topicId().getMostSignificantBits(),
                    d.topicId().getLeastSignificantBits());
            topics.put(d.name(), new TopicState(d.name(), id, partitions, overrides));
        }
        return new ClusterImage(1, nodes, topics, 0);
    }

    /** How many replicas a node holds, from a fresh look. */
    private static long replicasOn(Admin admin, int node) throws Exception {
        var names = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
        return admin.describeTopics(names).allTopicNames().get().values().stream().flatMap(d -> d.partitions().stream())
                .filter(p -> p.replicas().stream().anyMatch(n -> n.id() == node)).count();
    }
}
