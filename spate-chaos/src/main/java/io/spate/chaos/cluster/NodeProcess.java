package io.spate.chaos.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One Spate node as an operator runs it: {@code java -jar spate.jar start ...} in a child
 * process (inside its network namespace when there is one), its output appended to {@code
 * node.log} across restarts. Signals go to the JVM itself: kill -9, SIGTERM, SIGSTOP, SIGCONT.
 */
public final class NodeProcess {
    private final int id;
    private final List<String> command;
    private final Path logFile;
    private final Network network;
    private volatile Process process;

    NodeProcess(int id, List<String> command, Path logFile, Network network) {
        this.id = id;
        this.command = List.copyOf(command);
        this.logFile = logFile;
        this.network = network;
    }

    public int id() {
        return id;
    }

    public Path logFile() {
        return logFile;
    }

    /**
     * Kills the node and refuses every later start: a fault's restart racing with the runner's
     * own shutdown left a node running after the runner had gone.
     */
    public void retire() throws InterruptedException {
        synchronized (this) {
            retired = true;
        }
        kill9();
    }

    /** Starts the node and returns once it logs that it serves, or throws with the end of its output. */
    public void start(long timeoutMs) throws Exception {
        if (isAlive()) {
            throw new IllegalStateException("node " + id + " already runs");
        }
        mark("start");
        Process p;
        synchronized (this) {
            if (retired) {
                throw new IllegalStateException("node " + id + " was retired with its cluster");
            }
            p = new ProcessBuilder(network.wrap(id, command)).redirectErrorStream(true).start();
            process = p;
        }
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("node-" + id + "-output").start(() -> pump(p, ready));
        try {
            ready.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("node " + id + " did not serve within " + timeoutMs + " ms; see " + logFile);
        }
    }

    private void pump(Process p, CompletableFuture<Void> ready) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             Writer out = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            String line;
            while ((line = reader.readLine()) != null) {
                out.write(line);
                out.write('\n');
                out.flush();
                if (!ready.isDone() && line.contains("serving Kafka on")) {
                    ready.complete(null);
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        }
        ready.completeExceptionally(new IllegalStateException("node " + id + " exited before serving; see " + logFile));
    }

    /** A line in the node's log between its own lines, so that a fault is easy to find there. */
    public synchronized void mark(String what) {
        try {
            Files.writeString(logFile, java.time.Instant.now() + " [chaos] " + what + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // only a marker
        }
    }

    private boolean retired;

    public boolean isAlive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL, then waits for the exit. */
    public void kill9() throws InterruptedException {
        Process p = process;
        if (p == null) {
            return;
        }
        p.toHandle().destroyForcibly();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("node " + id + " survived SIGKILL");
        }
    }

    /** SIGTERM, waiting up to {@code timeoutMs} for a clean exit (then SIGKILL); returns the exit status. */
    public int terminate(long timeoutMs) throws InterruptedException {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return p == null ? -1 : p.exitValue();
        }
        p.toHandle().destroy();
        if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
            mark("did not stop within " + timeoutMs + " ms of SIGTERM: SIGKILL");
            kill9();
        }
        return p.exitValue();
    }

    /** SIGSTOP or SIGCONT. */
    public void signal(String signal) {
        Shell.run("kill", "-" + signal, String.valueOf(pid()));
    }

    static List<String> startCommand(String java, Path jar, List<String> jvmOptions, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toString(), "start"));
        command.addAll(args);
        return command;
    }
}
