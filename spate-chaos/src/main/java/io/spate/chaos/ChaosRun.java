package io.spate.chaos;

import io.spate.chaos.check.Checker;
import io.spate.chaos.check.Verdict;
import io.spate.chaos.cluster.ChaosCluster;
import io.spate.chaos.cluster.VoterLogSampler;
import io.spate.chaos.fault.FaultInjector;
import io.spate.chaos.fault.FaultKind;
import io.spate.chaos.fault.PlannedFault;
import io.spate.chaos.fault.Schedule;
import io.spate.chaos.history.HistoryFile;
import io.spate.chaos.history.MetadataLogEntry;
import io.spate.chaos.history.RunHistory;
import io.spate.chaos.history.TxnHistory;
import io.spate.chaos.report.TimelinePage;
import io.spate.chaos.workload.FinalRead;
import io.spate.chaos.workload.FinalTxnRead;
import io.spate.chaos.workload.GroupWorkload;
import io.spate.chaos.workload.MirrorWorkload;
import io.spate.chaos.history.MirrorHistory;
import io.spate.chaos.workload.TxnWorkload;
import io.spate.chaos.workload.StatusWatcher;
import io.spate.chaos.workload.ProducerWorkload;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One chaos run: a fresh cluster, the workload, a seeded fault schedule, healing, a tail of
 * writes to measure recovery, a final read, the check. Leaves in its directory the history
 * ({@code history.tsv}), the schedule and fault windows ({@code faults.log}), each node's log,
 * the timeline page ({@code timeline.html}) and the verdict ({@code verdict.txt}); a failed run
 * also keeps its nodes' data.
 */
public final class ChaosRun {
    static final String TOPIC = "chaos";
    /** The exactly-once pipeline's output topic (its input is {@link #TOPIC}). */
    static final String OUTPUT_TOPIC = "chaos-out";
    /** How often the voters' Raft logs are read: well within the few hundred entries between two of their snapshots. */
    private static final long VOTER_LOG_SAMPLE_MS = 3_000;

    private final long seed;
    private final RunOptions options;
    private final Path dir;
    private final PrintWriter console;

    public ChaosRun(long seed, RunOptions options, Path dir, PrintWriter console) {
        this.seed = seed;
        this.options = options;
        this.dir = dir;
        this.console = console;
    }

    public record Result(long seed, boolean neighbour, Verdict verdict, Path dir, RunHistory history) {
    }

    public Result run() throws Exception {
        Files.createDirectories(dir);
        Neighbour neighbour = options.neighbour() ? Neighbour.start() : null;
        RunClock clock = new RunClock();
        List<String> faultLog = new ArrayList<>();
        try (ChaosCluster cluster = new ChaosCluster(dir, options.nodes(), options.voters(), options.brokerJar(), options.runNodeSettings(), this::say)) {
            // Only the kinds this machine can inject: without namespaces no partition, without a
            // node tmpfs no full disk (filling a shared directory would fill the host's disk).
            java.util.Set<FaultKind> kinds = java.util.EnumSet.noneOf(FaultKind.class);
            kinds.addAll(options.faults());
            if (!cluster.network().canPartition()) {
                kinds.removeAll(java.util.EnumSet.of(FaultKind.ISOLATE, FaultKind.ONE_WAY, FaultKind.SPLIT));
            }
            if (!cluster.disk(cluster.ids().get(0)).canFill()) {
                kinds.remove(FaultKind.DISK_FULL);
            }
            List<PlannedFault> plan = Schedule.generate(seed, options.nodes(), options.durationMs(), kinds, RunOptions.SESSION_TIMEOUT_MS);
            faultLog.add("seed " + seed + ", " + options.nodes() + " nodes, " + options.durationMs() / 1000 + " s of faults"
                    + (options.neighbour() ? ", CPU-heavy neighbour" : "") + ", kinds " + kinds
                    + (options.nodeOverrides().isEmpty() ? "" : ", node settings " + options.nodeOverrides()));
            faultLog.add("schedule:");
            plan.forEach(f -> faultLog.add("  " + f.describe()));
            say("run seed=" + seed + " in " + dir + ": " + plan.size() + " faults planned");
            Result result = null;
            // Closed again at the end whatever happens: a run that fails midway must not leave its
            // clients polling a cluster that is gone while the campaign goes on (close is idempotent).
            List<AutoCloseable> workloads = new ArrayList<>();
            try {
                cluster.start();
                awaitAllLive(cluster, Duration.ofSeconds(60));
                Map<Integer, List<Integer>> replicas = createTopic(cluster, TOPIC);
                if (options.has(Workload.TXN)) {
                    createTopic(cluster, OUTPUT_TOPIC);
                }
                MirrorWorkload mirrors = null;
                if (options.has(Workload.PIPELINE)) {
                    // The count's source table, its partitions on the input's nodes as a user would place it.
                    createTopic(cluster, MirrorWorkload.WRITERS, Map.of("cleanup.policy", "compact", "spate.colocate.with", TOPIC));
                    // Holds nothing between calls: the pipelines stay deployed until the cluster goes.
                    // The count's stores: in RocksDB on even seeds, in memory on odd ones (the seed replays it).
                    mirrors = new MirrorWorkload(cluster.bootstrap(), TOPIC, options.partitions(), dir, options.brokerJar(),
                            seed % 2 == 0 ? "rocksdb" : "in_memory");
                    mirrors.deploy();
                    say("deployed the mirror pipelines " + MirrorWorkload.EXACTLY_ONCE + " and " + MirrorWorkload.AT_LEAST_ONCE
                            + ", and the count " + MirrorWorkload.COUNT + " (stores " + mirrors.countStateStore() + ", one standby)");
                }
                FaultInjector injector = new FaultInjector(cluster, clock, RunOptions.SESSION_TIMEOUT_MS);
                ProducerWorkload producers = new ProducerWorkload(cluster.bootstrap(), TOPIC, options.partitions(),
                        options.producers(), options.rate(), clock);
                GroupWorkload group = options.has(Workload.GROUP)
                        ? new GroupWorkload(cluster.bootstrap(), TOPIC, options.consumers(), seed, clock) : null;
                TxnWorkload pipeline = options.has(Workload.TXN)
                        ? new TxnWorkload(cluster.bootstrap(), TOPIC, OUTPUT_TOPIC, options.pipelineMembers(), seed, clock) : null;
                StatusWatcher watcher = new StatusWatcher(cluster.bootstrap(), TOPIC, clock);
                VoterLogSampler voterLogs = new VoterLogSampler(cluster.voterIds(), id -> cluster.disk(id).dataDir(), clock::nowUs);
                workloads.addAll(java.util.stream.Stream.of(producers, group, pipeline, watcher, voterLogs)
                        .filter(java.util.Objects::nonNull).toList());
                watcher.start();
                voterLogs.start(VOTER_LOG_SAMPLE_MS);
                long workloadStart = clock.nowUs();
                producers.start();
                if (group != null) {
                    group.start();
                }
                if (pipeline != null) {
                    pipeline.start();
                }
                injector.start(plan, workloadStart);
                sleepUntil(clock, workloadStart + options.durationMs() * 1_000);
                say("healing every fault");
                injector.healAll();
                long healed = clock.nowUs();
                say("healed at " + seconds(healed - workloadStart) + "; writing for " + options.tailMs() / 1000 + " s more");
                sleepUntil(clock, healed + options.tailMs() * 1_000);
                long end = clock.nowUs();
                producers.close();
                if (group != null) {
                    group.close();
                }
                watcher.close();
                awaitAllLive(cluster, Duration.ofSeconds(60));
                if (pipeline != null) {
                    // The rest of the input is consumed before the pipeline stops, so that every
                    // acknowledged input's result can be asked for.
                    boolean drained = pipeline.awaitDrained(cluster.admin(), options.partitions(), Duration.ofMillis(RunOptions.PIPELINE_DRAIN_MS));
                    say(drained ? "the pipeline consumed the whole input" : "the pipeline did not consume the whole input within "
                            + RunOptions.PIPELINE_DRAIN_MS / 1000 + " s");
                    pipeline.close();
                }
                FinalRead last = FinalRead.read(cluster.bootstrap(), cluster.admin(), TOPIC, options.partitions(),
                        group != null ? GroupWorkload.GROUP : null, Duration.ofSeconds(120));
                TxnHistory txn = pipeline == null ? TxnHistory.NONE : FinalTxnRead.read(cluster.bootstrap(), cluster.admin(), pipeline,
                        OUTPUT_TOPIC, options.partitions(), Duration.ofSeconds(45), Duration.ofSeconds(120));
                MirrorHistory mirror = MirrorHistory.NONE;
                if (mirrors != null) {
                    mirror = mirrors.finish(cluster.admin(), last.log, Duration.ofMillis(RunOptions.PIPELINE_DRAIN_MS), Duration.ofSeconds(30));
                    say("read the mirror pipelines' outputs");
                }
                // Seconds on the run's clock (from the cluster's start), as in the verdict and the timeline;
                // the schedule's @offsets count from the first write.
                faultLog.add(String.format(java.util.Locale.ROOT, "faults injected (seconds since the run began; writes began at %.3f, healed at %.3f, writes ended at %.3f):",
                        workloadStart / 1e6, healed / 1e6, end / 1e6));
                injector.faults().forEach(f -> faultLog.add(String.format(java.util.Locale.ROOT, "  %8.3f .. %8.3f  %s",
                        f.startUs() / 1e6, f.endUs() / 1e6, f.description())));
                injector.skipped().forEach(s -> faultLog.add("  " + s));
                RunHistory history = new RunHistory(seed, cluster.ids(), cluster.voterIds(), replicas, injector.faults(),
                        producers.writes(), group != null ? group.reads() : List.of(), group != null ? group.commits() : List.of(),
                        group != null ? group.assignments() : List.of(), watcher.statuses(), last.log, last.logStart,
                        last.committed, new RunHistory.Bounds(options.maxStallMs() * 1_000, options.maxRecoveryMs() * 1_000),
                        workloadStart, healed, end, sampledAtEnd(voterLogs), voterLogs.progress(), txn, mirror);
                Verdict verdict = Checker.check(history);
                HistoryFile.write(history, dir.resolve("history.tsv"));
                TimelinePage.write(history, verdict, dir.resolve("timeline.html"));
                Files.writeString(dir.resolve("verdict.txt"), verdict.describe() + "\n");
                result = new Result(seed, options.neighbour(), verdict, dir, history);
                say(verdict.summaryLine());
                if (!verdict.ok()) {
                    say(verdict.describe());
                    say("replay: ./spate chaos --seed " + seed + " --nodes " + options.nodes()
                            + " --duration " + options.durationMs() / 1000 + (options.neighbour() ? " --neighbour on" : "")
                            + (options.workloads().equals(Set.of(Workload.GROUP)) ? "" : " --workload "
                            + options.workloads().stream().map(Workload::label).sorted().collect(Collectors.joining(","))));
                }
                return result;
            } finally {
                for (AutoCloseable w : workloads) {
                    try {
                        w.close();
                    } catch (Exception e) {
                        say("could not stop a workload: " + e);
                    }
                }
                Files.write(dir.resolve("faults.log"), faultLog);
                if (result == null || !result.verdict().ok()) {
                    keepData(cluster);
                }
            }
        } finally {
            if (neighbour != null) {
                neighbour.close();
            }
        }
    }

    /** The voters' logs as sampled through the run, with one last look now that every node is back. */
    private static List<MetadataLogEntry> sampledAtEnd(VoterLogSampler voterLogs) {
        voterLogs.close();
        voterLogs.sample();
        return voterLogs.entries();
    }

    /** The nodes' data lives on tmpfs and goes with the cluster: a failed run keeps a copy. */
    private void keepData(ChaosCluster cluster) {
        for (int id : cluster.ids()) {
            Path from = cluster.disk(id).dataDir();
            if (!Files.isDirectory(from)) {
                continue;
            }
            Path to = dir.resolve("node-" + id).resolve("data-at-end");
            try (var walk = Files.walk(from)) {
                for (Path p : walk.toList()) {
                    Path target = to.resolve(from.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(p, target);
                    }
                }
            } catch (IOException e) {
                say("could not keep node " + id + "'s data: " + e);
            }
        }
    }

    private Map<Integer, List<Integer>> createTopic(ChaosCluster cluster, String topic) throws Exception {
        return createTopic(cluster, topic, Map.of());
    }

    /** Creates {@code topic} with the run's partitions and replication, {@code configs} besides min.insync.replicas=2. */
    private Map<Integer, List<Integer>> createTopic(ChaosCluster cluster, String topic, Map<String, String> configs) throws Exception {
        int rf = Math.min(3, options.nodes());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        // A fresh quorum can take a few seconds to elect its first controller on a busy machine
        // (split votes); the creation then times out undecided and is asked again (seed 2014).
        while (true) {
            try {
                cluster.admin().createTopics(List.of(new NewTopic(topic, options.partitions(), (short) rf)
                        .configs(with(configs, "min.insync.replicas", "2")))).all().get(60, TimeUnit.SECONDS);
                break;
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException) {
                    break;   // an earlier, timed-out attempt did commit
                }
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.RetriableException) || System.nanoTime() > deadline) {
                    throw e;
                }
                say("creating the topic: " + e.getCause().getMessage() + "; asking again");
                Thread.sleep(500);
            }
        }
        while (true) {
            try {
                TopicDescription d = cluster.admin().describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
                boolean ready = d.partitions().size() == options.partitions() && d.partitions().stream().allMatch(p ->
                        p.leader() != null && p.leader().id() >= 0 && p.isr().size() == rf);
                if (ready) {
                    Map<Integer, List<Integer>> replicas = new TreeMap<>();
                    for (TopicPartitionInfo p : d.partitions()) {
                        replicas.put(p.partition(), p.replicas().stream().map(Node::id).toList());
                    }
                    return replicas;
                }
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topic " + topic + " did not get a leader and a full ISR within 60 s");
            }
            Thread.sleep(200);
        }
    }

    private static void awaitAllLive(ChaosCluster cluster, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<Integer> all = Set.copyOf(cluster.ids());
        Set<Integer> live = Set.of();
        while (System.nanoTime() < deadline) {
            try {
                live = cluster.liveNodes();
                if (live.containsAll(all)) {
                    return;
                }
            } catch (Exception ignored) {
                // ask again
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the cluster lists " + live + ", not every node " + all + ", " + timeout.toSeconds() + " s after healing");
    }

    private static void sleepUntil(RunClock clock, long atUs) throws InterruptedException {
        long left = atUs - clock.nowUs();
        if (left > 0) {
            Thread.sleep(left / 1_000, (int) (left % 1_000) * 1_000);
        }
    }

    private void say(String line) {
        synchronized (console) {
            console.println(Instant.now().toString().substring(11, 19) + " " + line);
            console.flush();
        }
    }

    private static String seconds(long us) {
        return String.format(java.util.Locale.ROOT, "%.1f s", us / 1e6);
    }

    static String describeFaults(Set<?> kinds) {
        return kinds.stream().map(Object::toString).collect(Collectors.joining(","));
    }

    private static Map<String, String> with(Map<String, String> configs, String key, String value) {
        Map<String, String> all = new java.util.HashMap<>(configs);
        all.put(key, value);
        return all;
    }
}
