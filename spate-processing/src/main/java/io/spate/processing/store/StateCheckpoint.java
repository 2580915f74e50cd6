package io.spate.processing.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a task's RocksDB stores held when the task stopped cleanly: for each changelog partition,
 * the offset the stores reflect every record before, and each store's entry count. A task that
 * starts on the same node with a checkpoint younger than {@link #MAX_AGE_MS} keeps its
 * databases and restores only the changelog records from those offsets on (Kafka Streams'
 * {@code .checkpoint} file does the same).
 *
 * <p>Taking a checkpoint deletes its file: a task that then dies (kill -9, a failed attempt)
 * leaves stores that no file vouches for, and the next start wipes them and restores all.
 * Replaying from a checkpoint is safe even if the stores hold some records past it, since a
 * changelog record carries a key's whole value (or a tombstone): applying it again changes
 * nothing. The age bound keeps a replay within the changelogs' {@code delete.retention.ms}
 * (24 h by default), so that a deletion compacted away meanwhile cannot be missed.
 */
public record StateCheckpoint(long writtenMs, Map<String, Long> changelogOffsets, Map<String, Long> storeSizes) {
    private static final Logger log = LoggerFactory.getLogger(StateCheckpoint.class);
    public static final String FILE = "checkpoint";
    /** One hour: well inside the changelogs' default delete.retention.ms of a day. */
    public static final long MAX_AGE_MS = 3_600_000;

    public StateCheckpoint {
        changelogOffsets = Map.copyOf(changelogOffsets);
        storeSizes = Map.copyOf(storeSizes);
    }

    /** The key of a changelog partition in {@link #changelogOffsets}. */
    public static String partitionKey(String topic, int partition) {
        return topic + ":" + partition;
    }

    /**
     * The checkpoint in {@code dir}, removed from the disk; null when there is none, it is older
     * than {@link #MAX_AGE_MS} or from the future, or it cannot be read (the stores are then
     * rebuilt from their changelogs).
     */
    public static StateCheckpoint take(Path dir, long nowMs) {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) {
            return null;
        }
        StateCheckpoint checkpoint = null;
        try {
            StateCheckpoint read = read(file);
            long age = nowMs - read.writtenMs();
            if (age >= 0 && age < MAX_AGE_MS) {
                checkpoint = read;
            } else {
                log.info("state checkpoint in {} is {} ms old: the stores are rebuilt from their changelogs", dir, age);
            }
        } catch (IOException | RuntimeException e) {
            log.warn("state checkpoint in {} cannot be read ({}): the stores are rebuilt from their changelogs", dir, e.toString());
        }
        try {
            Files.delete(file);
            fsync(dir);
        } catch (IOException e) {
            throw new StoreFailedException("cannot remove the state checkpoint " + file, e);
        }
        return checkpoint;
    }

    private static StateCheckpoint read(Path file) throws IOException {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Properties p = new Properties();
            p.load(in);
            long written = Long.parseLong(p.getProperty("written.ms"));
            Map<String, Long> offsets = new TreeMap<>();
            Map<String, Long> sizes = new TreeMap<>();
            for (String name : p.stringPropertyNames()) {
                if (name.startsWith("changelog.")) {
                    offsets.put(name.substring("changelog.".length()), Long.parseLong(p.getProperty(name)));
                } else if (name.startsWith("size.")) {
                    sizes.put(name.substring("size.".length()), Long.parseLong(p.getProperty(name)));
                }
            }
            return new StateCheckpoint(written, offsets, sizes);
        }
    }

    /** Writes this checkpoint into {@code dir}, durably (a temporary file fsynced, then renamed, then the directory fsynced). */
    void write(Path dir) throws IOException {
        Properties p = new Properties();
        p.setProperty("written.ms", Long.toString(writtenMs));
        changelogOffsets.forEach((k, v) -> p.setProperty("changelog." + k, Long.toString(v)));
        storeSizes.forEach((k, v) -> p.setProperty("size." + k, Long.toString(v)));
        Path tmp = dir.resolve(FILE + ".tmp");
        try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(out, "Spate task state checkpoint");
        }
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
        fsync(dir);
    }

    /**
     * At a node's start: keeps the task directories under {@code stateDir} (pipeline / task) that
     * hold a checkpoint young enough to be used, and deletes the rest (what a crash or an old
     * checkpoint left).
     */
    public static void clearUnusable(Path stateDir, long nowMs) {
        if (!Files.isDirectory(stateDir)) {
            return;
        }
        try (Stream<Path> pipelines = Files.list(stateDir)) {
            for (Path pipeline : pipelines.toList()) {
                if (!Files.isDirectory(pipeline)) {
                    RocksDbStores.deleteRecursively(pipeline);
                    continue;
                }
                try (Stream<Path> tasks = Files.list(pipeline)) {
                    for (Path task : tasks.toList()) {
                        if (!usable(task.resolve(FILE), nowMs)) {
                            RocksDbStores.deleteRecursively(task);
                        }
                    }
                }
                try (Stream<Path> left = Files.list(pipeline)) {
                    if (left.findAny().isEmpty()) {
                        Files.deleteIfExists(pipeline);
                    }
                }
            }
        } catch (IOException e) {
            throw new StoreFailedException("cannot clear the old task state in " + stateDir, e);
        }
    }

    private static boolean usable(Path file, long nowMs) {
        try {
            long age = nowMs - read(file).writtenMs();
            return age >= 0 && age < MAX_AGE_MS;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void fsync(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
