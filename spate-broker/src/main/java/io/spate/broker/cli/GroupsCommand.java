package io.spate.broker.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownMemberIdException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;

/**
 * {@code spate groups}: consumer-group administration over the Kafka protocol only (kafka-clients'
 * {@link Admin}), so it works against any Spate node, or any Kafka broker, it can reach.
 */
@Command(name = "groups", mixinStandardHelpOptions = true,
        description = "List, describe, reset and delete consumer groups (over the Kafka protocol).",
        subcommands = {GroupsCommand.ListGroups.class, GroupsCommand.Describe.class, GroupsCommand.ResetOffsets.class,
                GroupsCommand.Delete.class, CommandLine.HelpCommand.class})
public final class GroupsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A failure to report as one line on stderr, with exit code 1. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    /** Where to connect, shared by every subcommand. */
    static final class Connection {
        @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9092",
                description = "A broker to bootstrap from (default: ${DEFAULT-VALUE}).")
        String bootstrapServer;

        @Option(names = "--timeout", paramLabel = "MS", defaultValue = "15000",
                description = "How long to wait for the broker, in milliseconds (default: ${DEFAULT-VALUE}).")
        int timeoutMs;

        Admin open() {
            // The CLI's output is its tables: keep the Kafka clients' INFO chatter off the terminal
            // (a user's own -Dorg.slf4j.simpleLogger... setting still wins).
            System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.org.apache.kafka", "error");
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServer);
            props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
            props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
            props.put(AdminClientConfig.CLIENT_ID_CONFIG, "spate-groups");
            props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 100);
            props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
            try {
                return Admin.create(props);
            } catch (KafkaException e) {
                Throwable cause = e.getCause() instanceof ConfigException ? e.getCause() : e;
                throw new Failure("bad --bootstrap-server '" + bootstrapServer + "': " + cause.getMessage());
            }
        }
    }

    /** The common shape of every subcommand: open an admin client, run, map failures to one line. */
    abstract static class Sub implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Connection connection;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        abstract void run(Admin admin) throws Exception;

        /** How long this command waits for an answer, as its failures tell it. */
        int timeoutMs() {
            return connection.timeoutMs;
        }

        /** The group this command is about, for error messages; null if none. */
        abstract String group();

        @Override
        public final Integer call() {
            try (Admin admin = connection.open()) {
                run(admin);
                out().flush();
                return 0;
            } catch (Failure e) {
                return fail(e.getMessage());
            } catch (ExecutionException e) {
                return fail(explain(e.getCause() == null ? e : e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail("interrupted");
            } catch (Exception e) {
                return fail(explain(e));
            }
        }

        private int fail(String message) {
            out().flush();
            PrintWriter err = spec.commandLine().getErr();
            err.println("spate: " + message);
            err.flush();
            return 1;
        }

        String explain(Throwable e) {
            // listGroups reports an unreachable cluster as "Failed to find brokers", caused by a timeout
            boolean timedOut = false;
            for (Throwable t = e; t != null && !timedOut; t = t.getCause()) {
                timedOut = t instanceof TimeoutException;
            }
            if (timedOut) {
                return "no answer from a broker at " + connection.bootstrapServer + " within " + timeoutMs()
                        + " ms (is a node running there?)";
            }
            if (e instanceof GroupIdNotFoundException) {
                return "group '" + group() + "' does not exist";
            }
            if (e instanceof GroupNotEmptyException || e instanceof UnknownMemberIdException) {
                return "group '" + group() + "' has active members; stop its consumers first";
            }
            if (e instanceof UnknownTopicOrPartitionException) {
                return "unknown topic or partition: " + e.getMessage();
            }
            String message = e.getMessage();
            return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
        }

        /** The group's description, or a one-line failure if it does not exist. */
        ConsumerGroupDescription describe(Admin admin, String group) throws Exception {
            ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
            if (description == null || description.groupState() == GroupState.DEAD) {
                throw new Failure("group '" + group + "' does not exist");
            }
            return description;
        }

        /** Committed offsets, without the null entries some brokers return for partitions never committed. */
        static Map<TopicPartition, Long> committed(Admin admin, String group) throws Exception {
            Map<TopicPartition, Long> committed = new HashMap<>();
            admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().forEach((tp, o) -> {
                if (o != null && o.offset() >= 0) {
                    committed.put(tp, o.offset());
                }
            });
            return committed;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "One line per group: id, state, protocol type.")
    static final class ListGroups extends Sub {
        @Override
        String group() {
            return null;
        }

        @Override
        void run(Admin admin) throws Exception {
            List<GroupListing> groups = new ArrayList<>(admin.listGroups().all().get());
            groups.sort(Comparator.comparing(GroupListing::groupId));
            Table table = new Table("GROUP", "STATE", "PROTOCOL-TYPE");
            for (GroupListing g : groups) {
                table.row(g.groupId(), g.groupState().map(GroupState::toString).orElse("-"),
                        g.protocol() == null || g.protocol().isEmpty() ? "-" : g.protocol());
            }
            table.print(out());
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "Per partition: committed offset, log end offset, lag and owning member; plus the group's state.")
    static final class Describe extends Sub {
        @Parameters(paramLabel = "GROUP", description = "The group id.")
        String group;

        @Override
        String group() {
            return group;
        }

        @Override
        void run(Admin admin) throws Exception {
            ConsumerGroupDescription description = describe(admin, group);
            Map<TopicPartition, Long> committed = committed(admin, group);
            Map<TopicPartition, MemberDescription> owners = new HashMap<>();
            List<MemberDescription> idle = new ArrayList<>();
            for (MemberDescription member : description.members()) {
                member.assignment().topicPartitions().forEach(tp -> owners.put(tp, member));
                if (member.assignment().topicPartitions().isEmpty()) {
                    idle.add(member);
                }
            }
            TreeSet<TopicPartition> partitions = new TreeSet<>(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
            partitions.addAll(committed.keySet());
            partitions.addAll(owners.keySet());
            Map<TopicPartition, Long> end = PartitionOffsets.read(admin, partitions, OffsetSpec.latest());

            int members = description.members().size();
            out().printf("Group '%s': state %s, %d member%s%n%n", group, description.groupState(), members, members == 1 ? "" : "s");
            Table table = new Table("TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID");
            for (TopicPartition tp : partitions) {
                Long current = committed.get(tp);
                Long logEnd = end.get(tp);
                MemberDescription owner = owners.get(tp);
                table.row(tp.topic(), String.valueOf(tp.partition()), dash(current), dash(logEnd),
                        current == null || logEnd == null ? "-" : String.valueOf(Math.max(0, logEnd - current)),
                        owner == null ? "-" : owner.consumerId(), owner == null ? "-" : owner.host(), owner == null ? "-" : owner.clientId());
            }
            for (MemberDescription member : idle) {
                table.row("-", "-", "-", "-", "-", member.consumerId(), member.host(), member.clientId());
            }
            table.print(out());
        }
    }

    @Command(name = "reset-offsets", mixinStandardHelpOptions = true,
            description = {"Move a group's committed offsets for a topic. Prints the plan (a dry run) unless --execute is given.",
                    "The group must have no active members to execute."})
    static final class ResetOffsets extends Sub {
        @Parameters(paramLabel = "GROUP", description = "The group id.")
        String group;

        @Option(names = "--topic", required = true, paramLabel = "TOPIC[:P,P...]",
                description = "The topic to reset, optionally only some of its partitions (e.g. orders:0,2); repeatable.")
        List<String> topics;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        static final class Target {
            @Option(names = "--to-earliest", description = "Reset to the log start offset.")
            boolean earliest;

            @Option(names = "--to-latest", description = "Reset to the log end offset.")
            boolean latest;

            @Option(names = "--to-datetime", paramLabel = "ISO8601",
                    description = "Reset to the first offset with a timestamp at or after this time, e.g. 2026-05-01T12:00:00Z "
                            + "(no zone: local time). Past the last record: the log end offset.")
            String datetime;

            @Option(names = "--to-offset", paramLabel = "N", description = "Reset to this offset (clamped to the log's range).")
            Long offset;
        }

        @Option(names = "--execute", description = "Apply the plan (without it, nothing is changed).")
        boolean execute;

        @Override
        String group() {
            return group;
        }

        @Override
        void run(Admin admin) throws Exception {
            Long timestamp = target.datetime == null ? null : parseTime(target.datetime);
            List<TopicPartition> partitions = partitions(admin);
            Map<TopicPartition, Long> current = committed(admin, group);
            PartitionOffsets askedEarliest = PartitionOffsets.ask(admin, partitions, OffsetSpec.earliest());
            PartitionOffsets askedLatest = PartitionOffsets.ask(admin, partitions, OffsetSpec.latest());
            PartitionOffsets askedByTime = timestamp == null ? null : PartitionOffsets.ask(admin, partitions, OffsetSpec.forTimestamp(timestamp));
            Map<TopicPartition, Long> earliest = askedEarliest.answers();
            Map<TopicPartition, Long> latest = askedLatest.answers();
            Map<TopicPartition, Long> byTime = askedByTime == null ? Map.of() : askedByTime.answers();
            Map<TopicPartition, Long> plan = new LinkedHashMap<>();
            for (TopicPartition tp : partitions) {
                Long low = earliest.get(tp);
                Long high = latest.get(tp);
                if (low == null || high == null || (timestamp != null && byTime.get(tp) == null)) {
                    // All or nothing: a reset of only the partitions that answered would be a different reset.
                    throw new Failure("cannot read the offsets of " + tp + " (has it no leader now?); nothing was reset");
                }
                long next;
                if (target.earliest) {
                    next = low;
                } else if (target.latest) {
                    next = high;
                } else if (target.datetime != null) {
                    long found = byTime.get(tp);
                    next = found < 0 ? high : found;
                } else {
                    next = Math.max(low, Math.min(high, target.offset));
                }
                plan.put(tp, next);
            }

            if (execute) {
                // Kafka's coordinator refuses offset commits from outside a group with members
                // (UNKNOWN_MEMBER_ID); say so before trying, as kafka-consumer-groups.sh does.
                ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                if (description != null && !description.members().isEmpty()) {
                    throw new Failure("group '" + group + "' has active members (state " + description.groupState()
                            + "); offsets can only be reset while its consumers are stopped");
                }
                Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
                plan.forEach((tp, offset) -> offsets.put(tp, new OffsetAndMetadata(offset)));
                admin.alterConsumerGroupOffsets(group, offsets).all().get();
            }
            Table table = new Table("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET");
            plan.forEach((tp, next) -> table.row(group, tp.topic(), String.valueOf(tp.partition()), dash(current.get(tp)), String.valueOf(next)));
            table.print(out());
            out().println();
            out().println(execute ? "Reset " + plan.size() + " partition offset" + (plan.size() == 1 ? "" : "s") + " of group '" + group + "'."
                    : "Dry run: nothing changed. Add --execute to apply.");
        }

        private List<TopicPartition> partitions(Admin admin) throws Exception {
            Map<String, List<Integer>> wanted = new LinkedHashMap<>();
            for (String spec : topics) {
                int colon = spec.lastIndexOf(':');
                String topic = colon < 0 ? spec : spec.substring(0, colon);
                List<Integer> chosen = wanted.computeIfAbsent(topic, t -> new ArrayList<>());
                if (colon >= 0) {
                    for (String p : spec.substring(colon + 1).split(",")) {
                        try {
                            chosen.add(Integer.parseInt(p.trim()));
                        } catch (NumberFormatException e) {
                            throw new Failure("bad partition '" + p + "' in --topic " + spec);
                        }
                    }
                }
            }
            Map<String, TopicDescription> described;
            try {
                described = admin.describeTopics(wanted.keySet()).allTopicNames().get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    throw new Failure("topic does not exist: " + String.join(", ", wanted.keySet()));
                }
                throw e;
            }
            List<TopicPartition> partitions = new ArrayList<>();
            for (Map.Entry<String, List<Integer>> e : wanted.entrySet()) {
                TreeMap<Integer, TopicPartitionInfo> existing = new TreeMap<>();
                described.get(e.getKey()).partitions().forEach(p -> existing.put(p.partition(), p));
                if (e.getValue().isEmpty()) {
                    existing.keySet().forEach(p -> partitions.add(new TopicPartition(e.getKey(), p)));
                } else {
                    for (int p : e.getValue()) {
                        if (!existing.containsKey(p)) {
                            throw new Failure("topic '" + e.getKey() + "' has no partition " + p);
                        }
                        partitions.add(new TopicPartition(e.getKey(), p));
                    }
                }
            }
            return partitions;
        }

        static long parseTime(String text) {
            try {
                return OffsetDateTime.parse(text).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                // fall through: no offset, try an instant, then local time
            }
            try {
                return Instant.parse(text).toEpochMilli();
            } catch (DateTimeParseException e) {
                // fall through
            }
            try {
                return LocalDateTime.parse(text).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
            } catch (DateTimeParseException e) {
                throw new Failure("bad --to-datetime '" + text + "': expected ISO 8601, e.g. 2026-05-01T12:00:00Z or 2026-05-01T12:00:00.000+02:00");
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a group and its committed offsets (it must have no members).")
    static final class Delete extends Sub {
        @Parameters(paramLabel = "GROUP", description = "The group id.")
        String group;

        @Override
        String group() {
            return group;
        }

        @Override
        void run(Admin admin) throws Exception {
            admin.deleteConsumerGroups(List.of(group)).all().get();
            out().println("Deleted group '" + group + "'.");
        }
    }

    static String dash(Long value) {
        return value == null ? "-" : value.toString();
    }

    /** Left-aligned columns, two spaces apart, as the Kafka tools print them. */
    static final class Table {
        private final List<String[]> rows = new ArrayList<>();

        Table(String... header) {
            rows.add(header);
        }

        void row(String... cells) {
            rows.add(cells);
        }

        void print(PrintWriter out) {
            int[] widths = new int[rows.get(0).length];
            for (String[] row : rows) {
                for (int i = 0; i < row.length; i++) {
                    widths[i] = Math.max(widths[i], row[i].length());
                }
            }
            for (String[] row : rows) {
                StringBuilder line = new StringBuilder();
                for (int i = 0; i < row.length; i++) {
                    line.append(row[i]);
                    if (i < row.length - 1) {
                        line.append(" ".repeat(widths[i] - row[i].length() + 2));
                    }
                }
                out.println(line);
            }
        }
    }
}
