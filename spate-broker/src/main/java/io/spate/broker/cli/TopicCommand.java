package io.spate.broker.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DeleteTopicsResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;

/**
 * {@code spate topic}: topic administration in the manner of Redpanda's {@code rpk topic}, over
 * the Kafka protocol only (kafka-clients' {@link Admin}), so it works against any Spate node or
 * Kafka broker it can reach. Every command prints an aligned table, or JSON with {@code --json}.
 */
@Command(name = "topic", mixinStandardHelpOptions = true,
        description = "Create, list, describe, reconfigure and delete topics (over the Kafka protocol).",
        subcommands = {TopicCommand.Create.class, TopicCommand.ListTopics.class, TopicCommand.Describe.class,
                TopicCommand.AlterConfig.class, TopicCommand.AddPartitions.class, TopicCommand.Delete.class, CommandLine.HelpCommand.class})
public final class TopicCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A topic subcommand: one admin client, an optional JSON output. */
    abstract static class TopicSub extends ClientCommand {
        @Option(names = "--json", description = "Print JSON (stable field names) instead of a table.")
        boolean json;

        @Override
        final int execute() throws Exception {
            try (Admin admin = connection.admin("spate-topic")) {
                return run(admin);
            }
        }

        abstract int run(Admin admin) throws Exception;
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create topics (partitions and replication factor default to the broker's settings).")
    static final class Create extends TopicSub {
        @Parameters(paramLabel = "NAME", arity = "1..*", description = "The topics to create.")
        List<String> names;

        @Option(names = {"-p", "--partitions"}, paramLabel = "N", description = "Partitions per topic (default: the broker's num.partitions).")
        Integer partitions;

        @Option(names = {"-r", "--replication-factor"}, paramLabel = "N",
                description = "Replicas per partition (default: the broker's default.replication.factor).")
        Short replicationFactor;

        @Option(names = {"-c", "--config"}, paramLabel = "KEY=VALUE", description = "A topic setting (retention.ms, cleanup.policy, ...); repeatable.")
        List<String> configs = new ArrayList<>();

        @Override
        int run(Admin admin) throws Exception {
            if (partitions != null && partitions < 1) {
                throw new GroupsCommand.Failure("bad --partitions " + partitions + ": at least 1");
            }
            if (replicationFactor != null && replicationFactor < 1) {
                throw new GroupsCommand.Failure("bad --replication-factor " + replicationFactor + ": at least 1");
            }
            Map<String, String> settings = new LinkedHashMap<>();
            for (String c : configs) {
                Map.Entry<String, String> kv = keyValue("--config", c);
                settings.put(kv.getKey(), kv.getValue());
            }
            List<NewTopic> topics = new ArrayList<>();
            for (String name : new LinkedHashSet<>(names)) {
                topics.add(new NewTopic(name, Optional.ofNullable(partitions), Optional.ofNullable(replicationFactor)).configs(settings));
            }
            CreateTopicsResult result = admin.createTopics(topics);
            List<Map<String, Object>> rows = new ArrayList<>();
            GroupsCommand.Table table = new GroupsCommand.Table("TOPIC", "PARTITIONS", "REPLICAS", "STATUS");
            int failed = 0;
            for (NewTopic topic : topics) {
                String name = topic.name();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("topic", name);
                try {
                    result.values().get(name).get();
                    int p = result.numPartitions(name).get();
                    int r = result.replicationFactor(name).get();
                    row.put("partitions", p);
                    row.put("replication_factor", r);
                    row.put("error", null);
                    table.row(name, String.valueOf(p), String.valueOf(r), "OK");
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                        throw e;
                    }
                    failed++;
                    String why = topicError(name, e.getCause());
                    row.put("partitions", null);
                    row.put("replication_factor", null);
                    row.put("error", why);
                    error(why);
                }
                rows.add(row);
            }
            if (json) {
                out().println(json(rows));
            } else if (failed < topics.size()) {
                table.print(out());
            }
            return failed == 0 ? 0 : 1;
        }
    }

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true,
            description = "One line per topic: name, partitions, replication factor.")
    static final class ListTopics extends TopicSub {
        @Option(names = {"-i", "--internal"}, description = "Include internal topics (__consumer_offsets, ...).")
        boolean internal;

        @Override
        int run(Admin admin) throws Exception {
            Collection<String> names = admin.listTopics(new ListTopicsOptions().listInternal(internal)).names().get();
            Map<String, TopicDescription> described = new TreeMap<>();
            var futures = admin.describeTopics(names).topicNameValues();
            for (String name : names) {
                try {
                    described.put(name, futures.get(name).get());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                        throw e;
                    }
                    // deleted between the two requests: not listed
                }
            }
            List<Map<String, Object>> rows = new ArrayList<>();
            GroupsCommand.Table table = new GroupsCommand.Table("NAME", "PARTITIONS", "REPLICAS");
            for (TopicDescription d : described.values()) {
                if (d.isInternal() && !internal) {
                    continue;
                }
                int replicas = replicationFactor(d);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", d.name());
                row.put("partitions", d.partitions().size());
                row.put("replication_factor", replicas);
                row.put("internal", d.isInternal());
                rows.add(row);
                table.row(d.name(), String.valueOf(d.partitions().size()), String.valueOf(replicas));
            }
            if (json) {
                out().println(json(rows));
            } else {
                table.print(out());
            }
            return 0;
        }
    }

    static int replicationFactor(TopicDescription d) {
        return d.partitions().stream().mapToInt(p -> p.replicas().size()).max().orElse(0);
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "A topic's summary, its settings (* = set for the topic, not the default) and, per partition, "
                    + "its leader, replicas, in-sync replicas, log start offset and high watermark.")
    static final class Describe extends TopicSub {
        @Parameters(paramLabel = "NAME", description = "The topic.")
        String name;

        @Override
        int run(Admin admin) throws Exception {
            TopicDescription d = describeExisting(admin, List.of(name)).get(name);
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
            Config config = admin.describeConfigs(List.of(resource)).values().get(resource).get();
            List<TopicPartitionInfo> partitions = new ArrayList<>(d.partitions());
            partitions.sort(Comparator.comparingInt(TopicPartitionInfo::partition));
            List<TopicPartition> tps = partitions.stream().map(p -> new TopicPartition(name, p.partition())).toList();
            PartitionOffsets askedStart = PartitionOffsets.ask(admin, tps, OffsetSpec.earliest());
            PartitionOffsets askedEnd = PartitionOffsets.ask(admin, tps, OffsetSpec.latest());
            Map<TopicPartition, Long> start = askedStart.answers();
            Map<TopicPartition, Long> end = askedEnd.answers();
            List<ConfigEntry> entries = new ArrayList<>(config.entries());
            // the settings made for this topic first, then the defaults, each by name
            entries.sort(Comparator.comparing((ConfigEntry e) -> isDefault(e)).thenComparing(ConfigEntry::name));

            if (json) {
                Map<String, Object> topic = new LinkedHashMap<>();
                topic.put("name", name);
                topic.put("id", d.topicId() == null ? null : d.topicId().toString());
                topic.put("internal", d.isInternal());
                topic.put("partitions", partitions.size());
                topic.put("replication_factor", replicationFactor(d));
                List<Map<String, Object>> configs = new ArrayList<>();
                for (ConfigEntry e : entries) {
                    Map<String, Object> c = new LinkedHashMap<>();
                    c.put("name", e.name());
                    c.put("value", e.isSensitive() ? null : e.value());
                    c.put("source", source(e));
                    c.put("default", isDefault(e));
                    c.put("read_only", e.isReadOnly());
                    c.put("sensitive", e.isSensitive());
                    configs.add(c);
                }
                topic.put("configs", configs);
                List<Map<String, Object>> parts = new ArrayList<>();
                for (int i = 0; i < partitions.size(); i++) {
                    TopicPartitionInfo p = partitions.get(i);
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("partition", p.partition());
                    m.put("leader", p.leader() == null || p.leader().isEmpty() ? null : p.leader().id());
                    m.put("replicas", ids(p.replicas()));
                    m.put("isr", ids(p.isr()));
                    m.put("log_start_offset", start.get(tps.get(i)));
                    m.put("high_watermark", end.get(tps.get(i)));
                    parts.add(m);
                }
                topic.put("partition_details", parts);
                out().println(json(topic));
                return 0;
            }

            out().println("SUMMARY");
            GroupsCommand.Table summary = new GroupsCommand.Table("NAME", name);
            summary.row("ID", d.topicId() == null ? "-" : d.topicId().toString());
            summary.row("INTERNAL", String.valueOf(d.isInternal()));
            summary.row("PARTITIONS", String.valueOf(partitions.size()));
            summary.row("REPLICAS", String.valueOf(replicationFactor(d)));
            summary.print(out());
            out().println();
            out().println("CONFIGS (* = set for this topic, not the default)");
            GroupsCommand.Table configs = new GroupsCommand.Table(" ", "KEY", "VALUE", "SOURCE");
            for (ConfigEntry e : entries) {
                String value = e.isSensitive() ? "(sensitive)" : e.value() == null ? "-" : e.value();
                configs.row(isDefault(e) ? " " : "*", e.name(), value, source(e));
            }
            configs.print(out());
            out().println();
            out().println("PARTITIONS");
            GroupsCommand.Table table = new GroupsCommand.Table("PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "HIGH-WATERMARK");
            for (int i = 0; i < partitions.size(); i++) {
                TopicPartitionInfo p = partitions.get(i);
                table.row(String.valueOf(p.partition()), p.leader() == null || p.leader().isEmpty() ? "-" : String.valueOf(p.leader().id()),
                        list(ids(p.replicas())), list(ids(p.isr())),
                        GroupsCommand.dash(start.get(tps.get(i))), GroupsCommand.dash(end.get(tps.get(i))));
            }
            table.print(out());
            return 0;
        }

        private static List<Integer> ids(List<Node> nodes) {
            return nodes.stream().map(Node::id).toList();
        }

        private static String list(List<Integer> ids) {
            return ids.isEmpty() ? "-" : "[" + String.join(",", ids.stream().map(String::valueOf).toList()) + "]";
        }

        private static boolean isDefault(ConfigEntry e) {
            return e.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG;
        }

        /** The entry's source in short: topic, broker, default, ... */
        private static String source(ConfigEntry e) {
            return switch (e.source()) {
                case DYNAMIC_TOPIC_CONFIG -> "topic";
                case DYNAMIC_BROKER_CONFIG -> "broker";
                case DYNAMIC_DEFAULT_BROKER_CONFIG -> "cluster";
                case STATIC_BROKER_CONFIG -> "broker-config";
                case DEFAULT_CONFIG -> "default";
                default -> e.source().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
            };
        }
    }

    @Command(name = "alter-config", mixinStandardHelpOptions = true,
            description = "Set or remove a topic's settings (a removed one goes back to its default).")
    static final class AlterConfig extends TopicSub {
        @Parameters(paramLabel = "NAME", description = "The topic.")
        String name;

        @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE", description = "A setting to give a value; repeatable.")
        List<String> set = new ArrayList<>();

        @Option(names = {"-d", "--delete"}, paramLabel = "KEY", description = "A setting to put back to its default; repeatable.")
        List<String> delete = new ArrayList<>();

        @Override
        int run(Admin admin) throws Exception {
            if (set.isEmpty() && delete.isEmpty()) {
                throw new GroupsCommand.Failure("nothing to change: give --set KEY=VALUE or --delete KEY");
            }
            List<AlterConfigOp> ops = new ArrayList<>();
            Map<String, Object> changes = new LinkedHashMap<>();
            for (String s : set) {
                Map.Entry<String, String> kv = keyValue("--set", s);
                ops.add(new AlterConfigOp(new ConfigEntry(kv.getKey(), kv.getValue()), AlterConfigOp.OpType.SET));
                changes.put(kv.getKey(), kv.getValue());
            }
            for (String key : delete) {
                ops.add(new AlterConfigOp(new ConfigEntry(key, null), AlterConfigOp.OpType.DELETE));
                changes.put(key, null);
            }
            describeExisting(admin, List.of(name));
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
            try {
                admin.incrementalAlterConfigs(Map.of(resource, ops)).values().get(resource).get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                    throw e;
                }
                throw new GroupsCommand.Failure(topicError(name, e.getCause()));
            }
            if (json) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("topic", name);
                result.put("changes", changes);
                out().println(json(result));
            } else {
                GroupsCommand.Table table = new GroupsCommand.Table("TOPIC", "KEY", "NEW-VALUE");
                changes.forEach((k, v) -> table.row(name, k, v == null ? "(default)" : v.toString()));
                table.print(out());
            }
            return 0;
        }
    }

    @Command(name = "add-partitions", mixinStandardHelpOptions = true,
            description = {"Add partitions to topics (as rpk topic add-partitions). Records already written stay where they are;",
                    "keys written from now on may go to another partition than before."})
    static final class AddPartitions extends TopicSub {
        @Parameters(paramLabel = "NAME", arity = "1..*", description = "The topics to grow.")
        List<String> names;

        @Option(names = {"-n", "--num"}, required = true, paramLabel = "N", description = "How many partitions to add to each topic.")
        int num;

        @Override
        int run(Admin admin) throws Exception {
            if (num < 1) {
                throw new GroupsCommand.Failure("--num must be at least 1, not " + num);
            }
            List<String> topics = new ArrayList<>(new LinkedHashSet<>(names));
            Map<String, TopicDescription> described = describeExisting(admin, topics);
            Map<String, org.apache.kafka.clients.admin.NewPartitions> request = new LinkedHashMap<>();
            described.forEach((topic, d) -> request.put(topic, org.apache.kafka.clients.admin.NewPartitions.increaseTo(d.partitions().size() + num)));
            var futures = admin.createPartitions(request).values();
            List<Map<String, Object>> rows = new ArrayList<>();
            GroupsCommand.Table table = new GroupsCommand.Table("TOPIC", "PARTITIONS", "STATUS");
            int exit = 0;
            for (String topic : topics) {
                int total = described.get(topic).partitions().size() + num;
                String status = "OK";
                try {
                    futures.get(topic).get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                        throw e;
                    }
                    status = topicError(topic, e.getCause());
                    exit = 1;
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("topic", topic);
                row.put("partitions", total);
                row.put("status", status);
                rows.add(row);
                table.row(topic, String.valueOf(total), status);
            }
            if (json) {
                out().println(json(rows));
            } else {
                table.print(out());
            }
            return exit;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete topics and all their records.")
    static final class Delete extends TopicSub {
        @Parameters(paramLabel = "NAME", arity = "1..*", description = "The topics to delete.")
        List<String> names;

        @Override
        int run(Admin admin) throws Exception {
            List<String> topics = new ArrayList<>(new LinkedHashSet<>(names));
            DeleteTopicsResult result = admin.deleteTopics(topics);
            List<Map<String, Object>> rows = new ArrayList<>();
            GroupsCommand.Table table = new GroupsCommand.Table("TOPIC", "STATUS");
            int failed = 0;
            for (String name : topics) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("topic", name);
                try {
                    result.topicNameValues().get(name).get();
                    row.put("error", null);
                    table.row(name, "OK");
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                        throw e;
                    }
                    failed++;
                    String why = topicError(name, e.getCause());
                    row.put("error", why);
                    error(why);
                }
                rows.add(row);
            }
            if (json) {
                out().println(json(rows));
            } else if (failed < topics.size()) {
                table.print(out());
            }
            return failed == 0 ? 0 : 1;
        }
    }
}
