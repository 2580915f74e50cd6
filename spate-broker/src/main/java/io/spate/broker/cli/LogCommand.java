package io.spate.broker.cli;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * Offline tools for a stopped node's data directory: check every partition log (the recovery a
 * start would do) and, when a partition is offline for corrupt data, set that data aside
 * explicitly. A node never drops data it cannot read on its own: an operator decides here.
 */
@Command(name = "log", mixinStandardHelpOptions = true,
        description = "Check or repair the partition logs of a stopped node's data directory.",
        subcommands = {LogCommand.Check.class, LogCommand.SetAsideCorrupt.class, LogCommand.Quarantine.class})
public final class LogCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Open and recover every partition log; list the ones that are offline and why. "
                    + "Exit code 1 when any is, 2 when the directory cannot be checked.")
    static final class Check extends OfflineTool {
        @Option(names = "--data-dir", defaultValue = "spate-data", description = "the node's data directory (default: ${DEFAULT-VALUE})")
        Path dataDir;

        @Override
        Path dataDir() {
            return dataDir;
        }

        @Override
        int run(LogManager manager) throws IOException {
            PrintWriter out = out();
            int offline = 0;
            for (TopicPartition tp : partitionDirs(dataDir)) {
                PartitionLog log = manager.getOrCreate(tp, LogConfig.defaultConfig());
                if (log.isOffline()) {
                    offline++;
                    out.printf("%s\tOFFLINE\t%s%n", tp, log.offlineReason());
                } else {
                    out.printf("%s\tok\toffsets %d..%d, %d segment(s), %d bytes%n", tp, log.logStartOffset(),
                            log.logEndOffset(), log.segmentCount(), log.sizeInBytes());
                }
            }
            if (offline > 0) {
                out.printf("%d partition(s) offline. To keep the data before the damage and set the rest aside:%n"
                        + "  spate log set-aside-corrupt --data-dir %s --partition TOPIC-PARTITION%n", offline, dataDir);
            }
            return offline == 0 ? 0 : 1;
        }
    }

    /**
     * A tool that opens a stopped node's logs. The directory must already exist (a mistyped path
     * is an error, not a new empty node) and must not be held by a running node; either failure
     * is one line on stderr and exit code 2.
     */
    abstract static class OfflineTool implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        abstract Path dataDir();

        /** Runs with the directory's logs open; returns the exit code. */
        abstract int run(LogManager manager) throws IOException;

        /** Checked before the logs are opened; an exit code to stop with, or null to go on. */
        Integer precheck() {
            return null;
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        int cannot(String message) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("spate: " + message);
            err.flush();
            return 2;
        }

        @Override
        public final Integer call() throws IOException {
            Path dir = dataDir();
            if (!Files.isDirectory(dir)) {
                return cannot("no data directory at " + dir.toAbsolutePath());
            }
            Integer stop = precheck();
            if (stop != null) {
                return stop;
            }
            LogManager manager;
            try {
                manager = LogManager.open(dir, Clock.systemUTC(), Long.MAX_VALUE / 4);
            } catch (IOException e) {
                boolean held = e.getMessage() != null && e.getMessage().contains("in use by another");
                return cannot(FailureReport.describe(e) + (held ? "; stop that node first" : ""));
            }
            try (manager) {
                return run(manager);
            }
        }
    }

    @Command(name = "set-aside-corrupt", mixinStandardHelpOptions = true,
            description = "Move the corrupt data of an offline partition, and every segment after it, to the data directory's "
                    + "quarantine folder (nothing is deleted); the partition then ends where its valid data ends.")
    static final class SetAsideCorrupt extends OfflineTool {
        @Option(names = "--data-dir", defaultValue = "spate-data", description = "the node's data directory (default: ${DEFAULT-VALUE})")
        Path dataDir;

        @Option(names = "--partition", required = true, description = "the partition, as TOPIC-PARTITION (its directory's name)")
        String partition;

        @Override
        Path dataDir() {
            return dataDir;
        }

        @Override
        Integer precheck() {
            TopicPartition tp = parse(partition);
            return tp != null && Files.isDirectory(dataDir.resolve(tp.dirName())) ? null : cannot("no partition " + partition + " in " + dataDir);
        }

        @Override
        int run(LogManager manager) throws IOException {
            TopicPartition tp = parse(partition);
            PartitionLog log = manager.getOrCreate(tp, LogConfig.defaultConfig());
            if (!log.isOffline()) {
                out().printf("%s is not offline (offsets %d..%d): nothing to do%n", tp, log.logStartOffset(), log.logEndOffset());
                return 0;
            }
            String reason = log.offlineReason();
            PartitionLog repaired = manager.setAsideCorruptData(tp, LogConfig.defaultConfig());
            out().printf("%s was offline: %s%nset aside under %s; the partition now holds offsets %d..%d%n", tp, reason,
                    dataDir.resolve(PartitionLog.QUARANTINE_DIR), repaired.logStartOffset(), repaired.logEndOffset());
            return 0;
        }
    }

    @Command(name = "quarantine", mixinStandardHelpOptions = true,
            description = "List the data set aside in the data directory's quarantine folder (by a node repairing its replica "
                    + "from a healthy one, or by set-aside-corrupt), and delete what was set aside before a given age. "
                    + "A node never reads the folder and never empties it; this may run while the node runs.")
    static final class Quarantine implements Callable<Integer> {
        @Option(names = "--data-dir", defaultValue = "spate-data", description = "the node's data directory (default: ${DEFAULT-VALUE})")
        Path dataDir;

        @Option(names = "--delete-older-than", paramLabel = "AGE",
                description = "delete what was set aside more than AGE ago: a number with ms, s, m, h or d (7d, 12h), or ISO-8601 (PT12H)")
        String deleteOlderThan;

        @Override
        public Integer call() throws IOException {
            java.time.Duration age = null;
            if (deleteOlderThan != null) {
                age = parseAge(deleteOlderThan);
                if (age == null) {
                    System.err.printf("--delete-older-than: '%s' is not an age (examples: 7d, 12h, 30m, PT12H)%n", deleteOlderThan);
                    return 2;
                }
            }
            Path folder = dataDir.resolve(PartitionLog.QUARANTINE_DIR);
            if (!Files.isDirectory(folder)) {
                System.out.printf("nothing set aside in %s%n", dataDir);
                return 0;
            }
            long now = System.currentTimeMillis();
            long kept = 0;
            long deleted = 0;
            List<Path> entries;
            try (Stream<Path> list = Files.list(folder)) {
                entries = list.sorted().toList();
            }
            for (Path entry : entries) {
                long setAsideAt = Files.getLastModifiedTime(entry).toMillis();
                long bytes = sizeOf(entry);
                String ago = java.time.Duration.ofMillis(Math.max(0, now - setAsideAt)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                        .toString().substring(2).toLowerCase(java.util.Locale.ROOT);
                if (age != null && now - setAsideAt >= age.toMillis()) {
                    deleteTree(entry);
                    deleted++;
                    System.out.printf("deleted	%s	set aside %s ago	%d bytes%n", entry.getFileName(), ago, bytes);
                } else {
                    kept++;
                    System.out.printf("kept	%s	set aside %s ago	%d bytes%n", entry.getFileName(), ago, bytes);
                }
            }
            System.out.printf("%d kept, %d deleted in %s%n", kept, deleted, folder);
            return 0;
        }

        static java.time.Duration parseAge(String text) {
            var unit = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h|d)").matcher(text.trim());
            if (unit.matches()) {
                long n = Long.parseLong(unit.group(1));
                return switch (unit.group(2)) {
                    case "ms" -> java.time.Duration.ofMillis(n);
                    case "s" -> java.time.Duration.ofSeconds(n);
                    case "m" -> java.time.Duration.ofMinutes(n);
                    case "h" -> java.time.Duration.ofHours(n);
                    default -> java.time.Duration.ofDays(n);
                };
            }
            try {
                java.time.Duration parsed = java.time.Duration.parse(text.trim());
                return parsed.isNegative() ? null : parsed;
            } catch (java.time.format.DateTimeParseException e) {
                return null;
            }
        }

        private static long sizeOf(Path entry) throws IOException {
            try (Stream<Path> files = Files.walk(entry)) {
                long total = 0;
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    total += Files.size(f);
                }
                return total;
            }
        }

        private static void deleteTree(Path entry) throws IOException {
            try (Stream<Path> files = Files.walk(entry)) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
    }

    static List<TopicPartition> partitionDirs(Path dataDir) throws IOException {
        List<TopicPartition> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dataDir)) {
            for (Path dir : entries.filter(Files::isDirectory).sorted().toList()) {
                TopicPartition tp = parse(dir.getFileName().toString());
                if (tp != null) {
                    found.add(tp);
                }
            }
        }
        return found;
    }

    static TopicPartition parse(String dirName) {
        try {
            return TopicPartition.fromDirName(dirName);
        } catch (IllegalArgumentException e) {
            return null; // not a partition directory (quarantine/, metadata)
        }
    }
}
