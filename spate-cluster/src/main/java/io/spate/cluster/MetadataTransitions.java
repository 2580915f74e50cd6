package io.spate.cluster;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The metadata state machine's transition function: (image, command) → (new image, result).
 * Pure and deterministic, so every voter that applies the same log reaches the same image.
 *
 * <p>Leader election rules: a new leader is only ever taken from the in-sync set and must be
 * alive; when no in-sync replica is alive the partition is
 * offline, keeping the last in-sync replica recorded, and comes back when that replica returns.
 * A topic with {@code unclean.leader.election.enable=true} instead lets any live replica lead
 * then, accepting the loss of what only the in-sync replicas held.
 */
public final class MetadataTransitions {
    private MetadataTransitions() {
    }

    public record Outcome(ClusterImage image, CommandResult result) {
    }

    public static Outcome apply(ClusterImage image, MetadataCommand command, long index) {
        Outcome outcome = switch (command) {
            case MetadataCommand.RegisterNode c -> register(image, c);
            case MetadataCommand.FenceNode c -> fence(image, c);
            case MetadataCommand.CreateTopic c -> createTopic(image, c);
            case MetadataCommand.DeleteTopic c -> deleteTopic(image, c);
            case MetadataCommand.CreatePartitions c -> createPartitions(image, c);
            case MetadataCommand.AlterTopicConfig c -> alterConfig(image, c);
            case MetadataCommand.AlterIsr c -> alterIsr(image, c);
            case MetadataCommand.AlterIsrs c -> alterIsrs(image, c);
            case MetadataCommand.ElectPreferredLeader c -> electPreferred(image, c);
            case MetadataCommand.ReassignPartition c -> reassign(image, c);
            case MetadataCommand.AllocateProducerIds c -> allocateProducerIds(image, c);
            case MetadataCommand.CreateTable c -> createTable(image, c);
            case MetadataCommand.AlterNodeConfig c -> alterNodeConfig(image, c);
            case MetadataCommand.AlterNodeConfigKeys c -> alterNodeConfigKeys(image, c);
        };
        ClusterImage next = completeReassignments(outcome.image);
        ClusterImage versioned = new ClusterImage(index, next.nodes(), next.topics(), next.nextProducerId(), next.tables(), next.nodeConfigs());
        return new Outcome(versioned, outcome.result.at(index));
    }

    private static Outcome unchanged(ClusterImage image, CommandResult result) {
        return new Outcome(image, result);
    }

    private static Outcome register(ClusterImage image, MetadataCommand.RegisterNode c) {
        NodeInfo existing = image.node(c.nodeId());
        ClusterImage base = image;
        if (existing != null && !existing.fenced() && existing.incarnation() != c.incarnation()) {
            // The node restarted before its session ran out: whatever the old process led may have
            // lost an unflushed tail, so leadership moves on exactly as if it had been fenced.
            base = fence(image, new MetadataCommand.FenceNode(c.nodeId(), existing.incarnation())).image;
        }
        Map<Integer, NodeInfo> nodes = new HashMap<>(base.nodes());
        nodes.put(c.nodeId(), new NodeInfo(c.nodeId(), c.host(), c.port(), c.incarnation(), false, c.rack(), c.tablesPort()));
        Map<String, TopicState> topics = new HashMap<>(base.topics());
        // Offline partitions whose last in-sync replica is this node come back with it.
        for (TopicState topic : base.topics().values()) {
            TopicState updated = topic;
            for (int p = 0; p < topic.partitions().size(); p++) {
                PartitionState state = topic.partitions().get(p);
                if (!c.cleanShutdown() && state.elr().contains(c.nodeId())) {
                    // Its log may have lost an unflushed tail: it no longer vouches for what was committed.
                    List<Integer> elr = new ArrayList<>(state.elr());
                    elr.remove(Integer.valueOf(c.nodeId()));
                    state = state.withElr(elr);
                    updated = updated.withPartition(p, state);
                }
                if (!state.hasLeader() && !c.cleanShutdown() && state.isr().equals(List.of(c.nodeId())) && !state.elr().isEmpty()) {
                    // The last in-sync replica is back from an unclean stop: its log may have lost
                    // an unflushed tail that the eligible replicas still hold. One of them takes its
                    // place in the in-sync set and leads, now if it is up, else when it registers;
                    // this node rejoins by catching up like any follower. Taking it out of the set
                    // is what keeps every other path (a preferred-leader election, its own clean
                    // registration after a fence) from electing it (found by the simulated disk).
                    int eligible = firstLive(state.elr(), nodes);
                    int successor = eligible != PartitionState.NO_LEADER ? eligible : state.elr().getFirst();
                    List<Integer> elr = new ArrayList<>(state.elr());
                    elr.remove(Integer.valueOf(successor));
                    state = state.withLeader(eligible, List.of(successor)).withElr(elr);
                    if (!state.hasLeader() && unclean(topic)) {
                        state = state.withLeader(c.nodeId(), List.of(c.nodeId())).withElr(List.of());
                    }
                    updated = updated.withPartition(p, state);
                } else if (!state.hasLeader() && state.isr().contains(c.nodeId())) {
                    updated = updated.withPartition(p, state.withLeader(c.nodeId(), state.isr()));
                } else if (!state.hasLeader() && state.elr().contains(c.nodeId()) && state.isr().size() < minInsync(topic)) {
                    updated = updated.withPartition(p, electEligible(state, c.nodeId()));
                } else if (!state.hasLeader() && unclean(topic) && state.replicas().contains(c.nodeId())) {
                    updated = updated.withPartition(p, state.withLeader(c.nodeId(), List.of(c.nodeId())));
                }
            }
            topics.put(topic.name(), updated);
        }
        return unchanged(new ClusterImage(base.version(), nodes, topics, base.nextProducerId(), base.tables(), base.nodeConfigs()), CommandResult.ok(0));
    }

    private static Outcome fence(ClusterImage image, MetadataCommand.FenceNode c) {
        NodeInfo node = image.node(c.nodeId());
        if (node == null) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.UNKNOWN_NODE, "node " + c.nodeId() + " is not registered"));
        }
        if (node.fenced() || node.incarnation() != c.incarnation()) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.STALE_STATE, "node " + c.nodeId() + " is already fenced or has restarted"));
        }
        Map<Integer, NodeInfo> nodes = new HashMap<>(image.nodes());
        nodes.put(node.id(), node.fence());
        Map<String, TopicState> topics = new HashMap<>();
        for (TopicState topic : image.topics().values()) {
            TopicState updated = topic;
            for (int p = 0; p < topic.partitions().size(); p++) {
                PartitionState state = topic.partitions().get(p);
                if (!state.isr().contains(node.id()) && state.leader() != node.id()) {
                    continue;
                }
                List<Integer> isr = new ArrayList<>(state.isr());
                isr.remove(Integer.valueOf(node.id()));
                if (!isr.isEmpty() && isr.size() < minInsync(topic) && state.isr().contains(node.id())) {
                    // It leaves an in-sync set too small for the high watermark to move: it holds
                    // everything committed, and may lead again (KIP-966).
                    state = state.withElr(union(state.elr(), List.of(node.id())));
                }
                if (state.leader() == node.id()) {
                    int next = firstLive(isr, nodes);
                    if (next == PartitionState.NO_LEADER && isr.size() < minInsync(topic)) {
                        int eligible = firstLive(state.elr(), nodes);
                        if (eligible != PartitionState.NO_LEADER) {
                            PartitionState kept = state.withElr(union(state.elr(), List.of(node.id())));
                            updated = updated.withPartition(p, electEligible(kept, eligible));
                            continue;
                        }
                    }
                    if (next == PartitionState.NO_LEADER && unclean(topic)) {
                        next = firstLiveUnclean(state, nodes);
                        if (next != PartitionState.NO_LEADER) {
                            updated = updated.withPartition(p, state.withLeader(next, List.of(next)).withElr(List.of()));
                            continue;
                        }
                    }
                    // Keep the fenced node as the last in-sync replica when no one else holds the data.
                    updated = updated.withPartition(p, state.withLeader(next, isr.isEmpty() ? List.of(node.id()) : isr));
                } else if (!isr.isEmpty()) {
                    updated = updated.withPartition(p, state.withIsr(isr));
                }
            }
            topics.put(topic.name(), updated);
        }
        return unchanged(new ClusterImage(image.version(), nodes, topics, image.nextProducerId(), image.tables(), image.nodeConfigs()), CommandResult.ok(0));
    }

    /**
     * The topic's {@code min.insync.replicas} as the controller knows it: its own setting, else 1
     * (a node-wide default is not known here; with 1 no replica is ever only eligible).
     */
    static int minInsync(TopicState topic) {
        try {
            return Math.max(1, Integer.parseInt(topic.overrides().getOrDefault("min.insync.replicas", "1")));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** {@code eligible} leads with itself as the in-sync set; the others stay eligible. */
    private static PartitionState electEligible(PartitionState state, int eligible) {
        List<Integer> elr = new ArrayList<>(state.elr());
        elr.remove(Integer.valueOf(eligible));
        return state.withLeader(eligible, List.of(eligible)).withElr(elr);
    }

    private static List<Integer> union(List<Integer> a, List<Integer> b) {
        List<Integer> all = new ArrayList<>(a);
        for (int id : b) {
            if (!all.contains(id)) {
                all.add(id);
            }
        }
        return all;
    }

    static boolean unclean(TopicState topic) {
        return "true".equals(topic.overrides().get("unclean.leader.election.enable"));
    }

    /** An unclean leader: a replica that held the partition before a running move, if one lives, before a new one that may hold nothing. */
    private static int firstLiveUnclean(PartitionState state, Map<Integer, NodeInfo> nodes) {
        int original = firstLive(state.originalReplicas(), nodes);
        return original != PartitionState.NO_LEADER ? original : firstLive(state.replicas(), nodes);
    }

    private static int firstLive(List<Integer> candidates, Map<Integer, NodeInfo> nodes) {
        for (int id : candidates) {
            NodeInfo n = nodes.get(id);
            if (n != null && !n.fenced()) {
                return id;
            }
        }
        return PartitionState.NO_LEADER;
    }

    private static Outcome createTopic(ClusterImage image, MetadataCommand.CreateTopic c) {
        if (image.topic(c.name()) != null) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.TOPIC_EXISTS, "topic '" + c.name() + "' already exists"));
        }
        List<PartitionState> partitions = new ArrayList<>();
        for (List<Integer> replicas : c.assignment()) {
            CommandResult invalid = checkReplicas(image, replicas);
            if (invalid != null) {
                return unchanged(image, invalid);
            }
            partitions.add(initialState(image, replicas));
        }
        Map<String, TopicState> topics = new HashMap<>(image.topics());
        topics.put(c.name(), new TopicState(c.name(), c.id(), partitions, c.overrides()));
        return unchanged(new ClusterImage(image.version(), image.nodes(), topics, image.nextProducerId(), image.tables(), image.nodeConfigs()), CommandResult.ok(0));
    }

    private static CommandResult checkReplicas(ClusterImage image, List<Integer> replicas) {
        if (replicas.isEmpty() || replicas.stream().distinct().count() != replicas.size()) {
            return CommandResult.fail(CommandResult.Error.INVALID_REPLICATION_FACTOR, "a partition needs distinct replicas, not " + replicas);
        }
        for (int id : replicas) {
            if (image.node(id) == null) {
                return CommandResult.fail(CommandResult.Error.INVALID_REPLICATION_FACTOR, "replica " + id + " is not a registered node");
            }
        }
        return null;
    }

    /** Live replicas start in sync (they hold nothing yet); the first live one leads. */
    private static PartitionState initialState(ClusterImage image, List<Integer> replicas) {
        List<Integer> live = replicas.stream().filter(id -> !image.node(id).fenced()).toList();
        List<Integer> isr = live.isEmpty() ? List.of(replicas.get(0)) : live;
        int leader = live.isEmpty() ? PartitionState.NO_LEADER : live.get(0);
        return new PartitionState(replicas, leader, 0, isr, 0);
    }

    private static Outcome deleteTopic(ClusterImage image, MetadataCommand.DeleteTopic c) {
        if (image.topic(c.name()) == null) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.UNKNOWN_TOPIC, "topic '" + c.name() + "' does not exist"));
        }
        Map<String, TopicState> topics = new HashMap<>(image.topics());
        topics.remove(c.name());
        return unchanged(new ClusterImage(image.version(), image.nodes(), topics, image.nextProducerId(), image.tables(), image.nodeConfigs()), CommandResult.ok(0));
    }

    private static Outcome createPartitions(ClusterImage image, MetadataCommand.CreatePartitions c) {
        TopicState topic = image.topic(c.name());
        if (topic == null) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.UNKNOWN_TOPIC, "topic '" + c.name() + "' does not exist"));
        }
        int count = topic.partitions().size();
        if (c.expectedCount() != MetadataCommand.CreatePartitions.UNCHECKED && c.expectedCount() != count) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.INVALID_PARTITIONS, "topic '" + c.name() + "' already has "
                    + count + " partition(s), not the " + c.expectedCount() + " the new ones were added to"));
        }
        List<PartitionState> partitions = new ArrayList<>(topic.partitions());
        for (List<Integer> replicas : c.newAssignment()) {
            CommandResult invalid = checkReplicas(image, replicas);
            if (invalid != null) {
                return unchanged(image, invalid);
            }
            partitions.add(initialState(image, replicas));
        }
        Map<String, TopicState> topics = new HashMap<>(image.topics());
        topics.put(c.name(), new TopicState(topic.name(), topic.id(), partitions, topic.overrides()));
        return unchanged(new ClusterImage(image.version(), image.nodes(), topics, image.nextProducerId(), image.tables(), image.nodeConfigs()), CommandResult.ok(0));
    }

    private static Outcome alterConfig(ClusterImage image, MetadataCommand.AlterTopicConfig c) {
        TopicState topic = image.topic(c.name());
        if (topic == null) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.UNKNOWN_TOPIC, "topic '" + c.name() + "' does not exist"));
        }
        if (c.basedOn() != null && !c.basedOn().equals(topic.overrides())) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.STALE_STATE,
                    "the settings of topic '" + c.name() + "' changed since this change was made on them"));
        }
        TopicState updated = new TopicState(topic.name(), topic.id(), topic.partitions(), c.overrides());
        if (minInsync(updated) != minInsync(topic)) {
            // Under a lower bound the high watermark moves again without the eligible replicas
            // (and a higher one says nothing about what they hold): none stays eligible.
            for (int p = 0; p < updated.partitions().size(); p++) {
                PartitionState state = updated.partitions().get(p);
                if (!state.elr().isEmpty()) {
                    updated = updated.withPartition(p, state.withElr(List.of()));
                }
            }
        }
        if (unclean(updated)) {
            // Turning unclean election on brings offline partitions back with any live replica.
            for (int p = 0; p < updated.partitions().size(); p++) {
                PartitionState state = updated.partitions().get(p);
                int next = state.hasLeader() ? PartitionState.NO_LEADER : firstLiveUnclean(state, image.nodes());
                if (next != PartitionState.NO_LEADER) {
                    updated = updated.withPartition(p, state.withLeader(next, List.of(next)).withElr(List.of()));
                }
            }
        }
        Map<String, TopicState> topics = new HashMap<>(image.topics());
        topics.put(c.name(), updated);
        return unchanged(new ClusterImage(image.version(), image.nodes(), topics, image.nextProducerId(), image.tables(), image.nodeConfigs()), CommandResult.ok(0));
    }

    private static Outcome alterIsr(ClusterImage image, MetadataCommand.AlterIsr c) {
        PartitionState state = image.partition(c.topic(), c.partition());
        if (state == null) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.UNKNOWN_TOPIC, c.topic() + "-" + c.partition() + " does not exist"));
        }
        if (state.leader() != c.leader() || state.leaderEpoch() != c.leaderEpoch() || state.partitionEpoch() != c.partitionEpoch()) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.STALE_STATE, "partition state changed since the request was made"));
        }
        if (!c.isr().contains(c.leader())) {
            return resign(image, c, state);
        }
        if (!state.replicas().containsAll(c.isr())) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.STALE_STATE, "the in-sync set must hold the leader and only replicas"));
        }
        for (int id : c.isr()) {
            if (!state.isr().contains(id) && (image.node(id) == null || image.node(id).fenced())) {
                return unchanged(image, CommandResult.fail(CommandResult.Error.STALE_STATE, "a fenced node cannot join the in-sync set"));
            }
        }
        // Below min.insync.replicas the high watermark stands still, so the replicas leaving now
        // hold everything committed and stay eligible; at or above it, it moves on without them.
        List<Integer> elr = List.of();
        if (c.isr().size() < minInsync(image.topic(c.topic()))) {
            List<Integer> leaving = new ArrayList<>(state.isr());
            leaving.removeAll(c.isr());
            elr = union(state.elr(), leaving);
            elr = new ArrayList<>(elr);
            elr.removeAll(c.isr());
        }
        TopicState topic = image.topic(c.topic()).withPartition(c.partition(), state.withIsr(c.isr()).withElr(elr));
        Map<String, TopicState> topics = new HashMap<>(image.topics());
        topics.put(topic.name(), topic);
        return unchanged(new ClusterImage(image.version(), image.nodes(), topics, image.nextProducerId(), image.tables(), image.nodeConfigs()), CommandResult.ok(0));
    }

    /**
     * A leader asking for an in-sync set without itself resigns: its own log went offline, so it
     * can neither take writes nor serve reads. Only replicas already in sync may remain (they hold
     * everything committed); the first live one leads, or, with none alive, the first to register
     * again. The leader leaves the eligible replicas too: its log is not to be trusted to lead.
     * The others leaving follow the usual rule.
     */
    private static Outcome resign(ClusterImage image, MetadataCommand.AlterIsr c, PartitionState state) {
        if (c.isr().isEmpty() || !state.isr().containsAll(c.isr())) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.STALE_STATE,
                    "a resigning leader hands the partition only to replicas already in sync, not " + c.isr()));
        }
        List<Integer> elr = new ArrayList<>(state.elr());
        if (c.isr().size() < minInsync(image.topic(c.topic()))) {
            List<Integer> leaving = new ArrayList<>(state.isr());
            leaving.removeAll(c.isr());
            elr = union(elr, leaving);
        }
        elr.removeAll(c.isr());
        elr.remove(Integer.valueOf(c.leader()));
        PartitionState next = state.withLeader(firstLive(c.isr(), image.nodes()), c.isr()).withElr(elr);
        TopicState topic = image.topic(c.topic()).withPartition(c.partition(), next);
        Map<String, TopicState> topics = new HashMap<>(image.topics());
        topics.put(topic.name(), topic);
        return unchanged(new ClusterImage(image.version(), image.nodes(), topics, image.nextProducerId(), image.tables(), image.nodeConfigs()), CommandResult.ok(0));
    }

    /** The most changes one {@link MetadataCommand.AlterIsrs} may carry: its result marks the refused ones in a long. */
    public static final int MAX_ISR_CHANGES = 64;

    /**
     * Each change in turn, as if alone. The result's value has bit i set when change i was
     * refused; its message says why, change by change (for the leaders' logs).
     */
    private static Outcome alterIsrs(ClusterImage image, MetadataCommand.AlterIsrs c) {
        if (c.changes().size() > MAX_ISR_CHANGES) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.STALE_STATE,
                    "at most " + MAX_ISR_CHANGES + " in-sync set changes per batch, not " + c.changes().size()));
        }
        ClusterImage current = image;
        long refusedMask = 0;
        StringBuilder reasons = new StringBuilder();
        for (int i = 0; i < c.changes().size(); i++) {
            MetadataCommand.AlterIsr change = c.changes().get(i);
            Outcome outcome = alterIsr(current, change);
            if (outcome.result().succeeded()) {
                current = outcome.image();
            } else {
                refusedMask |= 1L << i;
                reasons.append(reasons.isEmpty() ? "" : "; ").append(change.topic()).append('-').append(change.partition())
                        .append(": ").append(outcome.result().message());
            }
        }
        return unchanged(current, new CommandResult(CommandResult.Error.NONE, reasons.toString(), refusedMask, 0));
    }

    private static Outcome electPreferred(ClusterImage image, MetadataCommand.ElectPreferredLeader c) {
        PartitionState state = image.partition(c.topic(), c.partition());
        if (state == null) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.UNKNOWN_TOPIC, c.topic() + "-" + c.partition() + " does not exist"));
        }
        int preferred = state.preferredLeader();
        NodeInfo node = image.node(preferred);
        if (state.leader() == preferred || !state.isr().contains(preferred) || node == null || node.fenced()) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.STALE_STATE, "the preferred replica cannot lead now"));
        }
        TopicState topic = image.topic(c.topic()).withPartition(c.partition(), state.withLeader(preferred, state.isr()));
        Map<String, TopicState> topics = new HashMap<>(image.topics());
        topics.put(topic.name(), topic);
        return unchanged(new ClusterImage(image.version(), image.nodes(), topics, image.nextProducerId(), image.tables(), image.nodeConfigs()), CommandResult.ok(0));
    }

    private static Outcome reassign(ClusterImage image, MetadataCommand.ReassignPartition c) {
        PartitionState state = image.partition(c.topic(), c.partition());
        if (state == null) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.UNKNOWN_TOPIC, c.topic() + "-" + c.partition() + " does not exist"));
        }
        List<Integer> original = state.originalReplicas();
        PartitionState next;
        if (c.target().isEmpty()) {
            if (!state.reassigning()) {
                return unchanged(image, CommandResult.fail(CommandResult.Error.NO_REASSIGNMENT, "no reassignment of " + c.topic() + "-" + c.partition() + " is running"));
            }
            next = toReplicas(state, original, image.nodes());
            if (next == null) {
                return unchanged(image, CommandResult.fail(CommandResult.Error.STALE_STATE, "cannot cancel: none of the original replicas is in sync"));
            }
        } else {
            CommandResult invalid = checkReplicas(image, c.target());
            if (invalid != null) {
                return unchanged(image, invalid);
            }
            List<Integer> adding = new ArrayList<>(c.target());
            adding.removeAll(original);
            List<Integer> removing = new ArrayList<>(original);
            removing.removeAll(c.target());
            List<Integer> replicas = new ArrayList<>(c.target());
            replicas.addAll(removing);
            // A replica added by a replaced reassignment and not kept by this one leaves the in-sync set.
            List<Integer> isr = new ArrayList<>(state.isr());
            isr.retainAll(replicas);
            if (isr.isEmpty()) {
                return unchanged(image, CommandResult.fail(CommandResult.Error.STALE_STATE, "no in-sync replica would remain"));
            }
            next = new PartitionState(replicas, state.leader(), epochAfter(state, replicas), isr, state.partitionEpoch() + 1, adding, removing);
            if (state.hasLeader() && !isr.contains(state.leader())) {
                next = next.withLeader(firstLive(isr, image.nodes()), isr);
            }
        }
        TopicState topic = image.topic(c.topic()).withPartition(c.partition(), next);
        Map<String, TopicState> topics = new HashMap<>(image.topics());
        topics.put(topic.name(), topic);
        return unchanged(new ClusterImage(image.version(), image.nodes(), topics, image.nextProducerId(), image.tables(), image.nodeConfigs()), CommandResult.ok(0));
    }

    /** Any command can be the one after which a move is complete (a leader returning, an in-sync set growing). */
    private static ClusterImage completeReassignments(ClusterImage image) {
        Map<String, TopicState> topics = null;
        for (TopicState topic : image.topics().values()) {
            TopicState updated = topic;
            for (int p = 0; p < topic.partitions().size(); p++) {
                PartitionState state = topic.partitions().get(p);
                PartitionState done = completeReassignment(state, image.nodes());
                if (done != state) {
                    updated = updated.withPartition(p, done);
                }
            }
            if (updated != topic) {
                if (topics == null) {
                    topics = new HashMap<>(image.topics());
                }
                topics.put(topic.name(), updated);
            }
        }
        return topics == null ? image : new ClusterImage(image.version(), image.nodes(), topics, image.nextProducerId(), image.tables(), image.nodeConfigs());
    }

    /**
     * Ends a running reassignment once every target replica is in sync: the removed replicas
     * leave, and if the leader was one of them, the first live in-sync target replica leads.
     */
    static PartitionState completeReassignment(PartitionState state, Map<Integer, NodeInfo> nodes) {
        if (!state.reassigning() || !state.isr().containsAll(state.targetReplicas())) {
            return state;
        }
        PartitionState done = toReplicas(state, state.targetReplicas(), nodes);
        return done == null ? state : done;
    }

    /**
     * The partition with exactly {@code replicas}, or null when none of them is in sync (the data
     * would go with the replicas left out). With no in-sync one alive it is offline until one returns.
     */
    private static PartitionState toReplicas(PartitionState state, List<Integer> replicas, Map<Integer, NodeInfo> nodes) {
        List<Integer> isr = new ArrayList<>(state.isr());
        isr.retainAll(replicas);
        if (isr.isEmpty()) {
            return null;
        }
        if (state.hasLeader() && isr.contains(state.leader())) {
            return new PartitionState(replicas, state.leader(), epochAfter(state, replicas), isr, state.partitionEpoch() + 1, List.of(), List.of());
        }
        // The first live in-sync replica in the new order, so that a moved partition is led by its new preferred replica.
        int leader = firstLive(replicas.stream().filter(isr::contains).toList(), nodes);
        int epoch = leader == state.leader() ? epochAfter(state, replicas) : state.leaderEpoch() + 1;
        return new PartitionState(replicas, leader, epoch, isr, state.partitionEpoch() + 1, List.of(), List.of());
    }

    /**
     * The leader epoch once the partition has {@code replicas}: one more when a replica leaves (as
     * Kafka's controller does), so that a node still following by an image from before its removal
     * is fenced by the leader instead of being counted in sync. Without it, a node behind on
     * metadata while the partition moved away from it and back kept copying with the log it held,
     * joined the in-sync set, and then applied the removal, which deletes that log: an in-sync
     * replica with no data.
     */
    private static int epochAfter(PartitionState state, List<Integer> replicas) {
        return replicas.containsAll(state.replicas()) ? state.leaderEpoch() : state.leaderEpoch() + 1;
    }

    private static Outcome allocateProducerIds(ClusterImage image, MetadataCommand.AllocateProducerIds c) {
        long first = image.nextProducerId();
        return unchanged(new ClusterImage(image.version(), image.nodes(), image.topics(), first + c.count(), image.tables(), image.nodeConfigs()), CommandResult.ok(first));
    }

    private static Outcome createTable(ClusterImage image, MetadataCommand.CreateTable c) {
        if (image.tables().containsKey(c.name())) {
            return unchanged(image, CommandResult.fail(CommandResult.Error.TABLE_EXISTS, "table '" + c.name() + "' already exists"));
        }
        Map<String, TableSpec> tables = new HashMap<>(image.tables());
        tables.put(c.name(), new TableSpec(c.name(), c.config()));
        return unchanged(new ClusterImage(image.version(), image.nodes(), image.topics(), image.nextProducerId(), tables, image.nodeConfigs()), CommandResult.ok(0));
    }

    private static Outcome alterNodeConfig(ClusterImage image, MetadataCommand.AlterNodeConfig c) {
        Map<Integer, Map<String, String>> configs = new HashMap<>(image.nodeConfigs());
        configs.put(c.nodeId(), c.configs());
        return unchanged(new ClusterImage(image.version(), image.nodes(), image.topics(), image.nextProducerId(), image.tables(), configs),
                CommandResult.ok(0));
    }

    private static Outcome alterNodeConfigKeys(ClusterImage image, MetadataCommand.AlterNodeConfigKeys c) {
        Map<String, String> changed = new HashMap<>(image.nodeConfigs().getOrDefault(c.nodeId(), Map.of()));
        changed.keySet().removeAll(c.deleted());
        changed.putAll(c.set());
        return alterNodeConfig(image, new MetadataCommand.AlterNodeConfig(c.nodeId(), changed));
    }
}
