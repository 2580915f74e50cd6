package io.spate.broker.cli;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import io.spate.log.PartitionLog;
import io.spate.log.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
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
        subcommands = {LogCommand.Check.class, LogCommand.SetAsideCorrupt.class})
public final class LogCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Open and recover every partition log; list the ones that are offline and why. Exit code 1 when any is.")
    static final class Check implements Callable<Integer> {
        @Option(names = "--data-dir", defaultValue = "spate-data", description = "the node's data directory (default: ${DEFAULT-VALUE})")
        Path dataDir;

        @Override
        public Integer call() throws IOException {
            int offline = 0;
            try (LogManager manager = LogManager.open(dataDir, Clock.systemUTC(), Long.MAX_VALUE / 4)) {
                for (TopicPartition tp : partitionDirs(dataDir)) {
                    PartitionLog log = manager.getOrCreate(tp, LogConfig.defaultConfig());
                    if (log.isOffline()) {
                        offline++;
                        System.out.printf("%s\tOFFLINE\t%s%n", tp, log.offlineReason());
                    } else {
                        System.out.printf("%s\tok\toffsets %d..%d, %d segment(s), %d bytes%n", tp, log.logStartOffset(),
                                log.logEndOffset(), log.segmentCount(), log.sizeInBytes());
                    }
                }
            }
            if (offline > 0) {
                System.out.printf("%d partition(s) offline. To keep the data before the damage and set the rest aside:%n"
                        + "  spate log set-aside-corrupt --data-dir %s --partition TOPIC-PARTITION%n", offline, dataDir);
            }
            return offline == 0 ? 0 : 1;
        }
    }

    @Command(name = "set-aside-corrupt", mixinStandardHelpOptions = true,
            description = "Move the corrupt data of an offline partition, and every segment after it, to the data directory's "
                    + "quarantine folder (nothing is deleted); the partition then ends where its valid data ends.")
    static final class SetAsideCorrupt implements Callable<Integer> {
        @Option(names = "--data-dir", defaultValue = "spate-data", description = "the node's data directory (default: ${DEFAULT-VALUE})")
        Path dataDir;

        @Option(names = "--partition", required = true, description = "the partition, as TOPIC-PARTITION (its directory's name)")
        String partition;

        @Override
        public Integer call() throws IOException {
            TopicPartition tp = parse(partition);
            if (tp == null || !Files.isDirectory(dataDir.resolve(tp.dirName()))) {
                System.err.printf("no partition %s in %s%n", partition, dataDir);
                return 2;
            }
            try (LogManager manager = LogManager.open(dataDir, Clock.systemUTC(), Long.MAX_VALUE / 4)) {
                PartitionLog log = manager.getOrCreate(tp, LogConfig.defaultConfig());
                if (!log.isOffline()) {
                    System.out.printf("%s is not offline (offsets %d..%d): nothing to do%n", tp, log.logStartOffset(), log.logEndOffset());
                    return 0;
                }
                String reason = log.offlineReason();
                PartitionLog repaired = manager.setAsideCorruptData(tp, LogConfig.defaultConfig());
                System.out.printf("%s was offline: %s%nset aside under %s; the partition now holds offsets %d..%d%n", tp, reason,
                        dataDir.resolve(PartitionLog.QUARANTINE_DIR), repaired.logStartOffset(), repaired.logEndOffset());
                return 0;
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
