package io.spate.broker.cli;

import io.spate.broker.SpateConfig;
import io.spate.broker.cli.ClusterCommand.Failure;
import io.spate.broker.cli.ClusterCommand.Layout;
import io.spate.broker.cli.ClusterCommand.Node;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** {@code spate cluster up}: starts the nodes in the background and returns once all of them serve Kafka. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = {"Start a local cluster: N 'spate start' processes on 127.0.0.1 that keep running after this command exits.",
                "Returns once every node serves Kafka and the cluster lists all N nodes, then prints 'bootstrap: HOST:PORT,...' and 'http: http://HOST:PORT,...' (node i's HTTP on its Kafka port + 200).",
                "A stopped cluster restarts on its data when started again with the same --dir, --nodes and --base-port.",
                "Exit codes: 0 up; 1 not up in time (the nodes that did not come up and the end of their logs are printed; "
                        + "nodes that did start keep running); 2 refused (a cluster already runs in DIR, a port is in use, bad values).",
                "On a directory whose cluster is partly running, only the stopped nodes are started again.",
                "The nodes share this machine's cores: each runs num.io.threads = cores / N network threads (at least 1; -o overrides it)."})
final class ClusterCommandUp extends ClusterCommand.Sub {
    static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xms128m", "-Xmx1g", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=10");
    private static final String OFFSETS_TOPIC_REPLICATION_FACTOR = "offsets.topic.replication.factor";
    private static final int LOG_TAIL_LINES = 20;
    private static final File NULL_FILE = new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");

    @Option(names = "--nodes", required = true, paramLabel = "N",
            description = "How many nodes (1 to " + ClusterCommand.MAX_NODES + "). With up to " + ClusterCommand.MAX_ALL_VOTERS
                    + " nodes every node is a controller voter; with more, nodes 1 to " + ClusterCommand.VOTERS_IN_LARGE_CLUSTERS + " are.")
    int nodes;

    @Option(names = "--base-port", paramLabel = "P",
            description = "Node i serves Kafka on P+i-1 and, if a voter, runs its controller on P+100+i-1 "
                    + "(default: " + ClusterCommand.DEFAULT_BASE_PORT + ", or the base port recorded in DIR when restarting a stopped cluster).")
    Integer basePort;

    @Option(names = "--timeout-s", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long to wait for every node to serve Kafka (default: ${DEFAULT-VALUE}).")
    int timeoutS;

    @Option(names = {"-o", "--override"}, paramLabel = "NAME=VALUE",
            description = "A setting for every node, as 'spate start -o NAME=VALUE'; repeatable. A stopped cluster started again keeps "
                    + "the settings it had: a NAME given again takes the new VALUE, and NAME= (no value) drops it.")
    Map<String, String> overrides = new LinkedHashMap<>();

    /** A node process this command started, and where its output began in its (appended) log. */
    private record Started(Node node, Process process, Path log, long logOffset) {
    }

    @Override
    int execute() throws Exception {
        Path dir = dir();
        if (nodes < 1 || nodes > ClusterCommand.MAX_NODES) {
            throw Failure.refused("--nodes must be between 1 and " + ClusterCommand.MAX_NODES + ", not " + nodes);
        }
        if (timeoutS < 1) {
            throw Failure.refused("--timeout-s must be at least 1, not " + timeoutS);
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw Failure.refused(dir + " exists and is not a directory");
        }
        int base = basePort == null ? ClusterCommand.DEFAULT_BASE_PORT : basePort;
        java.util.Set<Integer> alreadyRunning = new java.util.HashSet<>();
        ClusterOverrides restartedSettings = null;
        if (Files.isRegularFile(dir.resolve(ClusterCommand.LAYOUT_FILE))) {
            Layout existing = Layout.read(dir);
            List<String> running = new ArrayList<>();
            for (Node node : existing.nodes()) {
                ClusterCommand.liveProcess(dir, node).ifPresent(p -> {
                    running.add("node " + node.id() + " pid " + p.pid());
                    alreadyRunning.add(node.id());
                });
            }
            if (running.size() == existing.nodes().size()) {
                throw Failure.refused("a cluster is already running in " + dir + " (" + String.join(", ", running)
                        + "); stop it first with 'spate cluster down --dir " + dir + "'");
            }
            restartedSettings = ClusterOverrides.merge(existing.overrides(), overrides);
            overrides = new LinkedHashMap<>(restartedSettings.settings());
            if (basePort == null) {
                base = existing.basePort();
            }
            if (existing.nodes().size() != nodes || existing.basePort() != base) {
                throw Failure.refused(dir + " holds a stopped " + existing.nodes().size() + "-node cluster on base port " + existing.basePort()
                        + "; restart it with --nodes " + existing.nodes().size() + " --base-port " + existing.basePort() + ", or use another --dir");
            }
        } else if (Files.isDirectory(dir) && !isEmpty(dir)) {
            throw Failure.refused(dir + " is not empty and holds no " + ClusterCommand.LAYOUT_FILE + "; use a new or empty directory");
        }
        int highest = base + ClusterCommand.HTTP_PORT_OFFSET + nodes - 1;
        if (base < 1 || highest > 65535) {
            throw Failure.refused("--base-port " + base + " does not leave room for " + nodes + " node(s): ports up to " + highest
                    + " are needed, and the highest is 65535");
        }
        Layout layout = Layout.of(nodes, base, overrides);
        for (Node node : layout.nodes()) {
            if (alreadyRunning.contains(node.id())) {
                continue;
            }
            checkPortFree(node.kafkaPort(), "node " + node.id() + "'s Kafka port");
            checkPortFree(node.httpPort(), "node " + node.id() + "'s HTTP port");
            if (node.voter()) {
                checkPortFree(node.controllerPort(), "node " + node.id() + "'s controller port");
            }
        }

        Files.createDirectories(dir);
        layout.write(dir);
        List<String> command = nodeLauncher();
        PrintWriter out = out();
        out.printf("starting %d node%s in %s (controller quorum: node%s %s)%n", nodes, nodes == 1 ? "" : "s", dir,
                layout.nodes().stream().filter(Node::voter).count() == 1 ? "" : "s", layout.voterIds());
        out.flush();
        long startNanos = System.nanoTime();
        List<Started> started = new ArrayList<>();
        if (restartedSettings != null) {
            printSettings(out, restartedSettings, !alreadyRunning.isEmpty());
        }
        if (!alreadyRunning.isEmpty()) {
            out.printf("nodes %s are running; starting the others%n", new java.util.TreeSet<>(alreadyRunning));
        }
        for (Node node : layout.nodes()) {
            if (alreadyRunning.contains(node.id())) {
                continue;
            }
            try {
                started.add(launch(dir, layout, node, command));
            } catch (IOException e) {
                for (Started s : started) {
                    s.process().destroyForcibly();
                    Files.deleteIfExists(s.node().pidFile(dir));
                }
                throw Failure.failed("cannot start node " + node.id() + " (" + command.getFirst() + "): " + e.getMessage());
            }
            Started s = started.getLast();
            out.printf("node %d: pid %d, Kafka on %s, %s, log %s%n", node.id(), s.process().pid(), node.bootstrap(),
                    node.voter() ? "controller on " + ClusterCommand.HOST + ":" + node.controllerPort() : "not a controller voter",
                    node.logFile(dir));
            out.flush();
        }
        return awaitReady(dir, layout, started, startNanos);
    }

    /** What a restart's -o changed of the settings the cluster was started with, and what it keeps. */
    private static void printSettings(PrintWriter out, ClusterOverrides merged, boolean someRunning) {
        merged.changes().forEach(change -> out.println("setting " + change));
        if (!merged.kept().isEmpty()) {
            out.println("keeping the earlier setting" + (merged.kept().size() == 1 ? " " : "s ") + String.join(", ", merged.kept()));
        }
        if (someRunning && !merged.changes().isEmpty()) {
            // A running node read its settings when it started: only the nodes started now take the changes.
            out.println("the nodes running now keep the settings they started with; 'spate cluster down' and up again to apply the changes to all");
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static void checkPortFree(int port, String what) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(ClusterCommand.HOST, port));
        } catch (IOException e) {
            throw Failure.refused("port " + port + " (" + what + ") is already in use; choose another --base-port");
        }
    }

    /** The java executable, JVM options and jar (or class path and main class) this process runs with. */
    static List<String> nodeLauncher() {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>();
        command.add(java);
        // The options the launcher script uses, including its SPATE_JVM_OPTS override.
        String custom = System.getenv("SPATE_JVM_OPTS");
        if (custom != null && !custom.isBlank()) {
            command.addAll(List.of(custom.trim().split("\\s+")));
        } else {
            command.addAll(DEFAULT_JVM_OPTIONS);
        }
        Path code;
        try {
            code = Path.of(SpateCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            throw Failure.failed("cannot tell where Spate's classes are: " + e.getMessage());
        }
        if (Files.isRegularFile(code)) {
            command.addAll(List.of("-jar", code.toString()));
        } else {
            // run from a classes directory (an IDE, an in-process test): the same class path
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), SpateCommand.class.getName()));
        }
        return command;
    }

    /**
     * The network threads each node of a local cluster gets: the nodes share this machine's cores,
     * so each takes its share (at least one) instead of a standalone node's one per core. Three
     * nodes on two cores with two event loops each ran six loops that every produce request's
     * replication rounds woke in turn; with one each, A's 3-node p99 fell by about a quarter and the
     * nodes' CPU by about a seventh (README, Performance). {@code -o num.io.threads=N} overrides it.
     */
    static int ioThreadsPerNode(int cores, int nodes) {
        return Math.max(1, cores / nodes);
    }

    private Started launch(Path dir, Layout layout, Node node, List<String> launcher) throws IOException {
        Files.createDirectories(node.dataDir(dir));
        Path log = node.logFile(dir);
        long offset = Files.exists(log) ? Files.size(log) : 0;
        List<String> command = new ArrayList<>(launcher);
        command.addAll(List.of("start", "--node-id", String.valueOf(node.id()), "--controllers", layout.controllers(),
                "--host", ClusterCommand.HOST, "--port", String.valueOf(node.kafkaPort()),
                "--http-port", String.valueOf(node.httpPort()), "--data-dir", node.dataDir(dir).toString()));
        Map<String, String> settings = new LinkedHashMap<>();
        if (layout.nodes().size() < 3) {
            // the default (3) cannot be met by fewer nodes: the first consumer group would fail
            settings.put(OFFSETS_TOPIC_REPLICATION_FACTOR, String.valueOf(layout.nodes().size()));
        }
        settings.put(SpateConfig.NUM_IO_THREADS, String.valueOf(ioThreadsPerNode(Runtime.getRuntime().availableProcessors(), layout.nodes().size())));
        settings.putAll(layout.overrides());
        settings.forEach((name, value) -> command.addAll(List.of("-o", name + "=" + value)));
        Process process = new ProcessBuilder(command)
                .directory(node.home(dir).toFile())
                .redirectInput(ProcessBuilder.Redirect.from(NULL_FILE))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true)
                .start();
        Files.writeString(node.pidFile(dir), process.pid() + "\n");
        return new Started(node, process, log, offset);
    }

    /** Waits for every node's ready line and for the cluster to list every node; reports what did not come up. */
    private int awaitReady(Path dir, Layout layout, List<Started> started, long startNanos) throws InterruptedException {
        long deadline = startNanos + TimeUnit.SECONDS.toNanos(timeoutS);
        boolean[] ready = new boolean[started.size()];
        Set<Integer> registered = new TreeSet<>();
        String clusterError = null;
        Admin admin = null;
        try {
            while (true) {
                boolean allReady = true;
                boolean anyDead = false;
                for (int i = 0; i < started.size(); i++) {
                    Started s = started.get(i);
                    if (!ready[i]) {
                        ready[i] = printedReadyLine(s);
                    }
                    allReady &= ready[i];
                    anyDead |= !s.process().isAlive();
                }
                if (anyDead) {
                    break;
                }
                if (allReady) {
                    if (admin == null) {
                        admin = ClusterCommand.admin(layout.bootstrap(), 5_000, 3_000);
                    }
                    long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    try {
                        registered.clear();
                        admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) Math.max(100, Math.min(5_000, remainingMs))))
                                .nodes().get().forEach(n -> registered.add(n.id()));
                        clusterError = null;
                    } catch (ExecutionException e) {
                        clusterError = ClusterCommand.explain(e);
                    }
                    if (layout.nodes().stream().allMatch(n -> registered.contains(n.id()))) {
                        double seconds = (System.nanoTime() - startNanos) / 1e9;
                        out().printf("cluster of %d node%s up in %.1f s; 'spate cluster status --dir %s' shows it, 'spate cluster down --dir %s' stops it%n",
                                layout.nodes().size(), layout.nodes().size() == 1 ? "" : "s", seconds, dir, dir);
                        out().println("bootstrap: " + layout.bootstrap());
                        out().println("http: " + layout.http());
                        return 0;
                    }
                }
                if (System.nanoTime() - deadline >= 0) {
                    break;
                }
                Thread.sleep(200);
            }
        } finally {
            if (admin != null) {
                admin.close(java.time.Duration.ofMillis(500));
            }
        }
        return reportFailure(dir, started, ready, registered, clusterError);
    }

    private static boolean printedReadyLine(Started s) {
        String marker = "spate: node " + s.node().id() + " serving Kafka on";
        try (InputStream in = Files.newInputStream(s.log())) {
            in.skipNBytes(s.logOffset());
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).contains(marker);
        } catch (IOException e) {
            return false;
        }
    }

    private int reportFailure(Path dir, List<Started> started, boolean[] ready, Set<Integer> registered, String clusterError) {
        out().flush();
        PrintWriter err = err();
        boolean anyDead = started.stream().anyMatch(s -> !s.process().isAlive());
        err.println(anyDead ? "spate: the cluster did not come up: a node exited"
                : "spate: the cluster did not come up within " + timeoutS + " s");
        List<Integer> stillRunning = new ArrayList<>();
        for (int i = 0; i < started.size(); i++) {
            Started s = started.get(i);
            Node node = s.node();
            String problem;
            if (!s.process().isAlive()) {
                problem = "exited with code " + s.process().exitValue() + (ready[i] ? " after serving Kafka" : " before serving Kafka");
                try {
                    Files.deleteIfExists(node.pidFile(dir));
                } catch (IOException ignored) {
                    // 'cluster down' treats a pid file of a dead process as stale
                }
            } else if (!ready[i]) {
                stillRunning.add(node.id());
                problem = "running, but has not said it serves Kafka yet";
            } else if (clusterError != null) {
                stillRunning.add(node.id());
                problem = "serves Kafka, but the cluster did not answer DescribeCluster (" + clusterError + ")";
            } else if (!registered.contains(node.id())) {
                stillRunning.add(node.id());
                problem = "serves Kafka, but the cluster does not list it (it lists "
                        + (registered.isEmpty() ? "no node" : "node(s) " + registered.stream().map(String::valueOf).collect(Collectors.joining(","))) + ")";
            } else {
                stillRunning.add(node.id());
                continue;
            }
            err.printf("node %d (pid %d) did not come up: %s%n", node.id(), s.process().pid(), problem);
            List<String> tail = ClusterCommand.tail(s.log(), s.logOffset(), LOG_TAIL_LINES);
            if (tail.isEmpty()) {
                err.printf("  %s has nothing from this start%n", s.log());
            } else {
                err.printf("  last %d line%s of %s:%n", tail.size(), tail.size() == 1 ? "" : "s", s.log());
                tail.forEach(line -> err.println("  | " + line));
            }
        }
        if (!stillRunning.isEmpty()) {
            err.printf("spate: node%s %s still running; 'spate cluster down --dir %s' stops %s%n",
                    stillRunning.size() == 1 ? "" : "s", stillRunning.stream().map(String::valueOf).collect(Collectors.joining(", ")),
                    dir, stillRunning.size() == 1 ? "it" : "them");
        }
        err.flush();
        return 1;
    }
}
