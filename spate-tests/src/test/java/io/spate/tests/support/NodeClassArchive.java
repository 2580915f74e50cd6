package io.spate.tests.support;

import io.spate.chaos.cluster.LoopbackPorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A class-data-sharing archive of the node's classes for the node processes the tests start, as
 * {@code ./spate start} keeps one for its own: on two busy cores a node spends most of its start
 * loading classes (Ratis, gRPC, Netty, kafka-clients), and the system tests start and restart
 * nodes dozens of times. The archive is made once per test JVM, in a directory of its own (two
 * builds side by side never share one), by starting a one-voter cluster node until it serves and
 * stopping it with SIGTERM: the JVM writes the archive as it exits. Every node started afterwards
 * maps it read-only; the node's behaviour is the same, only its classes load faster. Any failure
 * leaves the nodes starting as before, without an archive. The directory is removed when the test
 * JVM exits; one a JVM left behind (a fork that was halted) is removed by the next training.
 */
final class NodeClassArchive {
    private static final long TRAIN_TIMEOUT_MS = 120_000;
    /** Null until asked for; then the JVM options every node is started with (empty without an archive). */
    private static List<String> options;

    private NodeClassArchive() {
    }

    /** JVM options that map the archive, made on the first call (empty when it could not be made, or -Dspate.test.cds=false). */
    static synchronized List<String> jvmOptions(String javaBin, String jar, List<String> nodeOptions) {
        if (options == null) {
            options = Boolean.parseBoolean(System.getProperty("spate.test.cds", "true")) ? train(javaBin, jar, nodeOptions) : List.of();
        }
        return options;
    }

    private static final String DIR_PREFIX = "spate-test-cds-";

    private static List<String> train(String javaBin, String jar, List<String> nodeOptions) {
        long started = System.nanoTime();
        Path work = null;
        try {
            removeLeftOvers();
            work = Files.createTempDirectory(DIR_PREFIX + ProcessHandle.current().pid() + "-");
            Path made = work;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(made), "spate-test-cds-cleanup"));
            Path archive = work.resolve("node.jsa");
            Path output = work.resolve("node.log");
            List<String> command = new ArrayList<>(List.of(javaBin));
            command.addAll(nodeOptions); // the archive is made under the options that map it
            command.addAll(List.of("-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off",
                    "-jar", jar, "start", "--data-dir", work.resolve("data").toString(), "--port", String.valueOf(freePort()),
                    "--node-id", "1", "--controllers", "1@127.0.0.1:" + freePort(), "--host", "127.0.0.1"));
            Process node = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TRAIN_TIMEOUT_MS);
                while (!serves(output)) {
                    if (!node.isAlive() || System.nanoTime() - deadline > 0) {
                        log("the training node did not serve; nodes start without a class-data archive");
                        return List.of();
                    }
                    Thread.sleep(50);
                }
                node.destroy(); // SIGTERM: the JVM exits normally and writes the archive
                if (!node.waitFor(60, TimeUnit.SECONDS)) {
                    log("the training node did not stop; nodes start without a class-data archive");
                    return List.of();
                }
            } finally {
                node.destroyForcibly();
            }
            if (!Files.isRegularFile(archive) || Files.size(archive) == 0) {
                log("no class-data archive was written; nodes start without one");
                return List.of();
            }
            deleteTree(work.resolve("data"));
            Files.deleteIfExists(output);
            log("class-data archive for the nodes: " + archive + " (" + Files.size(archive) / 1024 / 1024 + " MB, made in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms)");
            // -Xshare:auto: an archive the JVM cannot use is passed over, and the node starts as without one.
            return List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
        } catch (IOException e) {
            log("class-data archive: " + e + "; nodes start without one");
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /** Archive directories of test JVMs that are gone (named {@code spate-test-cds-PID-...}). */
    private static void removeLeftOvers() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> dirs = Files.list(tmp)) {
            for (Path dir : dirs.filter(d -> d.getFileName().toString().startsWith(DIR_PREFIX)).toList()) {
                String[] parts = dir.getFileName().toString().substring(DIR_PREFIX.length()).split("-", 2);
                try {
                    long pid = Long.parseLong(parts[0]);
                    if (parts.length == 2 && ProcessHandle.of(pid).isEmpty()) {
                        deleteTree(dir);
                    }
                } catch (NumberFormatException notOurs) {
                    // not a directory named by this class
                }
            }
        } catch (IOException ignored) {
            // nothing to clean, or not readable
        }
    }

    private static boolean serves(Path output) throws IOException {
        return Files.isRegularFile(output) && new String(Files.readAllBytes(output), StandardCharsets.UTF_8).contains("serving Kafka on");
    }

    private static int freePort() throws IOException {
        return LoopbackPorts.free();
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind
        }
    }

    private static void log(String line) {
        System.out.println(java.time.LocalTime.now() + " [test] " + line);
    }
}
