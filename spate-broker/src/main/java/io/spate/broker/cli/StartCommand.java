package io.spate.broker.cli;

import io.spate.broker.SpateConfig;
import io.spate.broker.SpateNode;
import io.spate.log.InvalidConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code spate start}: runs one node in the foreground until Ctrl-C or SIGTERM. */
@Command(name = "start", mixinStandardHelpOptions = true,
        description = "Run a Spate node in the foreground (Ctrl-C or SIGTERM stops it cleanly).")
final class StartCommand implements Callable<Integer> {
    static final String DATA_DIR = "--data-dir";
    static final String PORT = "--port";
    static final String HOST = "--host";
    static final String NODE_ID = "--node-id";
    static final String CONTROLLERS = "--controllers";
    static final String CONFIG = "--config";
    static final String OVERRIDE = "-o";
    static final String HTTP_PORT = "--http-port";
    /** The HTTP API's port when none is chosen (Confluent's REST Proxy's): taken only if free. */
    static final int DEFAULT_HTTP_PORT = 8082;

    /** Each single-valued flag and the setting it stands for: one table for picocli and {@link QuickStartArgs}. */
    static final Map<String, String> FLAG_SETTINGS = Map.of(
            DATA_DIR, SpateConfig.LOG_DIRS, PORT, SpateConfig.PORT, HOST, SpateConfig.HOST,
            NODE_ID, SpateConfig.NODE_ID, CONTROLLERS, SpateConfig.CONTROLLER_QUORUM_VOTERS, HTTP_PORT, SpateConfig.HTTP_PORT);

    @Option(names = DATA_DIR, paramLabel = "DIR", description = "Where the logs live (default: ./spate-data).")
    Path dataDir;

    @Option(names = PORT, paramLabel = "PORT", description = "Kafka listener port on the host (default: 9092).")
    Integer port;

    @Option(names = HOST, paramLabel = "HOST", description = "Address to listen on and advertise (default: 127.0.0.1; "
            + "0.0.0.0: every interface, advertising this machine's host name).")
    String host;

    @Option(names = NODE_ID, paramLabel = "N", description = "This node's id in a cluster (node.id; default: 1).")
    Integer nodeId;

    @Option(names = CONTROLLERS, paramLabel = "ID@HOST:PORT,...",
            description = "The controller quorum (controller.quorum.voters), e.g. 1@127.0.0.1:9192,2@127.0.0.1:9193,3@127.0.0.1:9194. "
                    + "A node listed there runs a voter on that port, its node-to-node port. Without it the node runs standalone.")
    String controllers;

    @Option(names = HTTP_PORT, paramLabel = "PORT", description = "HTTP API port (http.port; default: " + DEFAULT_HTTP_PORT
            + " when free, else none; 0: any free port; -1: no HTTP).")
    Integer httpPort;

    @Option(names = CONFIG, paramLabel = "FILE", description = "A properties file with Kafka-named settings.")
    Path configFile;

    @Option(names = {OVERRIDE, "--override"}, paramLabel = "NAME=VALUE", description = "One setting, overriding the file; repeatable.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        Map<String, String> flags = new LinkedHashMap<>();
        put(flags, DATA_DIR, dataDir);
        put(flags, PORT, port);
        put(flags, HOST, host);
        put(flags, NODE_ID, nodeId);
        put(flags, CONTROLLERS, controllers);
        put(flags, HTTP_PORT, httpPort);
        return run(configFile, overrides, flags);
    }

    private static final long SLOW_START_DUMP_MS = 30_000;

    private static boolean configuredHttpPort(Path configFile, Map<String, String> overrides, Map<String, String> flagSettings) {
        return flagSettings.containsKey(SpateConfig.HTTP_PORT) || overrides.containsKey(SpateConfig.HTTP_PORT)
                || (configFile != null && SpateConfig.readFile(configFile).containsKey(SpateConfig.HTTP_PORT));
    }

    /** ThreadInfo.toString cuts stacks at eight frames. */
    private static String fullStack(java.lang.management.ThreadInfo thread) {
        StringBuilder out = new StringBuilder("\"").append(thread.getThreadName()).append("\" ").append(thread.getThreadState());
        if (thread.getLockName() != null) {
            out.append(" on ").append(thread.getLockName());
        }
        if (thread.getLockOwnerName() != null) {
            out.append(" owned by \"").append(thread.getLockOwnerName()).append('"');
        }
        out.append('\n');
        for (StackTraceElement frame : thread.getStackTrace()) {
            out.append("\tat ").append(frame).append('\n');
        }
        return out.append('\n').toString();
    }

    private static void put(Map<String, String> flags, String flag, Object value) {
        if (value != null) {
            flags.put(FLAG_SETTINGS.get(flag), value.toString());
        }
    }

    /**
     * Starts the node: settings from {@code configFile}, then {@code overrides}, then the flags
     * (already translated to setting names); blocks until the node is stopped.
     */
    static int run(Path configFile, Map<String, String> overrides, Map<String, String> flagSettings) throws InterruptedException {
        SpateConfig config;
        try {
            Map<String, String> file = configFile == null ? Map.of() : SpateConfig.readFile(configFile);
            config = SpateConfig.from(List.of(file, overrides, flagSettings));
        } catch (InvalidConfigException e) {
            System.err.println("spate: bad configuration: " + e.getMessage());
            return 2;
        }
        // A port asked for must be served; the default is taken when free, after the start (several
        // nodes on one host, as scripts and tests run them, need not each name a port).
        boolean defaultHttpPort = !configuredHttpPort(configFile, overrides, flagSettings);
        SpateNode node;
        // A start that takes this long is waiting on something (a quorum, a peer): what it waits
        // on, taken while it still waits, is the first thing anyone looking into it needs.
        Thread watchdog = Thread.ofPlatform().name("spate-start-watchdog").daemon().start(() -> {
            try {
                Thread.sleep(SLOW_START_DUMP_MS);
            } catch (InterruptedException started) {
                return;
            }
            StringBuilder dump = new StringBuilder("spate: still starting after " + SLOW_START_DUMP_MS / 1000 + " s; the node's threads:\n");
            for (java.lang.management.ThreadInfo thread : java.lang.management.ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
                dump.append(fullStack(thread));
            }
            System.err.print(dump);
        });
        try {
            node = SpateNode.start(config);
        } catch (java.io.IOException | RuntimeException e) {
            System.err.println("spate: cannot start: " + FailureReport.describe(e));
            return 1;
        } finally {
            watchdog.interrupt();
        }
        if (defaultHttpPort && config.httpPort() < 0) {
            node.serveHttp(DEFAULT_HTTP_PORT);
        }
        node.fatalError().thenAccept(reason -> {
            // Halt, as Kafka does on a failed metadata log directory: a clean stop would write to
            // the disk that just failed, and the controller fences a silent node within its session.
            System.err.println("spate: stopping at once: " + reason);
            System.err.flush();
            System.out.flush();
            Runtime.getRuntime().halt(1);
        });
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                System.out.println("spate: stopped cleanly");
            } catch (RuntimeException e) {
                System.out.println("spate: error while stopping: " + e);
            } finally {
                System.out.flush();
                stopped.countDown();
            }
        }, "spate-shutdown"));
        long startedMs = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
        System.out.printf("spate: node %d serving Kafka on %s (data in %s, cluster %s, ready %d ms after JVM start)%n",
                config.nodeId(), node.bootstrapServers(), config.dataDir().toAbsolutePath(), node.clusterId(), startedMs);
        if (node.httpPort() >= 0) {
            System.out.printf("spate: node %d serving HTTP on http://%s:%d%n", config.nodeId(), config.host(), node.httpPort());
        } else {
            System.out.printf("spate: node %d serves no HTTP (port %d is in use, or --http-port -1)%n", config.nodeId(), DEFAULT_HTTP_PORT);
        }
        System.out.flush();
        stopped.await();
        return 0;
    }
}
