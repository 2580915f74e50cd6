package io.spate.tests.support;

import io.spate.chaos.cluster.LoopbackPorts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A Spate node in a child JVM, started from the packaged broker jar, so that tests can kill it
 * with {@code kill -9} (SIGKILL) and restart it on the same data directory.
 */
public final class SpateProcess implements AutoCloseable {
    /**
     * A test's node lives seconds to minutes and is started 130-odd times a suite run on two
     * cores: C1 alone and the serial collector take about 40 % less CPU to bring a node up (C2
     * spent more of a start than the node's own code, measured with a class-data archive), at
     * the cost of peak speed no test measures. What the node does is the same.
     */
    private static final List<String> JVM_OPTIONS = List.of("-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    private final Path dataDir;
    private final int port;
    private final Path logFile;
    private final Map<String, String> settings;
    private final List<String> extraArgs;
    private String host = "127.0.0.1";
    private List<String> prefix = List.of();
    private Process process;
    private Thread pump;

    public SpateProcess(Path dataDir, Map<String, String> settings) throws IOException {
        this(dataDir, freePort(), List.of(), settings);
    }

    /**
     * A node on a given Kafka port with extra {@code spate start} arguments (for a cluster member:
     * {@code --node-id}, {@code --controllers}, {@code --host}).
     */
    public SpateProcess(Path dataDir, int port, List<String> extraArgs, Map<String, String> settings) {
        this.dataDir = dataDir;
        this.port = port;
        this.logFile = dataDir.resolveSibling(dataDir.getFileName() + "-node.log");
        this.settings = settings;
        this.extraArgs = List.copyOf(extraArgs);
    }

    /**
     * Runs the node through a command prefix (e.g. {@code ip netns exec NS}, which execs the JVM,
     * so signals still reach the node itself) and reaches it at {@code host} (what it binds with
     * {@code --host}).
     */
    public SpateProcess placed(String host, List<String> prefix) {
        this.host = host;
        this.prefix = List.copyOf(prefix);
        return this;
    }

    /** A port for a node to bind: see {@link LoopbackPorts}. */
    public static int freePort() throws IOException {
        return LoopbackPorts.free();
    }

    public String bootstrap() {
        return host + ":" + port;
    }

    public int port() {
        return port;
    }

    public Path logFile() {
        return logFile;
    }

    public Path dataDir() {
        return dataDir;
    }

    public long pid() {
        return process.pid();
    }

    /** Starts the node and returns once it logs that it serves (or fails with its output). */
    public SpateProcess start() throws Exception {
        String jar = System.getProperty("spate.broker.jar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new IllegalStateException("broker jar not found at " + jar + "; run the build through Maven");
        }
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(prefix);
        command.add(javaBin);
        command.addAll(JVM_OPTIONS);
        command.addAll(NodeClassArchive.jvmOptions(javaBin, jar, JVM_OPTIONS));
        command.addAll(List.of("-jar", jar, "start",
                "--data-dir", dataDir.toString(), "--port", String.valueOf(port)));
        command.addAll(extraArgs);
        settings.forEach((k, v) -> command.addAll(List.of("-o", k + "=" + v)));
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        pump = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    Files.writeString(logFile, line + "\n", StandardCharsets.UTF_8,
                            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    if (line.contains("serving Kafka on")) {
                        ready.complete(null);
                    }
                }
            } catch (IOException ignored) {
                // the process is gone
            }
            ready.completeExceptionally(new IllegalStateException("node exited before serving; output:\n" + output()));
        }, "spate-process-output");
        pump.setDaemon(true);
        pump.start();
        try {
            // Generous: a cluster node waits for a quorum, and several JVMs start at once on two cores.
            ready.get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("node did not serve within 120 s; output:\n" + output(), e);
        }
        return this;
    }

    public String output() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** SIGKILL: no shutdown hook, no final fsync, no clean-shutdown marker. */
    public void kill9() throws InterruptedException {
        // ProcessHandle signals without closing our end of the node's output, unlike Process.destroy*.
        process.toHandle().destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("node " + process.pid() + " survived SIGKILL");
        }
        pump.join(10_000);
    }

    /** SIGTERM: the node stops cleanly. */
    public int terminate() throws InterruptedException {
        process.toHandle().destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("node did not stop within 30 s of SIGTERM");
        }
        pump.join(10_000); // everything the node printed is in the log file once its output ends
        return process.exitValue();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        // Kept in the test's output file (surefire), for diagnosing a failed run.
        System.out.println("---- output of node on " + bootstrap() + " ----\n" + output());
        if (isAlive()) {
            kill9();
        }
    }
}
