package io.spate.tests;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dependency rules Maven's module graph cannot state: which libraries each module's main code
 * may name, and which packages stay inside their module. Maven already refuses cycles between
 * modules; this keeps Raft inside {@code io.spate.cluster.ratis}, the Kafka protocol out of the
 * storage and consensus modules, and Netty at the protocol edge, so that the pure parts stay
 * pure enough for a seeded simulation to drive them.
 *
 * <p>Scans every main source file's code (comments and string literals removed) for names of
 * the forbidden packages, imported or written out in full.
 */
class ModuleBoundariesTest {
    private static final Path ROOT = Path.of("..");

    /** Module → packages its main code must not name. */
    private static final Map<String, List<String>> FORBIDDEN = Map.ofEntries(
            // The clock and timers sit below everything: JDK only.
            Map.entry("spate-time", List.of("io.spate.record", "io.spate.log", "io.spate.cluster", "io.spate.replication", "io.spate.server",
                    "io.spate.broker", "io.spate.testkit", "org.apache.kafka", "io.netty", "org.apache.ratis")),
            Map.entry("spate-record", List.of("io.spate.log", "io.spate.cluster", "io.spate.replication", "io.spate.server", "io.spate.broker",
                    "org.apache.kafka", "io.netty", "org.apache.ratis")),
            Map.entry("spate-log", List.of("io.spate.cluster", "io.spate.replication", "io.spate.server", "io.spate.broker",
                    "org.apache.kafka", "io.netty", "org.apache.ratis")),
            Map.entry("spate-cluster", List.of("io.spate.record", "io.spate.log", "io.spate.replication", "io.spate.server", "io.spate.broker",
                    "org.apache.kafka", "io.netty")),
            Map.entry("spate-replication", List.of("io.spate.server", "io.spate.broker", "io.netty", "org.apache.ratis", "io.prometheus")),
            // Coordinators' state machines over the partition API: no wire, no consensus, no server.
            // Their records are built and read with spate-record's codec, not kafka-clients'.
            Map.entry("spate-coordinator", List.of("io.spate.cluster", "io.spate.server", "io.spate.broker", "io.netty", "org.apache.ratis",
                    "org.apache.kafka")),
            // The listener reports its requests through its own RequestMetrics interface; the node implements it with the metrics library.
            Map.entry("spate-server", List.of("io.spate.broker", "io.spate.processing", "org.apache.ratis", "io.prometheus")),
            // What a user's pipeline compiles against: nothing of the node, no client, no wire, no native store.
            Map.entry("spate-stream", List.of("io.spate.time", "io.spate.record", "io.spate.log", "io.spate.cluster", "io.spate.replication",
                    "io.spate.coordinator", "io.spate.server", "io.spate.processing", "io.spate.broker", "io.spate.testkit",
                    "org.apache.kafka", "io.netty", "org.apache.ratis", "org.rocksdb")),
            // Tasks read logs through the partition API and write with the Kafka client: no server internals, no wire codec, no Raft.
            Map.entry("spate-processing", List.of("io.spate.server", "io.spate.broker", "io.spate.cluster", "io.netty", "org.apache.ratis",
                    "org.apache.kafka.common.message", "org.apache.kafka.common.requests", "org.apache.kafka.common.protocol")),
            // HTTP over the partition API and a NodePartitions view the node hands it: no server internals, no wire codec, no Raft.
            Map.entry("spate-http", List.of("io.spate.server", "io.spate.broker", "io.spate.cluster", "io.spate.processing", "io.spate.coordinator",
                    "org.apache.ratis", "org.apache.kafka.common.message", "org.apache.kafka.common.requests", "org.apache.kafka.common.protocol")),
            Map.entry("spate-broker", List.of("org.apache.ratis", "io.netty")),
            // The simulation drives the nodes' core below the network: no server, no wire, no Ratis.
            Map.entry("spate-testkit", List.of("io.spate.server", "io.spate.broker", "io.netty", "org.apache.ratis")));

    /** Known exceptions, each with the reason it is still there. */
    private static final Set<String> ALLOWED = Set.of(
            // The cluster member still builds a cluster node's Ratis metadata log (a standalone node's
            // local log is built in spate-broker); that composition belongs in spate-broker too.
            "spate-server/src/main/java/io/spate/server/cluster/ClusterMember.java -> io.spate.cluster.ratis");

    private static final List<String> EVERYWHERE = List.of("io.spate.tests", "io.spate.chaos", "io.spate.bench");

    @Test
    void mainCodeNamesOnlyThePackagesItsModuleMayUse() throws IOException {
        List<String> violations = new ArrayList<>();
        for (var module : FORBIDDEN.entrySet()) {
            List<String> forbidden = new ArrayList<>(module.getValue());
            forbidden.addAll(EVERYWHERE);
            for (Path file : sources(module.getKey())) {
                String code = codeOnly(Files.readString(file));
                for (String pkg : forbidden) {
                    if (names(code, pkg)) {
                        violations.add(ROOT.relativize(file) + " -> " + pkg);
                    }
                }
            }
        }
        assertThat(violations).as("main code naming packages its module must not use").isEmpty();
    }

    @Test
    void raftStaysInsideTheClusterModulesRatisPackage() throws IOException {
        List<String> outside = new ArrayList<>();
        for (Path file : sources("spate-cluster")) {
            if (!file.toString().replace('\\', '/').contains("/io/spate/cluster/ratis/") && names(codeOnly(Files.readString(file)), "org.apache.ratis")) {
                outside.add(ROOT.relativize(file).toString());
            }
        }
        for (String module : List.of("spate-replication", "spate-server", "spate-broker")) {
            for (Path file : sources(module)) {
                String relative = ROOT.relativize(file).toString().replace('\\', '/');
                if (names(codeOnly(Files.readString(file)), "io.spate.cluster.ratis") && !ALLOWED.contains(relative + " -> io.spate.cluster.ratis")) {
                    outside.add(relative);
                }
            }
        }
        assertThat(outside).as("files naming Ratis or its adapter outside io.spate.cluster.ratis").isEmpty();
    }

    /**
     * Where kafka-clients' protocol classes may be named in modules that use them: the edge that
     * speaks the wire (decoding, encoding, the handlers that map Kafka's requests to the services,
     * the node's own requests to the controller and to a partition's leader). Services behind it
     * (groups, topics, the partition API, role decisions) speak Spate's own types and errors.
     */
    private static final Map<String, List<String>> KAFKA_PROTOCOL_EDGE = Map.of(
            "spate-server", List.of("io/spate/server/network/", "io/spate/server/handlers/", "io/spate/server/cluster/"),
            "spate-replication", List.of("io/spate/replication/LeaderConnection.java", "io/spate/replication/ReplicaFetcher.java",
                    "io/spate/replication/LeaderProduce.java"));

    @Test
    void kafkaClientsStaysAtTheProtocolEdge() throws IOException {
        List<String> inside = new ArrayList<>();
        for (var module : KAFKA_PROTOCOL_EDGE.entrySet()) {
            for (Path file : sources(module.getKey())) {
                String relative = file.toString().replace('\\', '/');
                boolean edge = module.getValue().stream().anyMatch(relative::contains);
                if (!edge && names(codeOnly(Files.readString(file)), "org.apache.kafka")) {
                    inside.add(ROOT.relativize(file).toString());
                }
            }
        }
        assertThat(inside).as("files behind the protocol edge naming kafka-clients").isEmpty();
    }

    /** Modules whose decisions must read an injected {@code io.spate.time.Time} (or a {@code java.time.Clock} passed in), never the wall clock. */
    private static final List<String> ON_INJECTED_TIME = List.of("spate-log", "spate-cluster", "spate-replication", "spate-coordinator", "spate-testkit",
            "spate-server");

    /** Wall-clock reads that decide nothing, each with why it may stay. */
    private static final Set<String> WALL_CLOCK_ALLOWED = Set.of(
            // How long the start-up recovery took, for its log line.
            "spate-log/src/main/java/io/spate/log/LogManager.java",
            // A unique name for a quarantined directory.
            "spate-log/src/main/java/io/spate/log/PartitionLog.java",
            // How long the simulation ran, for its summary line.
            "spate-testkit/src/main/java/io/spate/testkit/sim/SimulateCommand.java");

    private static final List<String> WALL_CLOCK_READS = List.of("System.currentTimeMillis(", "System.nanoTime(", "Clock.systemUTC(",
            "Clock.systemDefaultZone(", "Instant.now(");

    @Test
    void decisionLogicReadsTheInjectedClockNotTheWallClock() throws IOException {
        List<String> reads = new ArrayList<>();
        for (String module : ON_INJECTED_TIME) {
            for (Path file : sources(module)) {
                String relative = ROOT.relativize(file).toString().replace('\\', '/');
                String code = codeOnly(Files.readString(file)).replaceAll("\\s+", "");
                for (String read : WALL_CLOCK_READS) {
                    if (code.contains(read) && !WALL_CLOCK_ALLOWED.contains(relative)) {
                        reads.add(relative + " -> " + read);
                    }
                }
            }
        }
        assertThat(reads).as("wall-clock reads in decision logic (inject io.spate.time.Time instead)").isEmpty();
    }

    @Test
    void theScannerSeesCodeButNotCommentsOrStrings() {
        assertThat(names(codeOnly("import io.netty.channel.Channel;"), "io.netty")).isTrue();
        assertThat(names(codeOnly("var x = new org.apache.ratis.util.TimeDuration();"), "org.apache.ratis")).isTrue();
        assertThat(names(codeOnly("System.setProperty(\"io.netty.jfr.enabled\", \"false\");"), "io.netty")).isFalse();
        assertThat(names(codeOnly("// see io.netty.channel\n/* org.apache.ratis */ int a;"), "io.netty")).isFalse();
        assertThat(names(codeOnly("import io.spate.logging.X;"), "io.spate.log")).isFalse();
    }

    private static List<Path> sources(String module) throws IOException {
        Path main = ROOT.resolve(module).resolve("src/main/java");
        assertThat(main).as("main sources of %s", module).isDirectory();
        try (Stream<Path> files = Files.walk(main)) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        }
    }

    /** Whether {@code code} names {@code pkg} or anything under it. */
    private static boolean names(String code, String pkg) {
        Matcher m = Pattern.compile("(?<![\\w.])" + Pattern.quote(pkg) + "\\.[A-Za-z_]").matcher(code);
        return m.find();
    }

    /** The source with comments, string and character literals blanked out. */
    static String codeOnly(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        int n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (c == '/' && i + 1 < n && source.charAt(i + 1) == '/') {
                int end = source.indexOf('\n', i);
                i = end < 0 ? n : end;
            } else if (c == '/' && i + 1 < n && source.charAt(i + 1) == '*') {
                int end = source.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                out.append(' ');
            } else if (source.startsWith("\"\"\"", i)) {
                int end = source.indexOf("\"\"\"", i + 3);
                i = end < 0 ? n : end + 3;
                out.append("\"\"");
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && source.charAt(j) != c && source.charAt(j) != '\n') {
                    j += source.charAt(j) == '\\' ? 2 : 1;
                }
                i = Math.min(n, j + 1);
                out.append(c).append(c);
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
