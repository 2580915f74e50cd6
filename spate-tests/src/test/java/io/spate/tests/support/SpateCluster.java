package io.spate.tests.support;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A cluster of Spate nodes, each a child JVM ({@link SpateProcess}) on its own data directory,
 * every one a controller-quorum voter. Nodes can be killed ({@code kill -9}), stopped (SIGTERM),
 * paused (SIGSTOP) and resumed (SIGCONT), and restarted on the same directory and ports.
 * {@link #close()} kills whatever still runs and prints every node's output.
 */
public final class SpateCluster implements AutoCloseable {
    public static final Duration SETTLE = Duration.ofSeconds(60);

    private final Map<Integer, SpateProcess> nodes = new TreeMap<>();
    private final Path baseDir;
    private final Map<String, String> settings;
    private final java.util.function.IntFunction<Map<String, String>> perNode;
    private final String controllers;
    private final java.util.function.IntFunction<String> hostOf;
    private final java.util.function.IntFunction<List<String>> prefixOf;
    private final Set<Integer> paused = ConcurrentHashMap.newKeySet();
    private Admin admin;

    /** Chooses ports and directories ({@code baseDir/node-N}); {@link #start()} launches the nodes. */
    public SpateCluster(Path baseDir, int size, Map<String, String> settings) throws IOException {
        this(baseDir, size, settings, id -> Map.of());
    }

    /** As above, with settings of each node's own on top (e.g. its {@code broker.rack}). */
    public SpateCluster(Path baseDir, int size, Map<String, String> settings,
                        java.util.function.IntFunction<Map<String, String>> perNode) throws IOException {
        this(baseDir, size, settings, perNode, id -> "127.0.0.1", id -> List.of());
    }

    /**
     * As above, each node at an address of its own ({@code hostOf}: it binds and advertises it)
     * and started through a command prefix ({@code prefixOf}, e.g. {@code ip netns exec NS} to run
     * it in a network namespace: see {@link NetworkNamespaces}).
     */
    public SpateCluster(Path baseDir, int size, Map<String, String> settings,
                        java.util.function.IntFunction<Map<String, String>> perNode,
                        java.util.function.IntFunction<String> hostOf,
                        java.util.function.IntFunction<List<String>> prefixOf) throws IOException {
        this.hostOf = hostOf;
        this.prefixOf = prefixOf;
        this.baseDir = baseDir;
        this.settings = Map.copyOf(settings);
        this.perNode = perNode;
        Map<Integer, Integer> kafkaPorts = new TreeMap<>();
        Map<Integer, Integer> controllerPorts = new TreeMap<>();
        for (int id = 1; id <= size; id++) {
            kafkaPorts.put(id, SpateProcess.freePort());
            controllerPorts.put(id, SpateProcess.freePort());
        }
        this.controllers = controllerPorts.entrySet().stream()
                .map(e -> e.getKey() + "@" + hostOf.apply(e.getKey()) + ":" + e.getValue()).collect(Collectors.joining(","));
        for (int id = 1; id <= size; id++) {
            nodes.put(id, process(id, kafkaPorts.get(id)));
        }
    }

    private SpateProcess process(int id, int kafkaPort) throws IOException {
        Path dir = baseDir.resolve("node-" + id);
        Files.createDirectories(dir);
        List<String> args = List.of("--node-id", String.valueOf(id), "--controllers", controllers, "--host", hostOf.apply(id));
        Map<String, String> nodeSettings = new LinkedHashMap<>(settings);
        nodeSettings.putAll(perNode.apply(id));
        return new SpateProcess(dir, kafkaPort, args, nodeSettings).placed(hostOf.apply(id), prefixOf.apply(id));
    }

    /**
     * Starts one more node (not a controller voter: the quorum stays as it was) and returns its
     * id once the cluster lists it, as an operator adding a server would.
     */
    public int addNode() throws Exception {
        // Not synchronized: the await below asks admin() from Awaitility's own thread.
        int id = nodes.keySet().stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
        SpateProcess node = process(id, SpateProcess.freePort());
        nodes.put(id, node);
        logFault("add node " + id);
        node.start();
        await().atMost(SETTLE).untilAsserted(() ->
                assertThat(admin().describeCluster().nodes().get().stream().map(Node::id).toList()).contains(id));
        return id;
    }

    /** Starts every node at once (each waits for the quorum) and returns when all serve. */
    public SpateCluster start() throws Exception {
        try {
            return startAll();
        } catch (Exception | Error e) {
            // A cluster that did not come up leaves no node process behind.
            close();
            throw e;
        }
    }

    private SpateCluster startAll() throws Exception {
        List<CompletableFuture<Void>> starts = new ArrayList<>();
        for (Map.Entry<Integer, SpateProcess> e : nodes.entrySet()) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            Thread.ofPlatform().name("start-node-" + e.getKey()).start(() -> {
                try {
                    e.getValue().start();
                    f.complete(null);
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
            starts.add(f);
        }
        for (CompletableFuture<Void> f : starts) {
            f.get(120, TimeUnit.SECONDS);
        }
        await().atMost(SETTLE).untilAsserted(() ->
                assertThat(admin().describeCluster().nodes().get().stream().map(Node::id).toList())
                        .containsExactlyInAnyOrderElementsOf(nodes.keySet()));
        return this;
    }

    public Set<Integer> ids() {
        return nodes.keySet();
    }

    public SpateProcess node(int id) {
        return nodes.get(id);
    }

    public String bootstrap() {
        return nodes.values().stream().map(SpateProcess::bootstrap).collect(Collectors.joining(","));
    }

    public String bootstrap(int id) {
        return nodes.get(id).bootstrap();
    }

    public Path dataDir(int id) {
        return nodes.get(id).dataDir();
    }

    /** A shared admin client for all nodes, with short request timeouts (a paused node never answers). */
    public synchronized Admin admin() {
        if (admin == null) {
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
            props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
            props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
            props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 100);
            props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
            props.put(AdminClientConfig.METADATA_MAX_AGE_CONFIG, 1_000);
            admin = Admin.create(props);
        }
        return admin;
    }

    // ---- faults -------------------------------------------------------------------------------

    /** SIGKILL. */
    public void kill9(int id) throws InterruptedException {
        logFault("kill -9 node " + id);
        nodes.get(id).kill9();
        paused.remove(id);
    }

    /** SIGTERM, waiting for the node to exit; returns its exit status. */
    public int stop(int id) throws InterruptedException {
        logFault("SIGTERM node " + id);
        return nodes.get(id).terminate();
    }

    /** Restarts a stopped or killed node on the same directory and ports; returns once it serves. */
    public void start(int id) throws Exception {
        logFault("restart node " + id);
        nodes.get(id).start();
    }

    /** SIGSTOP, returning once the kernel reports the process as stopped. */
    public void pause(int id) throws Exception {
        logFault("SIGSTOP node " + id);
        signal(id, "-STOP");
        paused.add(id);
        long pid = nodes.get(id).pid();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() -> "T".equals(procState(pid)));
    }

    /** SIGCONT. */
    public void resume(int id) throws Exception {
        logFault("SIGCONT node " + id);
        signal(id, "-CONT");
        paused.remove(id);
    }

    private void signal(int id, String signal) throws Exception {
        long pid = nodes.get(id).pid();
        Process kill = new ProcessBuilder("kill", signal, String.valueOf(pid)).redirectErrorStream(true).start();
        String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill " + signal + " " + pid + " failed: " + out);
        }
    }

    /** The state letter of /proc/PID/stat (R, S, T, ...), or null when unreadable. */
    private static String procState(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Undoes every fault: resumes paused nodes, restarts stopped or killed ones, and waits until
     * the cluster lists every node again.
     */
    public void restoreAll() throws Exception {
        for (int id : List.copyOf(paused)) {
            resume(id);
        }
        for (Map.Entry<Integer, SpateProcess> e : nodes.entrySet()) {
            if (!e.getValue().isAlive()) {
                start(e.getKey());
            }
        }
        await("every node registered").atMost(SETTLE).ignoreExceptions().untilAsserted(() ->
                assertThat(admin().describeCluster().nodes().get().stream().map(Node::id).toList())
                        .containsExactlyInAnyOrderElementsOf(nodes.keySet()));
    }

    /** Writes a line into every node's output file (between whole lines of the node's own output), to find a test's part. */
    public void mark(String line) {
        log(line);
        for (SpateProcess node : nodes.values()) {
            try {
                Files.writeString(node.logFile(), java.time.LocalTime.now() + " [test] " + line + "\n", StandardCharsets.UTF_8,
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            } catch (IOException ignored) {
                // only a marker
            }
        }
    }

    // ---- what the cluster says -----------------------------------------------------------------

    /**
     * Creates the topic and waits for every replica to be in sync. A creation that timed out is an
     * undecided outcome (on a busy machine a young quorum may take longer than the admin client's
     * request timeout): it is asked again, and "already exists" then means the first one committed.
     */
    public void createTopic(String topic, int partitions, int replicationFactor, Map<String, String> configs) throws Exception {
        createTopic(new NewTopic(topic, partitions, (short) replicationFactor).configs(configs), partitions, replicationFactor);
    }

    /**
     * As above, for a topic described in full (its replicas named per partition), with
     * {@code partitions} of {@code replicationFactor} replicas each. A refusal the client may
     * retry (the controller quorum that did not commit within the admin's 2 s request timeout,
     * on a busy machine) is asked again.
     */
    public void createTopic(NewTopic newTopic, int partitions, int replicationFactor) throws Exception {
        String topic = newTopic.name();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean asked = false;
        while (true) {
            try {
                admin().createTopics(List.of(newTopic)).all().get(60, TimeUnit.SECONDS);
                break;
            } catch (ExecutionException e) {
                if (asked && e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException) {
                    break;
                }
                // On a busy machine the controller may fence a node that has just started for a late
                // heartbeat, and take it back at its next one: a refusal for too few live nodes while
                // enough of this cluster's nodes run is asked again.
                boolean fencedForNow = e.getCause() instanceof org.apache.kafka.common.errors.InvalidReplicationFactorException
                        && running() >= replicationFactor;
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.RetriableException || fencedForNow) || System.nanoTime() > deadline) {
                    throw e;
                }
                log("creating " + topic + ": " + e.getCause().getMessage() + "; asking again");
                asked = true;
                Thread.sleep(200);
            }
        }
        awaitFullIsr(topic, partitions, replicationFactor);
    }

    /** Nodes whose process is alive and not paused. */
    private long running() {
        return nodes.entrySet().stream().filter(e -> e.getValue().isAlive() && !paused.contains(e.getKey())).count();
    }

    /**
     * The topic as the cluster describes it. The admin client asks any node, and each node applies
     * the metadata at its own pace: one that has not applied the topic's creation yet (a test that
     * has just created it, and heard of it through another node) does not know it, for a moment.
     */
    public TopicDescription describe(String topic) {
        return await("a description of " + topic).atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100))
                .ignoreExceptionsMatching(e -> e instanceof ExecutionException
                        && e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
                .until(() -> admin().describeTopics(List.of(topic)).allTopicNames().get().get(topic), java.util.Objects::nonNull);
    }

    public TopicPartitionInfo partitionInfo(String topic, int partition) throws ExecutionException, InterruptedException {
        return describe(topic).partitions().stream().filter(p -> p.partition() == partition).findFirst().orElseThrow();
    }

    /** The leader the cluster names for a partition, if any. */
    public Optional<Integer> leader(String topic, int partition) throws ExecutionException, InterruptedException {
        Node leader = partitionInfo(topic, partition).leader();
        return leader == null || leader.id() < 0 ? Optional.empty() : Optional.of(leader.id());
    }

    /** Awaits a leader for a partition, then returns it. */
    public int awaitLeader(String topic, int partition) {
        return await().atMost(SETTLE).ignoreExceptions().until(() -> leader(topic, partition), Optional::isPresent).orElseThrow();
    }

    /** Awaits a leader for a partition other than {@code previous}. */
    public int awaitLeaderOtherThan(String topic, int partition, int previous) {
        try {
            return await("a leader of " + topic + "-" + partition + " other than node " + previous)
                    .atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> leader(topic, partition), l -> l.isPresent() && l.get() != previous).orElseThrow();
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no leader of " + topic + "-" + partition + " other than node " + previous
                    + " within 30 s; the cluster says: " + describeForHumans(topic) + "; live nodes: " + liveNodes(), e);
        }
    }

    /** The unfenced nodes DescribeCluster lists, for messages. */
    public String liveNodes() {
        try {
            return admin().describeCluster().nodes().get().stream().map(Node::id).sorted().toList().toString();
        } catch (Exception e) {
            return "(describeCluster failed: " + e + ")";
        }
    }

    /** The controller quorum's leader, as DescribeCluster reports it. */
    public Optional<Integer> controller() throws ExecutionException, InterruptedException {
        Node controller = admin().describeCluster().controller().get();
        return controller == null || controller.id() < 0 ? Optional.empty() : Optional.of(controller.id());
    }

    /** Every partition has a leader and its whole replica set in sync, with {@code rf} replicas. */
    public void awaitFullIsr(String topic, int partitions, int rf) {
        await("every replica of " + topic + " in sync").atMost(SETTLE).ignoreExceptions().untilAsserted(() -> {
            TopicDescription d = describe(topic);
            assertThat(d.partitions()).hasSize(partitions);
            for (TopicPartitionInfo p : d.partitions()) {
                assertThat(p.leader()).as("leader of %s", p).isNotNull();
                assertThat(p.leader().id()).as("leader of %s", p).isPositive();
                assertThat(p.replicas()).as("replicas of %s", p).hasSize(rf);
                assertThat(p.isr().stream().map(Node::id).collect(Collectors.toSet()))
                        .as("isr of %s", p).isEqualTo(p.replicas().stream().map(Node::id).collect(Collectors.toSet()));
            }
        });
    }

    /** Leader, replicas and ISR of every partition, for messages. */
    public String describeForHumans(String topic) {
        try {
            return describe(topic).partitions().stream()
                    .map(p -> p.partition() + ": leader=" + (p.leader() == null ? "none" : p.leader().id())
                            + " replicas=" + p.replicas().stream().map(Node::id).toList()
                            + " isr=" + p.isr().stream().map(Node::id).toList())
                    .collect(Collectors.joining("; "));
        } catch (Exception e) {
            return "(describe failed: " + e + ")";
        }
    }

    /** Also marks the fault in every node's output. */
    private void logFault(String message) {
        mark(message);
    }

    public static void log(String message) {
        System.out.println(java.time.LocalTime.now() + " [test] " + message);
    }

    /** Kills everything still running (paused ones included) and prints each node's output. */
    @Override
    public void close() {
        if (admin != null) {
            try {
                admin.close(Duration.ofSeconds(1));
            } catch (RuntimeException ignored) {
                // closing anyway
            }
        }
        for (Map.Entry<Integer, SpateProcess> e : nodes.entrySet()) {
            System.out.println("==== node " + e.getKey() + " (" + e.getValue().bootstrap() + ", data " + e.getValue().dataDir() + ") ====");
            try {
                e.getValue().close();
            } catch (Throwable t) {
                System.out.println("could not kill node " + e.getKey() + ": " + t);
            }
        }
    }
}
