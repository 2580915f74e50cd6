package io.spate.chaos.cluster;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A local cluster of node processes for one chaos run: nodes 1 to {@code voters} the controller
 * voters, the others nodes that are not, each on its own disk and, where the machine allows, in its own network namespace.
 * Closing it kills every node and removes namespaces, mounts and cgroups.
 */
public final class ChaosCluster implements AutoCloseable {
    public static final long START_TIMEOUT_MS = 120_000;

    private final Network network;
    private final Map<Integer, NodeProcess> nodes = new TreeMap<>();
    private final Map<Integer, NodeDisk> disks = new TreeMap<>();
    private final Map<Integer, CpuThrottle> throttles = new TreeMap<>();
    private final Map<Integer, Integer> kafkaPorts = new TreeMap<>();
    private final Consumer<String> log;
    /** Stopping the runner (Ctrl-C, SIGTERM) still kills the nodes and removes namespaces and mounts. */
    private final Thread cleanupOnExit = new Thread(this::release, "chaos-cleanup");
    private boolean released;
    private Admin admin;

    private final int voters;

    public ChaosCluster(Path dir, int size, int voters, Path brokerJar, Map<String, String> settings, Consumer<String> log) throws IOException {
        if (voters < 1 || voters > size) {
            throw new IllegalArgumentException(voters + " voters of " + size + " nodes");
        }
        this.log = log;
        this.voters = voters;
        this.network = NamespaceNetwork.createOrFallBack(size, log);
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
        boolean shared = !network.canPartition();
        Map<Integer, Integer> controllerPorts = new TreeMap<>();
        for (int id = 1; id <= size; id++) {
            // In namespaces every node has an address of its own, so all may use the same ports.
            kafkaPorts.put(id, shared ? LoopbackPorts.free() : 9092);
            controllerPorts.put(id, shared ? LoopbackPorts.free() : 9093);
        }
        String quorum = controllerPorts.entrySet().stream()
                .filter(e -> e.getKey() <= voters)
                .map(e -> e.getKey() + "@" + network.address(e.getKey()) + ":" + e.getValue())
                .collect(Collectors.joining(","));
        String java = ProcessHandle.current().info().command().orElse("java");
        String tag = Long.toHexString(ProcessHandle.current().pid()) + "-" + Long.toHexString(System.nanoTime() & 0xffff);
        for (int id = 1; id <= size; id++) {
            Path nodeDir = dir.resolve("node-" + id);
            NodeDisk disk = NodeDisk.create(nodeDir.resolve("disk"), 256L << 20);
            disks.put(id, disk);
            List<String> args = new ArrayList<>(List.of("--data-dir", disk.dataDir().toString(),
                    "--port", String.valueOf(kafkaPorts.get(id)), "--node-id", String.valueOf(id),
                    "--controllers", quorum, "--host", network.address(id)));
            settings.forEach((k, v) -> args.addAll(List.of("-o", k + "=" + v)));
            List<String> jvm = new ArrayList<>(List.of("-Xms128m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=10",
                    // Ratis' server at INFO (the node's default keeps it at WARN): elections,
                    // refused appends and truncations are what a run that went wrong is read by.
                    "-Dorg.slf4j.simpleLogger.log.org.apache.ratis.server=info"));
            jvm.addAll(NodeArchive.jvmOptions(brokerJar));
            List<String> command = NodeProcess.startCommand(java, brokerJar, jvm, args);
            nodes.put(id, new NodeProcess(id, command, nodeDir.resolve("node.log"), network));
            CpuThrottle throttle = CpuThrottle.create("spate-chaos-" + tag + "-" + id);
            if (throttle != null) {
                throttles.put(id, throttle);
            }
        }
        if (!disks.values().iterator().next().canFill()) {
            log.accept("disks: plain directories, no full-disk faults (mounting a tmpfs needs root)");
        }
        if (throttles.isEmpty()) {
            log.accept("cpu: no cgroup available, CPU starvation falls back to SIGSTOP/SIGCONT duty cycles");
        }
    }

    /** Starts every node at once (each waits for the quorum) and returns when all serve. */
    public void start() throws Exception {
        List<CompletableFuture<Void>> starts = new ArrayList<>();
        for (NodeProcess node : nodes.values()) {
            starts.add(CompletableFuture.runAsync(() -> {
                try {
                    node.start(START_TIMEOUT_MS);
                } catch (Exception e) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
            }, r -> Thread.ofPlatform().start(r)));
        }
        for (CompletableFuture<Void> f : starts) {
            f.get(START_TIMEOUT_MS + 10_000, TimeUnit.MILLISECONDS);
        }
    }

    public List<Integer> ids() {
        return List.copyOf(nodes.keySet());
    }

    /** The controller voters' ids: the first nodes. */
    public List<Integer> voterIds() {
        return ids().subList(0, voters);
    }

    public NodeProcess node(int id) {
        return nodes.get(id);
    }

    public NodeDisk disk(int id) {
        return disks.get(id);
    }

    public Network network() {
        return network;
    }

    /** The node's cgroup, or null when CPU starvation must use signals. */
    public CpuThrottle throttle(int id) {
        return throttles.get(id);
    }

    public String bootstrap() {
        return nodes.keySet().stream().map(id -> network.address(id) + ":" + kafkaPorts.get(id)).collect(Collectors.joining(","));
    }

    /** A shared admin client with short timeouts (a paused node never answers). */
    public synchronized Admin admin() {
        if (admin == null) {
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
            props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000);
            props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
            props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 100);
            props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
            props.put(AdminClientConfig.METADATA_MAX_AGE_CONFIG, 1_000);
            admin = Admin.create(props);
        }
        return admin;
    }

    /** Node ids the cluster lists as registered and unfenced. */
    public Set<Integer> liveNodes() throws Exception {
        return admin().describeCluster().nodes().get(10, TimeUnit.SECONDS).stream().map(Node::id).collect(Collectors.toSet());
    }

    public void log(String line) {
        log.accept(line);
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs release() itself
        }
        release();
    }

    private synchronized void release() {
        if (released) {
            return;
        }
        released = true;
        if (admin != null) {
            try {
                admin.close(java.time.Duration.ofSeconds(1));
            } catch (RuntimeException ignored) {
                // closing anyway
            }
        }
        for (NodeProcess node : nodes.values()) {
            try {
                if (node.isAlive()) {
                    node.signal("CONT"); // a stopped process takes SIGKILL too, but say it plainly
                }
                node.retire();
            } catch (Exception e) {
                log.accept("could not kill node " + node.id() + ": " + e);
            }
        }
        throttles.values().forEach(CpuThrottle::delete);
        disks.values().forEach(NodeDisk::close);
        network.close();
    }

    /** Keeps the run's directory small: the node data (in tmpfs) is gone after close; logs stay. */
    public static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
