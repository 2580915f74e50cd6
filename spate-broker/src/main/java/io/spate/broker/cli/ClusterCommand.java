package io.spate.broker.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

/**
 * {@code spate cluster}: a local multi-node cluster on the loopback interface, one background
 * {@code spate start} process per node, all described by {@code DIR/cluster.properties} so that
 * {@code status} and {@code down} find them again from any shell. {@code drain} works on any
 * cluster, through {@code --bootstrap-server}.
 *
 * <p>Exit codes: 0 success; 1 a runtime failure (a node did not come up, the cluster does not
 * answer, a node could not be stopped); 2 the request cannot be carried out as asked (bad flag
 * values, no cluster in the directory, a cluster already running there, a port in use).
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = {"Run a local multi-node Spate cluster on 127.0.0.1, each node a background process.",
                "Node i (1-based) serves Kafka on BASE+i-1 and its controller (Raft) port is BASE+100+i-1; "
                        + "its data, log (node.log) and pid file are in DIR/node-i, and DIR/cluster.properties records the layout."},
        subcommands = {ClusterCommandUp.class, ClusterCommandStatus.class, ClusterCommandDown.class, ClusterCommandDrain.class,
                CommandLine.HelpCommand.class})
public final class ClusterCommand implements Runnable {
    static final String HOST = "127.0.0.1";
    static final String LAYOUT_FILE = "cluster.properties";
    static final int DEFAULT_BASE_PORT = 19092;
    /** Controller ports sit this far above the Kafka ports. */
    static final int CONTROLLER_PORT_OFFSET = 100;
    /** Node i serves HTTP on its Kafka port plus this. */
    static final int HTTP_PORT_OFFSET = 200;
    /** Up to this many nodes, every node is a voter; above it, only the first {@link #VOTERS_IN_LARGE_CLUSTERS}. */
    static final int MAX_ALL_VOTERS = 5;
    static final int VOTERS_IN_LARGE_CLUSTERS = 3;
    /** More nodes would put Kafka ports on top of controller ports. */
    static final int MAX_NODES = CONTROLLER_PORT_OFFSET;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A failure to report as one line on stderr, with its exit code. */
    static final class Failure extends RuntimeException {
        final int exitCode;

        Failure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        /** The request cannot be carried out as asked: exit code 2. */
        static Failure refused(String message) {
            return new Failure(2, message);
        }

        /** Something went wrong while carrying it out: exit code 1. */
        static Failure failed(String message) {
            return new Failure(1, message);
        }
    }

    /** The shape of every subcommand: {@code --dir}, output, and failures mapped to one line. */
    abstract static class Sub implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--dir", required = true, paramLabel = "DIR",
                description = "The cluster's directory: cluster.properties, and node-1, node-2, ... with each node's data, log and pid file.")
        Path dir;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        Path dir() {
            return dir.toAbsolutePath().normalize();
        }

        /** Runs the command; returns its exit code. */
        abstract int execute() throws Exception;

        @Override
        public final Integer call() {
            try {
                int exit = execute();
                out().flush();
                err().flush();
                return exit;
            } catch (Failure e) {
                return fail(e.exitCode, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail(1, "interrupted");
            } catch (IOException e) {
                return fail(1, "I/O error: " + e.getMessage());
            } catch (Exception e) {
                return fail(1, e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            }
        }

        int fail(int exitCode, String message) {
            out().flush();
            err().println("spate: " + message);
            err().flush();
            return exitCode;
        }

        /** The cluster recorded in {@code --dir}, or a one-line refusal if there is none. */
        Layout layout() throws IOException {
            Path file = dir().resolve(LAYOUT_FILE);
            if (!Files.isRegularFile(file)) {
                throw Failure.refused("no cluster in " + dir() + " (no " + LAYOUT_FILE + "); start one with 'spate cluster up --dir " + dir() + "'");
            }
            return Layout.read(dir());
        }
    }

    /** One node of the layout. */
    record Node(int id, int kafkaPort, int controllerPort, boolean voter) {
        String bootstrap() {
            return HOST + ":" + kafkaPort;
        }

        int httpPort() {
            return kafkaPort + HTTP_PORT_OFFSET;
        }

        Path home(Path dir) {
            return dir.resolve("node-" + id);
        }

        Path dataDir(Path dir) {
            return home(dir).resolve("data");
        }

        Path logFile(Path dir) {
            return home(dir).resolve("node.log");
        }

        Path pidFile(Path dir) {
            return home(dir).resolve("pid");
        }
    }

    /** The cluster's shape: its nodes, their ports, which of them vote; kept in {@code DIR/cluster.properties}. */
    record Layout(int basePort, List<Node> nodes, Map<String, String> overrides) {
        static Layout of(int nodeCount, int basePort, Map<String, String> overrides) {
            int voters = nodeCount <= MAX_ALL_VOTERS ? nodeCount : VOTERS_IN_LARGE_CLUSTERS;
            List<Node> nodes = new ArrayList<>();
            for (int i = 1; i <= nodeCount; i++) {
                nodes.add(new Node(i, basePort + i - 1, basePort + CONTROLLER_PORT_OFFSET + i - 1, i <= voters));
            }
            return new Layout(basePort, List.copyOf(nodes), new LinkedHashMap<>(overrides));
        }

        /** {@code controller.quorum.voters}: {@code 1@127.0.0.1:19192,...}. */
        String controllers() {
            return nodes.stream().filter(Node::voter).map(n -> n.id() + "@" + HOST + ":" + n.controllerPort())
                    .collect(Collectors.joining(","));
        }

        String voterIds() {
            return nodes.stream().filter(Node::voter).map(n -> String.valueOf(n.id())).collect(Collectors.joining(","));
        }

        String bootstrap() {
            return nodes.stream().map(Node::bootstrap).collect(Collectors.joining(","));
        }

        /** The nodes' HTTP APIs: {@code http://127.0.0.1:19292,...}. */
        String http() {
            return nodes.stream().map(n -> "http://" + HOST + ":" + n.httpPort()).collect(Collectors.joining(","));
        }

        void write(Path dir) throws IOException {
            StringBuilder text = new StringBuilder();
            text.append("# A local Spate cluster, written by 'spate cluster up' and read by 'spate cluster status|down'.\n");
            text.append("# Node i serves Kafka on node.i.kafka.port; voters run the controller quorum on node.i.controller.port.\n");
            line(text, "nodes", String.valueOf(nodes.size()));
            line(text, "host", HOST);
            line(text, "base.port", String.valueOf(basePort));
            line(text, "voters", voterIds());
            line(text, "controller.quorum.voters", controllers());
            line(text, "bootstrap", bootstrap());
            for (Node n : nodes) {
                line(text, "node." + n.id() + ".kafka.port", String.valueOf(n.kafkaPort()));
                line(text, "node." + n.id() + ".controller.port", String.valueOf(n.controllerPort()));
                line(text, "node." + n.id() + ".dir", "node-" + n.id());
            }
            overrides.forEach((name, value) -> line(text, "override." + name, value));
            Path file = dir.resolve(LAYOUT_FILE);
            Path tmp = dir.resolve(LAYOUT_FILE + ".tmp");
            Files.writeString(tmp, text, StandardCharsets.ISO_8859_1);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }

        static Layout read(Path dir) throws IOException {
            Path file = dir.resolve(LAYOUT_FILE);
            Properties props = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
                props.load(reader);
            }
            try {
                int count = Integer.parseInt(required(props, file, "nodes"));
                int basePort = Integer.parseInt(required(props, file, "base.port"));
                List<Integer> voterIds = new ArrayList<>();
                for (String id : required(props, file, "voters").split(",")) {
                    if (!id.isBlank()) {
                        voterIds.add(Integer.parseInt(id.trim()));
                    }
                }
                List<Node> nodes = new ArrayList<>();
                for (int i = 1; i <= count; i++) {
                    nodes.add(new Node(i, Integer.parseInt(required(props, file, "node." + i + ".kafka.port")),
                            Integer.parseInt(required(props, file, "node." + i + ".controller.port")), voterIds.contains(i)));
                }
                Map<String, String> overrides = new LinkedHashMap<>();
                props.stringPropertyNames().stream().filter(k -> k.startsWith("override.")).sorted()
                        .forEach(k -> overrides.put(k.substring("override.".length()), props.getProperty(k)));
                return new Layout(basePort, List.copyOf(nodes), overrides);
            } catch (NumberFormatException e) {
                throw Failure.failed(file + " is damaged: " + e.getMessage());
            }
        }

        private static String required(Properties props, Path file, String key) {
            String value = props.getProperty(key);
            if (value == null || value.isBlank()) {
                throw Failure.failed(file + " is damaged: no '" + key + "'");
            }
            return value.trim();
        }

        private static void line(StringBuilder text, String key, String value) {
            text.append(escape(key, true)).append('=').append(escape(value, false)).append('\n');
        }

        /** {@link Properties#store} escaping, for the few characters that need it. */
        private static String escape(String s, boolean key) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    // in a value only the first character can start a comment or a separator
                    case '=', ':', '#', '!' -> b.append(key || i == 0 ? "\\" : "").append(c);
                    case ' ' -> b.append(key || i == 0 ? "\\ " : " ");
                    default -> {
                        if (c < 0x20 || c > 0x7e) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            return b.toString();
        }
    }

    /** The pid recorded for a node, or empty if there is no (readable) pid file. */
    static Optional<Long> recordedPid(Path dir, Node node) {
        Path file = node.pidFile(dir);
        try {
            return Optional.of(Long.parseLong(Files.readString(file).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * The node's process if its pid file names a live process that is that node: a pid left by a
     * node that died may since have been given to an unrelated program, which must not be signalled.
     */
    static Optional<ProcessHandle> liveProcess(Path dir, Node node) {
        return recordedPid(dir, node).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive)
                .filter(p -> isNodeProcess(p, dir, node));
    }

    /** Whether {@code process}'s command line runs {@code node} (when the OS does not tell, assume it does). */
    static boolean isNodeProcess(ProcessHandle process, Path dir, Node node) {
        ProcessHandle.Info info = process.info();
        String dataDir = node.dataDir(dir).toString();
        Optional<String> commandLine = info.commandLine();
        if (commandLine.isPresent()) {
            return commandLine.get().contains(dataDir);
        }
        Optional<String[]> arguments = info.arguments();
        if (arguments.isPresent()) {
            return List.of(arguments.get()).contains(dataDir);
        }
        return true;
    }

    /** The last {@code lines} lines of {@code file} from byte {@code from} on (at most its last 64 KiB). */
    static List<String> tail(Path file, long from, int lines) {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long start = Math.max(from, raf.length() - 65_536);
            if (start >= raf.length()) {
                return List.of();
            }
            byte[] bytes = new byte[(int) (raf.length() - start)];
            raf.seek(start);
            raf.readFully(bytes);
            List<String> all = new String(bytes, StandardCharsets.UTF_8).lines().toList();
            return all.subList(Math.max(0, all.size() - lines), all.size());
        } catch (IOException e) {
            return List.of("(cannot read " + file + ": " + e.getMessage() + ")");
        }
    }

    /** An admin client with short timeouts, the Kafka clients' own logging kept off the terminal. */
    static Admin admin(String bootstrap, int apiTimeoutMs, int requestTimeoutMs) {
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.org.apache.kafka", "error");
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, apiTimeoutMs);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, requestTimeoutMs);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "spate-cluster");
        props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 100);
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 50);
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        return Admin.create(props);
    }

    /** A one-line account of why an admin call failed. */
    static String explain(Throwable e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException) {
                return "no answer in time";
            }
        }
        String message = cause.getMessage();
        return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }
}
