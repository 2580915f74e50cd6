package io.spate.tests;

import io.spate.tests.support.Clients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code spate cluster up|status|down} run as child processes of the packaged broker jar, as a user
 * runs them: the nodes it starts must outlive the {@code up} process, and {@code down} must find
 * them again from the cluster directory alone.
 */
class ClusterCommandTest {
    private static final int NODES = 3;

    @TempDir
    Path dir;

    @TempDir
    Path outputs;

    record Run(int exit, String out, String err) {
        /** The whitespace-separated cells of every output line whose first cell is {@code first}. */
        List<String> row(String first) {
            return out.lines().map(l -> Arrays.asList(l.trim().split("\\s+")))
                    .filter(cells -> cells.getFirst().equals(first)).findFirst()
                    .orElseThrow(() -> new AssertionError("no row for '" + first + "' in:\n" + out));
        }
    }

    /** Runs {@code java -jar spate.jar <args>} and waits for it to exit. */
    private Run spate(Duration timeout, String... args) throws Exception {
        String jar = System.getProperty("spate.broker.jar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new IllegalStateException("broker jar not found at " + jar + "; run the build through Maven");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-jar", jar));
        command.addAll(List.of(args));
        // Output to files, not pipes: nothing the CLI starts can then keep this test waiting on a pipe.
        Path out = Files.createTempFile(outputs, "out", ".txt");
        Path err = Files.createTempFile(outputs, "err", ".txt");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("'spate " + String.join(" ", args) + "' did not finish within " + timeout);
        }
        Run run = new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        System.out.println("---- spate " + String.join(" ", args) + " (exit " + run.exit() + ") ----\n" + run.out() + run.err());
        return run;
    }

    /**
     * A base port P with P..P+2 (Kafka) and P+100..P+102 (controllers) free, chosen below the
     * ephemeral range (32768+ on Linux, 49152+ elsewhere) so that no client connection takes one
     * of them between this check and the nodes binding them.
     */
    private static int freeBasePort() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 32_000 - 200);
            boolean free = true;
            for (int i = 0; i < NODES && free; i++) {
                free = isFree(base + i) && isFree(base + 100 + i) && isFree(base + 200 + i);
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no free base port found");
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private Optional<Long> pid(int node) {
        try {
            return Optional.of(Long.parseLong(Files.readString(dir.resolve("node-" + node).resolve("pid")).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Never leak node processes: {@code cluster down}, then SIGKILL whatever a pid file still names. */
    @AfterEach
    void down() throws Exception {
        for (int node = 1; node <= NODES; node++) {
            Path log = dir.resolve("node-" + node).resolve("node.log");
            if (Files.exists(log)) {
                System.out.println("---- " + log + " ----\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
        }
        List<Long> pids = new ArrayList<>();
        for (int node = 1; node <= NODES; node++) {
            pid(node).ifPresent(pids::add);
        }
        try {
            if (Files.exists(dir.resolve("cluster.properties"))) {
                spate(Duration.ofSeconds(90), "cluster", "down", "--dir", dir.toString());
            }
        } finally {
            for (long pid : pids) {
                // only a process that still runs a node of this cluster: a pid may have been reused
                ProcessHandle.of(pid).filter(p -> p.info().commandLine().map(c -> c.contains(dir.toString())).orElse(true))
                        .ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void upStartsAReplicatedClusterThatStatusDescribesAndDownStops() throws Exception {
        int base = freeBasePort();
        String bootstrap = "127.0.0.1:" + base + ",127.0.0.1:" + (base + 1) + ",127.0.0.1:" + (base + 2);

        Run up = spate(Duration.ofSeconds(180), "cluster", "up", "--nodes", String.valueOf(NODES), "--dir", dir.toString(),
                "--base-port", String.valueOf(base), "--timeout-s", "120");
        assertThat(up.exit()).as(up.err()).isZero();
        assertThat(up.out().lines().filter(l -> l.startsWith("bootstrap:"))).containsExactly("bootstrap: " + bootstrap);
        // then the nodes' HTTP APIs, each on its Kafka port + 200
        assertThat(up.out().lines().toList().getLast()).isEqualTo("http: http://127.0.0.1:" + (base + 200) + ",http://127.0.0.1:" + (base + 201)
                + ",http://127.0.0.1:" + (base + 202));
        assertThat(dir.resolve("cluster.properties")).exists();
        List<Long> pids = new ArrayList<>();
        for (int node = 1; node <= NODES; node++) {
            long pid = pid(node).orElseThrow(() -> new AssertionError("no pid file for a node"));
            assertThat(alive(pid)).as("node process %d outlives 'cluster up'", pid).isTrue();
            pids.add(pid);
        }
        // the nodes share this machine's cores: each runs its share of network threads
        String ioThreads = "-o num.io.threads=" + Math.max(1, Runtime.getRuntime().availableProcessors() / NODES);
        for (long pid : pids) {
            assertThat(ProcessHandle.of(pid).flatMap(p -> p.info().commandLine())).as("node process %d's command line", pid)
                    .hasValueSatisfying(line -> assertThat(line).contains(ioThreads));
        }

        // a second 'up' on a running cluster is refused, and starts nothing
        Run again = spate(Duration.ofSeconds(60), "cluster", "up", "--nodes", String.valueOf(NODES), "--dir", dir.toString(),
                "--base-port", String.valueOf(base));
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err().strip()).startsWith("spate: a cluster is already running in").doesNotContain("\n");

        try (Admin admin = Clients.admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic("replicated", 3, (short) 3).configs(Map.of("min.insync.replicas", "2"))))
                    .all().get(60, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                TopicDescription topic = admin.describeTopics(List.of("replicated")).allTopicNames().get().get("replicated");
                assertThat(topic.partitions()).hasSize(3).allSatisfy(p -> {
                    assertThat(p.replicas()).hasSize(3);
                    assertThat(p.leader()).isNotNull();
                    assertThat(p.leader().id()).isBetween(1, NODES);
                });
            });
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "replicated");
            assertThat(admin.describeConfigs(List.of(resource)).all().get().get(resource).get("min.insync.replicas").value())
                    .isEqualTo("2");
        }

        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            Run status = spate(Duration.ofSeconds(60), "cluster", "status", "--dir", dir.toString());
            assertThat(status.exit()).as(status.err()).isZero();
            assertThat(status.row("NODE")).containsExactly("NODE", "KAFKA-PORT", "CONTROLLER-PORT", "PID", "ALIVE",
                    "CONTROLLER-LEADER", "PARTITION-LEADERS");
            int controllerLeaders = 0;
            int partitionLeaders = 0;
            for (int node = 1; node <= NODES; node++) {
                List<String> row = status.row(String.valueOf(node));
                assertThat(row).hasSize(7);
                assertThat(row.subList(0, 5)).containsExactly(String.valueOf(node), String.valueOf(base + node - 1),
                        String.valueOf(base + 100 + node - 1), String.valueOf(pids.get(node - 1)), "yes");
                assertThat(row.get(5)).isIn("yes", "no");
                controllerLeaders += row.get(5).equals("yes") ? 1 : 0;
                partitionLeaders += Integer.parseInt(row.get(6));
            }
            assertThat(controllerLeaders).as("exactly one controller leader").isEqualTo(1);
            assertThat(partitionLeaders).as("the topic's 3 partitions (and any internal ones) have leaders").isGreaterThanOrEqualTo(3);
        });

        Run down = spate(Duration.ofSeconds(90), "cluster", "down", "--dir", dir.toString());
        assertThat(down.exit()).as(down.err()).isZero();
        for (int node = 1; node <= NODES; node++) {
            assertThat(down.out()).contains("stopped node " + node + " (pid " + pids.get(node - 1) + ")");
            assertThat(dir.resolve("node-" + node).resolve("pid")).doesNotExist();
        }
        for (long pid : pids) {
            assertThat(alive(pid)).as("node process %d is gone after 'cluster down'", pid).isFalse();
        }

        // stopping a stopped cluster is not an error
        Run downAgain = spate(Duration.ofSeconds(60), "cluster", "down", "--dir", dir.toString());
        assertThat(downAgain.exit()).isZero();
        assertThat(downAgain.out()).contains("is not running");

        // and its status still lists the nodes, as not running
        Run stopped = spate(Duration.ofSeconds(60), "cluster", "status", "--dir", dir.toString());
        assertThat(stopped.exit()).isEqualTo(1);
        assertThat(stopped.row("1").get(4)).isEqualTo("no");
        assertThat(stopped.out()).contains("cluster not reachable");
    }

    /** The settings a node process was started with, from its command line. */
    private List<String> settingsOf(int node) {
        long pid = pid(node).orElseThrow(() -> new AssertionError("no pid file for node " + node));
        String line = ProcessHandle.of(pid).flatMap(p -> p.info().commandLine()).orElseThrow();
        List<String> settings = new ArrayList<>();
        List<String> words = Arrays.asList(line.split("\\s+"));
        for (int i = 0; i + 1 < words.size(); i++) {
            if (words.get(i).equals("-o")) {
                settings.add(words.get(i + 1));
            }
        }
        return settings;
    }

    /** A stopped cluster started again with one new -o keeps the settings it was first started with. */
    @Test
    void aRestartWithANewSettingKeepsTheEarlierOnes() throws Exception {
        int base = freeBasePort();
        Run up = spate(Duration.ofSeconds(180), "cluster", "up", "--nodes", "1", "--dir", dir.toString(), "--base-port", String.valueOf(base),
                "--timeout-s", "120", "-o", "min.insync.replicas=1", "-o", "log.retention.ms=3600000");
        assertThat(up.exit()).as(up.err()).isZero();
        assertThat(settingsOf(1)).contains("min.insync.replicas=1", "log.retention.ms=3600000");
        Run down = spate(Duration.ofSeconds(90), "cluster", "down", "--dir", dir.toString());
        assertThat(down.exit()).as(down.err()).isZero();

        Run again = spate(Duration.ofSeconds(180), "cluster", "up", "--nodes", "1", "--dir", dir.toString(), "--timeout-s", "120",
                "-o", "log.segment.bytes=2097152", "-o", "log.retention.ms=7200000");
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(settingsOf(1)).contains("min.insync.replicas=1", "log.retention.ms=7200000", "log.segment.bytes=2097152")
                .doesNotContain("log.retention.ms=3600000");
        assertThat(Files.readString(dir.resolve("cluster.properties"))).contains("override.min.insync.replicas=1",
                "override.log.retention.ms=7200000", "override.log.segment.bytes=2097152");
        assertThat(again.out()).contains("setting log.segment.bytes=2097152 (new)", "setting log.retention.ms=7200000 (was 3600000)",
                "keeping the earlier setting min.insync.replicas=1");
    }
}
