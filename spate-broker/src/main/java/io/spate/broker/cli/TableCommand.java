package io.spate.broker.cli;

import io.spate.tables.Consistency;
import io.spate.tables.client.TablesClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code spate table}: the masterless tables from the command line, over the nodes' HTTP API
 * ({@link TablesClient}). The tables are served over HTTP, not the Kafka protocol: the command
 * takes the nodes' HTTP addresses ({@code --http}), or, like the topic commands, a bootstrap
 * server, from which it learns every node and the HTTP port each serves (DescribeConfigs on the
 * node shows the port it bound). Any node coordinates any request; several addresses spread and
 * fail over.
 */
@Command(name = "table", mixinStandardHelpOptions = true,
        description = "Create, list, read, write, delete and repair masterless tables (over the nodes' HTTP API).",
        subcommands = {TableCommand.Create.class, TableCommand.ListTables.class, TableCommand.Get.class, TableCommand.Put.class,
                TableCommand.Delete.class, TableCommand.Repair.class, CommandLine.HelpCommand.class})
public final class TableCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    abstract static class TableSub implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--http", paramLabel = "URL", split = ",", defaultValue = "http://127.0.0.1:8082",
                description = "A node's HTTP API (default: ${DEFAULT-VALUE}); repeatable or comma-separated.")
        List<String> http = new ArrayList<>();

        @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT",
                description = "A node's Kafka listener, instead of --http: every node's HTTP API is learned from the cluster.")
        String bootstrapServer;

        @Option(names = "--timeout", paramLabel = "MS",
                description = "How long to wait for an answer, in milliseconds (default: 30000; repair: 610000, as a node's repair runs up to 10 minutes).")
        Integer timeoutMs;

        /** The --timeout given, or the subcommand's default. */
        int timeoutMs() {
            return timeoutMs != null ? timeoutMs : defaultTimeoutMs();
        }

        int defaultTimeoutMs() {
            return 30_000;
        }

        @Option(names = "--json", description = "Print JSON (stable field names) instead of text.")
        boolean json;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        abstract int run(TablesClient client) throws Exception;

        /** The HTTP APIs to ask: those given, or those the cluster at --bootstrap-server serves. */
        List<String> httpApis() {
            if (bootstrapServer == null) {
                return http.stream().map(u -> u.contains("://") ? u : "http://" + u).toList();
            }
            if (spec.commandLine().getParseResult().hasMatchedOption("--http")) {
                throw new IllegalArgumentException("give --bootstrap-server or --http, not both");
            }
            return HttpApis.of(bootstrapServer, timeoutMs());
        }

        @Override
        public final Integer call() {
            List<String> apis;
            try {
                apis = httpApis();
            } catch (GroupsCommand.Failure | IllegalArgumentException e) {
                return fail(e.getMessage());
            }
            try (TablesClient client = TablesClient.of(apis, Duration.ofMillis(timeoutMs()))) {
                http = apis;
                int exit = run(client);
                out().flush();
                return exit;
            } catch (TablesClient.TablesException e) {
                return fail(e.getMessage());
            } catch (UncheckedIOException e) {
                return fail("no answer from " + apis + ": " + (e.getCause() == null ? e.getMessage() : e.getCause().toString())
                        + " (is a node serving HTTP there?)");
            } catch (GroupsCommand.Failure | IllegalArgumentException e) {
                return fail(e.getMessage());
            } catch (Exception e) {
                return fail(e.toString());
            }
        }

        int fail(String message) {
            out().flush();
            PrintWriter err = spec.commandLine().getErr();
            err.println("spate: " + message);
            err.flush();
            return 1;
        }

        static Consistency level(String text) {
            return text == null ? null : io.spate.tables.service.TableSettings.consistency("--consistency", text);
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a table in the cluster's catalog.")
    static final class Create extends TableSub {
        @Parameters(paramLabel = "NAME", description = "The table.")
        String name;

        @Option(names = {"-r", "--replication-factor"}, paramLabel = "N", required = true, description = "Replicas per key.")
        int replicationFactor;

        @Option(names = "--write-consistency", paramLabel = "LEVEL", description = "Default W: one, quorum (default) or all.")
        String write;

        @Option(names = "--read-consistency", paramLabel = "LEVEL", description = "Default R: one, quorum (default) or all.")
        String read;

        @Option(names = "--durability", paramLabel = "MODE", description = "sync_each, batched:MS (default batched:5) or none.")
        String durability;

        @Option(names = "--tombstone-grace-ms", paramLabel = "MS", description = "How long deletions are kept (default 10 days).")
        Long graceMs;

        @Option(names = "--sloppy-quorum", description = "Count stand-ins' acknowledgements toward W.")
        boolean sloppy;

        @Override
        int run(TablesClient client) {
            Map<String, String> options = new LinkedHashMap<>();
            Optional.ofNullable(write).ifPresent(v -> options.put("writeConsistency", v));
            Optional.ofNullable(read).ifPresent(v -> options.put("readConsistency", v));
            Optional.ofNullable(durability).ifPresent(v -> options.put("durability", v));
            Optional.ofNullable(graceMs).ifPresent(v -> options.put("tombstoneGraceMs", String.valueOf(v)));
            if (sloppy) {
                options.put("sloppyQuorum", "true");
            }
            TablesClient.TableInfo t = client.create(name, replicationFactor, options);
            if (json) {
                out().println(ClientCommand.json(row(t)));
            } else {
                out().println("created table " + t.name() + " (replication factor " + t.replicationFactor() + ")");
            }
            return 0;
        }
    }

    static Map<String, Object> row(TablesClient.TableInfo t) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", t.name());
        row.put("replication_factor", t.replicationFactor());
        row.put("write_consistency", t.writeConsistency());
        row.put("read_consistency", t.readConsistency());
        row.put("durability", t.durability());
        row.put("tombstone_grace_ms", t.tombstoneGraceMs());
        row.put("sloppy_quorum", t.sloppyQuorum());
        return row;
    }

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "The tables of the cluster's catalog.")
    static final class ListTables extends TableSub {
        @Override
        int run(TablesClient client) {
            List<TablesClient.TableInfo> tables = client.list();
            if (json) {
                out().println(ClientCommand.json(tables.stream().map(TableCommand::row).toList()));
                return 0;
            }
            GroupsCommand.Table table = new GroupsCommand.Table("TABLE", "RF", "WRITE", "READ", "DURABILITY", "GRACE-MS", "SLOPPY");
            for (TablesClient.TableInfo t : tables) {
                table.row(t.name(), String.valueOf(t.replicationFactor()), t.writeConsistency(), t.readConsistency(), t.durability(),
                        String.valueOf(t.tombstoneGraceMs()), String.valueOf(t.sloppyQuorum()));
            }
            table.print(out());
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Print a key's value (exit 1 when it is absent); --json adds its version.")
    static final class Get extends TableSub {
        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Option(names = {"-c", "--consistency"}, paramLabel = "LEVEL", description = "R: one, quorum or all (default: the table's).")
        String consistency;

        @Override
        int run(TablesClient client) {
            Optional<TablesClient.Versioned> got = client.get(table, key, level(consistency));
            if (json) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("table", table);
                row.put("key", key);
                row.put("found", got.isPresent());
                row.put("value", got.map(v -> new String(v.value(), StandardCharsets.UTF_8)).orElse(null));
                row.put("version", got.map(v -> Long.toUnsignedString(v.version())).orElse(null));
                out().println(ClientCommand.json(row));
                return got.isPresent() ? 0 : 1;
            }
            if (got.isEmpty()) {
                return fail("key '" + key + "' not found in table '" + table + "'");
            }
            out().println(new String(got.get().value(), StandardCharsets.UTF_8));
            return 0;
        }
    }

    @Command(name = "put", mixinStandardHelpOptions = true, description = "Write a key's value (from the argument, a file or stdin).")
    static final class Put extends TableSub {
        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Parameters(index = "2", paramLabel = "VALUE", arity = "0..1", description = "The value (UTF-8); without it, --file or stdin.")
        String value;

        @Option(names = "--file", paramLabel = "PATH", description = "Read the value from a file.")
        Path file;

        @Option(names = {"-c", "--consistency"}, paramLabel = "LEVEL", description = "W: one, quorum or all (default: the table's).")
        String consistency;

        @Option(names = "--after", paramLabel = "VERSION", description = "The last version seen: this write is ordered after it.")
        String after;

        @Override
        int run(TablesClient client) throws IOException {
            byte[] bytes = value != null ? value.getBytes(StandardCharsets.UTF_8)
                    : file != null ? Files.readAllBytes(file) : System.in.readAllBytes();
            long version = client.put(table, key, bytes, level(consistency), after == null ? 0 : Long.parseUnsignedLong(after));
            printVersion("written", version);
            return 0;
        }

        void printVersion(String what, long version) {
            if (json) {
                out().println(ClientCommand.json(Map.of("table", table, "key", key, "version", Long.toUnsignedString(version))));
            } else {
                out().println(what + " " + table + "/" + key + " version " + Long.toUnsignedString(version));
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a key (a tombstone, kept for the table's grace).")
    static final class Delete extends TableSub {
        @Parameters(index = "0", paramLabel = "TABLE")
        String table;

        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Option(names = {"-c", "--consistency"}, paramLabel = "LEVEL", description = "W: one, quorum or all (default: the table's).")
        String consistency;

        @Option(names = "--after", paramLabel = "VERSION", description = "The last version seen: this delete is ordered after it.")
        String after;

        @Override
        int run(TablesClient client) {
            long version = client.delete(table, key, level(consistency), after == null ? 0 : Long.parseUnsignedLong(after));
            if (json) {
                out().println(ClientCommand.json(Map.of("table", table, "key", key, "version", Long.toUnsignedString(version))));
            } else {
                out().println("deleted " + table + "/" + key + " version " + Long.toUnsignedString(version));
            }
            return 0;
        }
    }

    @Command(name = "repair", mixinStandardHelpOptions = true,
            description = "Run anti-entropy for a table now, from each node given (or, with --bootstrap-server, every node)"
                    + " with every other live replica.")
    static final class Repair extends TableSub {
        @Parameters(paramLabel = "TABLE")
        String table;

        /** The node waits up to 10 minutes for its repair (then answers 504): wait a little longer for that answer. */
        @Override
        int defaultTimeoutMs() {
            return 610_000;
        }

        @Override
        int run(TablesClient unused) {
            // Each node repairs the ranges it holds: every node given is asked in turn, not just one.
            List<Map<String, Object>> rows = new ArrayList<>();
            GroupsCommand.Table out = new GroupsCommand.Table("NODE", "SESSIONS", "IN-SYNC", "ABANDONED", "PUSHED", "PULLED");
            for (String node : http) {
                try (TablesClient one = TablesClient.of(List.of(node), Duration.ofMillis(timeoutMs()))) {
                    TablesClient.Repair r = one.repair(table);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("node", node);
                    row.put("sessions", r.sessions());
                    row.put("in_sync", r.inSync());
                    row.put("abandoned", r.abandoned());
                    row.put("keys_pushed", r.keysPushed());
                    row.put("keys_pulled", r.keysPulled());
                    rows.add(row);
                    out.row(node, String.valueOf(r.sessions()), String.valueOf(r.inSync()), String.valueOf(r.abandoned()),
                            String.valueOf(r.keysPushed()), String.valueOf(r.keysPulled()));
                }
            }
            if (json) {
                out().println(ClientCommand.json(rows));
            } else {
                out.print(out());
            }
            return rows.stream().allMatch(r -> ((Integer) r.get("abandoned")) == 0) ? 0 : 1;
        }
    }
}
