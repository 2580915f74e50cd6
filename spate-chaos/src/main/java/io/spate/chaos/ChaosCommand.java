package io.spate.chaos;

import io.spate.chaos.fault.FaultKind;
import io.spate.chaos.report.CampaignSummary;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code ./spate chaos}: seeded random fault schedules against a local cluster of node processes,
 * each run checked for lost, duplicated, reordered or inconsistently read records, skipped reads,
 * committed offsets going back, and for availability while a quorum is up.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = {"Run randomized fault campaigns against a local Spate cluster and check every run's history.",
                "Each run starts a fresh cluster, writes with idempotent acks=all producers and reads with a consumer group "
                        + "that rebalances (or, with --workload txn, processes the writes exactly once in transactions; with --workload pipeline, "
                        + "copies them with Spate pipelines running at the data), injects a seeded schedule of faults (kill -9, SIGSTOP, SIGTERM and restart, "
                        + "network partitions, a full disk, CPU starvation), heals everything, and checks the history.",
                "Network partitions, full disks and CPU starvation need root (namespaces, tmpfs, cgroups); without it they are left out and said so."},
        footer = {"", "Exit status: 0 every run passed, 1 a run failed a check, 2 bad arguments.",
                "Replay a run: ./spate chaos --seed S (with the same --nodes, --duration, --workload and --neighbour)."})
public final class ChaosCommand implements Callable<Integer> {

    @Option(names = "--seed", description = "Seed of the first run (later runs use seed+1, ...). Default: random.")
    Long seed;

    @Option(names = "--runs", defaultValue = "1", description = "Number of runs (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--duration", defaultValue = "120", description = "Seconds of faults per run (default: ${DEFAULT-VALUE}).")
    int durationSeconds;

    @Option(names = "--tail", defaultValue = "20", description = "Seconds of writes after healing, to measure recovery (default: ${DEFAULT-VALUE}).")
    int tailSeconds;

    @Option(names = "--nodes", defaultValue = "3", description = "Nodes: 3 or 5, every one a controller voter, or 6: three voters and three "
            + "nodes that are not, which learn the metadata from the controller leader (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--partitions", defaultValue = "6", description = "Partitions of the workload's topic (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--rate", defaultValue = "300", description = "Records per second offered by all producers (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--producers", defaultValue = "2", description = "Producer clients (default: ${DEFAULT-VALUE}).")
    int producers;

    @Option(names = "--consumers", defaultValue = "3", description = "Members of the consumer group (default: ${DEFAULT-VALUE}).")
    int consumers;

    @Option(names = "--workload", split = ",", defaultValue = "group",
            description = "What runs beside the producers (default: ${DEFAULT-VALUE}): group (a consumer group that rebalances), "
                    + "txn (an exactly-once consume-transform-produce pipeline in transactions, from the producers' topic to chaos-out, "
                    + "checked for results lost, duplicated or read from aborted transactions), "
                    + "pipeline (two Spate pipelines deployed at the data, exactly-once and at-least-once, copying the producers' topic "
                    + "partition for partition to chaos-mirror-eos and chaos-mirror-alos, checked for results lost, repeated (exactly-once), "
                    + "out of order or not running on the partitions' leaders at the end), or several: group,txn,pipeline.")
    List<String> workload;

    @Option(names = "--pipelines", defaultValue = "2", description = "Members of the exactly-once pipeline's group, each with its own transactional id (default: ${DEFAULT-VALUE}).")
    int pipelines;

    @Option(names = "--faults", split = ",", description = "Fault kinds to use (default: all): kill, pause, term, disk-full, cpu-starve, isolate, one-way, split.")
    List<String> faults;

    @Option(names = "--neighbour", defaultValue = "off", description = "A CPU-heavy neighbour process: off, on, or alternate between runs (default: ${DEFAULT-VALUE}).")
    String neighbour;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A node setting for every node of every run, on top of the "
            + "runs' own (repeatable), e.g. --set partition.autobalancing.mode=continuous.")
    java.util.Map<String, String> nodeOverrides = new java.util.TreeMap<>();

    @Option(names = "--out", description = "Directory for the runs (default: .chaos/campaign-TIME under the current directory).")
    Path out;

    @Option(names = "--broker-jar", description = "The packaged node (spate.jar); ./spate passes it.")
    Path brokerJar;

    @Option(names = "--summarize", arity = "1..*", paramLabel = "DIR",
            description = "Start no cluster: check again every run kept in these campaign directories (their history.tsv) "
                    + "and print one summary over all of them (written to --out, or the first DIR, as summary-all.md). "
                    + "A campaign longer than one sitting is run in parts with consecutive seeds and summarized this way.")
    List<Path> summarize;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        if (summarize != null) {
            List<CampaignSummary.Run> all = new ArrayList<>();
            for (Path dir : summarize) {
                if (!Files.isDirectory(dir)) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "no campaign directory " + dir);
                }
                all.addAll(KeptRuns.read(dir));
            }
            all.sort(java.util.Comparator.comparingLong(CampaignSummary.Run::seed));
            Path target = (out != null ? out : summarize.get(0)).resolve("summary-all.md");
            Files.createDirectories(target.getParent());
            console.println(CampaignSummary.write(all, target));
            console.println("summary written to " + target);
            return all.stream().allMatch(r -> r.verdict() != null && r.verdict().ok()) ? 0 : 1;
        }
        if (brokerJar == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--broker-jar is required to run a campaign");
        }
        if (nodes != 3 && nodes != 5 && nodes != 6) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--nodes must be 3, 5 or 6, not " + nodes);
        }
        if (runs < 1 || durationSeconds < 10 || tailSeconds < 5 || partitions < 1 || rate < 1 || producers < 1 || consumers < 1
                || pipelines < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--runs, --partitions, --rate, --producers, --consumers, --pipelines must be positive; --duration at least 10 and --tail at least 5");
        }
        Set<Workload> workloads = EnumSet.noneOf(Workload.class);
        for (String w : workload) {
            try {
                workloads.add(Workload.parse(w));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "unknown workload '" + w + "' (group, txn, pipeline)");
            }
        }
        if (!Set.of("off", "on", "alternate").contains(neighbour)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--neighbour must be off, on or alternate, not " + neighbour);
        }
        Set<FaultKind> kinds = EnumSet.allOf(FaultKind.class);
        if (faults != null && !faults.isEmpty()) {
            kinds = EnumSet.noneOf(FaultKind.class);
            for (String f : faults) {
                try {
                    kinds.add(FaultKind.parse(f));
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "unknown fault kind '" + f + "'");
                }
            }
        }
        if (!Files.isRegularFile(brokerJar)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no node jar at " + brokerJar);
        }
        Path base = out != null ? out : Path.of(".chaos", "campaign-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")));
        Files.createDirectories(base);
        // The campaign runs its own copy of the node (the jar and the lib/ its manifest names): a
        // rebuild meanwhile changes nothing mid-campaign.
        Path jar = copyNode(brokerJar, base.resolve("node"));
        io.spate.chaos.cluster.NodeArchive.train(ProcessHandle.current().info().command().orElse("java"), jar, console::println);
        long first = seed != null ? seed : Math.abs(new java.util.Random().nextLong() % 1_000_000_000L);
        List<ChaosRun.Result> results = new ArrayList<>();
        console.println("chaos: " + runs + " run(s) of " + durationSeconds + " s of faults + " + tailSeconds + " s tail, "
                + nodes + " nodes, faults " + kinds + ", workloads " + workloads + ", neighbour " + neighbour
                + (nodeOverrides.isEmpty() ? "" : ", node settings " + nodeOverrides)
                + "; output in " + base.toAbsolutePath());
        for (int i = 0; i < runs; i++) {
            long s = first + i;
            boolean withNeighbour = neighbour.equals("on") || (neighbour.equals("alternate") && i % 2 == 1);
            RunOptions options = new RunOptions(jar, nodes, partitions, rate, producers, consumers,
                    durationSeconds * 1_000L, tailSeconds * 1_000L, kinds, withNeighbour, workloads, pipelines, nodeOverrides);
            Path dir = base.resolve("run-" + s + (withNeighbour ? "-neighbour" : ""));
            try {
                results.add(new ChaosRun(s, options, dir, console).run());
            } catch (Exception e) {
                console.println("run seed=" + s + " could not complete: " + e);
                results.add(new ChaosRun.Result(s, withNeighbour, null, dir, null));
            }
            String table = CampaignSummary.write(results.stream()
                    .map(r -> new CampaignSummary.Run(r.seed(), r.neighbour(), r.verdict(), r.dir())).toList(), base.resolve("summary.md"));
            if (i == runs - 1) {
                console.println(table);
            }
        }
        boolean allPassed = results.stream().allMatch(r -> r.verdict() != null && r.verdict().ok());
        return allPassed ? 0 : 1;
    }

    private static Path copyNode(Path jar, Path to) throws java.io.IOException {
        Files.createDirectories(to.resolve("lib"));
        Path lib = jar.toAbsolutePath().getParent().resolve("lib");
        if (Files.isDirectory(lib)) {
            try (var files = Files.list(lib)) {
                for (Path f : files.toList()) {
                    Files.copy(f, to.resolve("lib").resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Path copy = to.resolve(jar.getFileName());
        Files.copy(jar, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return copy;
    }

    public static void main(String[] args) {
        // The clients' own logging goes to a file, warnings and worse only: the console is the verdicts'.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        // Wall-clock times, as in the nodes' logs, so that a client's retries can be read beside them.
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSS");
        // Beside the campaigns (git-ignored), not in whatever directory the command ran from.
        String clientLog = System.getProperty("spate.chaos.clientLog", ".chaos/clients.log");
        try {
            Path parent = Path.of(clientLog).toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (java.io.IOException e) {
            clientLog = "System.err";
        }
        System.setProperty("org.slf4j.simpleLogger.logFile", clientLog);
        System.exit(new CommandLine(new ChaosCommand()).execute(args));
    }
}
