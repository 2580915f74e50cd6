package io.spate.chaos.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A class-data-sharing archive for the campaign's copy of the node, as {@code ./spate start} keeps
 * one for its own: a node restarted by a fault on a machine whose two cores are busy spent most of
 * its 10 to 25 s start loading classes (Ratis and gRPC among them). The archive is made once per
 * campaign by starting a one-voter cluster node from that copy until it serves, then stopping it
 * (the JVM writes the archive as it exits); every node of every run maps it read-only.
 */
public final class NodeArchive {
    private static final long TRAIN_TIMEOUT_MS = 120_000;

    private NodeArchive() {
    }

    /** The archive beside {@code jar}, in a file {@link ChaosCluster} looks for. */
    public static Path of(Path jar) {
        return jar.toAbsolutePath().resolveSibling("spate.jsa");
    }

    /** JVM options that map {@code archive} if it is there (and is silently ignored if the JVM cannot use it). */
    static List<String> jvmOptions(Path jar) {
        Path archive = of(jar);
        return Files.isRegularFile(archive)
                ? List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off")
                : List.of();
    }

    /** Makes the archive for {@code jar}; on any failure the nodes simply start without one. */
    public static void train(String java, Path jar, Consumer<String> log) {
        Path archive = of(jar);
        try {
            // The campaign copies the jar afresh each time, so an archive already there is for an older copy.
            Files.deleteIfExists(archive);
            Path work = Files.createTempDirectory("spate-chaos-cds-");
            try {
                long started = System.nanoTime();
                Path output = work.resolve("node.log");
                List<String> command = List.of(java, "-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off",
                        "-jar", jar.toAbsolutePath().toString(), "start", "--data-dir", work.resolve("data").toString(),
                        "--port", String.valueOf(freePort()), "--node-id", "1", "--controllers", "1@127.0.0.1:" + freePort(),
                        "--host", "127.0.0.1");
                Process node = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
                try {
                    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TRAIN_TIMEOUT_MS);
                    while (!serves(output)) {
                        if (!node.isAlive() || System.nanoTime() - deadline > 0) {
                            log.accept("class-data archive: the training node did not start; nodes start without one");
                            return;
                        }
                        Thread.sleep(100);
                    }
                    node.destroy();
                    if (!node.waitFor(60, TimeUnit.SECONDS)) {
                        log.accept("class-data archive: the training node did not stop; nodes start without one");
                        return;
                    }
                } finally {
                    node.destroyForcibly();
                }
                if (Files.isRegularFile(archive)) {
                    log.accept("class-data archive for the nodes: " + archive + " (" + Files.size(archive) / 1024 / 1024 + " MB, made in "
                            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms)");
                }
            } finally {
                deleteTree(work);
            }
        } catch (IOException e) {
            log.accept("class-data archive: " + e + "; nodes start without one");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
}
