package io.spate.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Owns the data directory: locks it against a second process, opens and recovers partition
 * logs, and runs the background duties (retention, periodic fsync for {@code flush.ms}, the
 * recovery-point checkpoint).
 *
 * <p>After a clean shutdown every log is fsynced and a marker file says so; at the next start
 * no data is re-validated. After a crash, each log re-validates (CRC, offsets) every batch and
 * cuts a torn tail past its last checkpointed recovery point; bad data below it is damage.
 */
public final class LogManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LogManager.class);
    static final String CLEAN_SHUTDOWN_FILE = ".spate-clean-shutdown";
    static final String RECOVERY_CHECKPOINT_FILE = "recovery-point-offset-checkpoint";
    static final String LOG_START_CHECKPOINT_FILE = "log-start-offset-checkpoint";
    static final String HIGH_WATERMARK_CHECKPOINT_FILE = "replication-offset-checkpoint";
    private static final String LOCK_FILE = ".lock";

    private final Path dataDir;
    private final Clock clock;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final boolean cleanStart;
    private final Map<TopicPartition, Long> checkpointedRecoveryPoints;
    private final Map<TopicPartition, Long> checkpointedLogStarts;
    private final Map<TopicPartition, Long> checkpointedHighWatermarks;
    /** Why the whole directory is out of service (a failed fsync), or null. */
    private volatile String offlineReason;
    private final java.util.concurrent.CompletableFuture<String> firstWriteFailure = new java.util.concurrent.CompletableFuture<>();
    private final Map<TopicPartition, PartitionLog> logs = new ConcurrentHashMap<>();
    private final FlushCoordinator flusher;
    private volatile java.util.function.LongConsumer fsyncObserver = nanos -> { };
    private final ScheduledExecutorService scheduler;
    private final long retentionCheckIntervalMs;
    private volatile boolean closed;
    /** Guards the checkpoint files: one writer at a time, each reading the values it writes under it. */
    private final Object checkpointLock = new Object();
    /** The recovery points the checkpoint file holds now, per partition (guarded by the checkpoint lock). */
    private final Map<TopicPartition, Long> writtenRecoveryPoints = new HashMap<>();
    /** Logs that rolled since the last {@link #flushRolledLogs()}, without background duties. */
    private final java.util.Queue<PartitionLog> rolledLogs = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final boolean backgroundDuties;

    private LogManager(Path dataDir, Clock clock, long retentionCheckIntervalMs, boolean backgroundDuties, FileChannel lockChannel, FileLock lock)
            throws IOException {
        this.backgroundDuties = backgroundDuties;
        this.dataDir = dataDir;
        this.clock = clock;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.retentionCheckIntervalMs = retentionCheckIntervalMs;
        Path marker = dataDir.resolve(CLEAN_SHUTDOWN_FILE);
        this.cleanStart = Files.exists(marker);
        this.checkpointedRecoveryPoints = readCheckpoint(dataDir.resolve(RECOVERY_CHECKPOINT_FILE));
        this.writtenRecoveryPoints.putAll(checkpointedRecoveryPoints);
        this.checkpointedLogStarts = readCheckpoint(dataDir.resolve(LOG_START_CHECKPOINT_FILE));
        this.checkpointedHighWatermarks = readCheckpoint(dataDir.resolve(HIGH_WATERMARK_CHECKPOINT_FILE));
        if (Files.deleteIfExists(marker)) {
            // Durably gone before anything is written: a power loss must not bring the marker
            // back over logs that were not closed cleanly (their recovery would be skipped).
            fsyncDirectory(dataDir);
        }
        // Deletions a stop or a crash interrupted after their commit point (PartitionLog.deleteDirectory).
        try (java.util.stream.Stream<Path> entries = Files.list(dataDir)) {
            for (Path doomed : entries.filter(e -> e.getFileName().toString().endsWith(PartitionLog.DELETE_SUFFIX)).toList()) {
                try {
                    PartitionLog.deleteTree(doomed);
                } catch (IOException e) {
                    // Its name keeps it from ever being loaded: the node serves on, and the next start tries again.
                    log.warn("could not remove {}, a log deleted before the last stop: {}", doomed, e.toString());
                }
            }
        }
        this.flusher = new FlushCoordinator(clock);
        ScheduledThreadPoolExecutor duties = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().name("spate-log-scheduler").daemon().unstarted(r));
        // At close, a duty that is running finishes and nothing waiting starts (see close()).
        duties.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        duties.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        this.scheduler = duties;
    }

    /**
     * Opens {@code dataDir}, creating it if needed.
     *
     * @throws IOException when the directory cannot be created or another process holds it
     */
    public static LogManager open(Path dataDir, Clock clock, long retentionCheckIntervalMs) throws IOException {
        LogManager manager = openLocked(dataDir, clock, retentionCheckIntervalMs, true);
        manager.startBackgroundDuties();
        return manager;
    }

    /**
     * As {@link #open}, without the background duties that run retention, write checkpoints,
     * check flush deadlines and flush rolled segments: the caller runs {@link #writeCheckpoints()}
     * and {@link #flushRolledLogs()} when it chooses (the group-commit thread still starts, for
     * the produce requests that ask it). The simulation opens its nodes' logs this way, so that
     * nothing happens outside simulated time.
     */
    public static LogManager openWithoutDuties(Path dataDir, Clock clock) throws IOException {
        return openLocked(dataDir, clock, Long.MAX_VALUE / 4, false);
    }

    private static LogManager openLocked(Path dataDir, Clock clock, long retentionCheckIntervalMs, boolean backgroundDuties) throws IOException {
        Files.createDirectories(dataDir);
        FileChannel channel = FileChannel.open(dataDir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            throw new IOException("data directory " + dataDir.toAbsolutePath() + " is in use by another Spate node");
        }
        return new LogManager(dataDir, clock, retentionCheckIntervalMs, backgroundDuties, channel, lock);
    }

    private void startBackgroundDuties() {
        ScheduledTasks.withFixedDelay(scheduler, "retention", this::runRetention, retentionCheckIntervalMs, retentionCheckIntervalMs, TimeUnit.MILLISECONDS);
        ScheduledTasks.withFixedDelay(scheduler, "offset checkpoints", this::writeCheckpoints, 10_000, 10_000, TimeUnit.MILLISECONDS);
        scheduleFlushCheck(100);
    }

    public boolean wasCleanShutdown() {
        return cleanStart;
    }

    public Path dataDir() {
        return dataDir;
    }

    public FlushCoordinator flusher() {
        return flusher;
    }

    public PartitionLog log(TopicPartition tp) {
        return logs.get(tp);
    }

    public Collection<PartitionLog> logs() {
        return logs.values();
    }

    /** Opens (recovering if needed) or creates the log of {@code tp}. */
    public PartitionLog getOrCreate(TopicPartition tp, LogConfig config) throws IOException {
        PartitionLog existing = logs.get(tp);
        if (existing != null) {
            return existing;
        }
        synchronized (logs) {
            existing = logs.get(tp);
            if (existing != null) {
                return existing;
            }
            PartitionLog opened = openLog(tp, config, false);
            logs.put(tp, opened);
            checkpointFollows(opened);
            return opened;
        }
    }

    /**
     * Opens or creates the log of {@code tp} for the topic whose id is {@code topicId}, and
     * stores that id with it. A log stored under this name for another topic (one deleted and
     * created again while this node was away) is deleted first: its records are not the new
     * topic's, even where their offsets and epochs look alike. A log stored without an id (written
     * before ids were kept) is taken as the topic's.
     *
     * @throws IllegalStateException when the log is open already, for another topic
     */
    public PartitionLog getOrCreate(TopicPartition tp, LogConfig config, UUID topicId) throws IOException {
        synchronized (logs) {
            PartitionLog existing = logs.get(tp);
            Path dir = dataDir.resolve(tp.dirName());
            UUID stored = storedTopicId(tp);
            if (stored != null && !stored.equals(topicId)) {
                if (existing != null) {
                    throw new IllegalStateException(tp + ": its log is open for topic id " + stored + ", not " + topicId);
                }
                log.warn("{}: the log stored here belongs to an earlier topic of this name (id {}), not to topic id {}: deleting it",
                        tp, stored, topicId);
                deleteStored(tp);
            }
            PartitionLog opened = existing != null ? existing : getOrCreate(tp, config);
            if (!topicId.equals(stored)) {
                PartitionMetadataFile.write(dir, topicId);
            }
            opened.topicId(topicId);
            return opened;
        }
    }

    /** The id of the topic whose log is open under {@code tp}, when it was opened with one (else null). */
    public UUID topicId(TopicPartition tp) {
        PartitionLog open = logs.get(tp);
        return open == null ? null : open.topicId();
    }

    private PartitionLog openLog(TopicPartition tp, LogConfig config, boolean setAsideCorruptData) throws IOException {
        if (!Files.isDirectory(dataDir.resolve(tp.dirName()))) {
            // A new log: what the checkpoints still hold for this name is of one deleted before
            // they were written again, and a log start from there would begin the new one far on.
            forgetCheckpoints(tp);
        }
        long recoveryPoint = cleanStart ? Long.MAX_VALUE : checkpointedRecoveryPoints.getOrDefault(tp, 0L);
        PartitionLog.OpenOptions options = new PartitionLog.OpenOptions(recoveryPoint, checkpointedLogStarts.getOrDefault(tp, 0L),
                checkpointedHighWatermarks.getOrDefault(tp, 0L), setAsideCorruptData);
        long started = System.nanoTime();
        PartitionLog opened = PartitionLog.open(tp, dataDir.resolve(tp.dirName()), config, options, clock.millis());
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        if (tookMs > 100) {
            log.info("{}: loaded {} segment(s) in {} ms", tp, opened.segmentCount(), tookMs);
        }
        opened.onFsyncFailure(this::takeOffline);
        opened.onFsynced(nanos -> fsyncObserver.accept(nanos));
        opened.onRecoveryPointLowered(() -> recoveryPointLowered(opened));
        opened.onRoll(this::flushAfterRoll);
        opened.onWriteFailure(this::writeFailed);
        if (opened.isOffline()) {
            log.error("{}: to keep the data before the damage and set the rest aside, stop the node and run: "
                    + "spate log set-aside-corrupt --data-dir {} --partition {}", tp, dataDir, tp.dirName());
        }
        String offline = offlineReason;
        if (offline != null) {
            opened.takeOffline(offline);
        }
        return opened;
    }

    /**
     * Sets aside the corrupt data of an offline log (moved to the quarantine folder, never
     * deleted) and reopens it with the valid data before it. The caller makes sure the data
     * can be had again, from a healthy replica, or that the operator asked for it.
     *
     * @return the reopened log, or the log as it was when it is not offline for corrupt data
     */
    public PartitionLog setAsideCorruptData(TopicPartition tp, LogConfig config) throws IOException {
        synchronized (logs) {
            PartitionLog current = logs.get(tp);
            if (current != null && !current.isOffline()) {
                return current;
            }
            if (offlineReason != null) {
                throw new IOException("the data directory is offline: " + offlineReason);
            }
            if (current != null) {
                current.close();
                logs.remove(tp);
            }
            PartitionLog reopened = openLog(tp, config, true);
            if (current != null) {
                reopened.topicId(current.topicId());
            }
            logs.put(tp, reopened);
            checkpointFollows(reopened);
            return reopened;
        }
    }

    /**
     * Completes, with a reason, at the first write to the data directory that failed (an append,
     * a segment roll, an epoch checkpoint, an fsync). A standalone node keeps serving (appends
     * fail with a storage error until space is freed); a cluster node stops, as a Kafka broker
     * whose only log directory failed does, so that replicas with a working disk take over.
     */
    public java.util.concurrent.CompletableFuture<String> firstWriteFailure() {
        return firstWriteFailure;
    }

    private void writeFailed(IOException e) {
        // A thread interrupted during a write (a shutting-down executor) closes the channel under
        // it: the disk did not fail, and a node that is stopping must not halt for it.
        if (closed || e instanceof java.nio.channels.ClosedChannelException) {
            return;
        }
        firstWriteFailure.complete("a write to " + dataDir.toAbsolutePath() + " failed: " + e.getMessage());
    }

    /**
     * Told the duration (nanoseconds) of every fsync of a log's appended data: group commits,
     * {@code flush.ms} and {@code flush.messages} flushes, rolls and the final flush at shutdown.
     * Called on the thread that fsynced; it must be quick and thread-safe.
     */
    public void observeFsyncs(java.util.function.LongConsumer observer) {
        this.fsyncObserver = observer;
    }

    /** Why the data directory is out of service, or null. */
    public String offlineReason() {
        return offlineReason;
    }

    /**
     * A failed fsync takes the whole directory offline, as Kafka takes a log directory offline:
     * the same disk holds every log, and after an fsync error nobody can say which pages made
     * it. Every log refuses appends, reads and fsyncs from now on; the node must be restarted
     * once the disk is fixed (it then recovers past the last good recovery point).
     */
    void takeOffline(IOException cause) {
        synchronized (logs) {
            if (offlineReason != null) {
                return;
            }
            offlineReason = "an fsync in " + dataDir.toAbsolutePath() + " failed (" + cause.getMessage() + ")";
            firstWriteFailure.complete(offlineReason);
            log.error("the data directory {} is OFFLINE: {}. No partition is served from it until the node is restarted with a working disk.",
                    dataDir.toAbsolutePath(), offlineReason, cause);
            for (PartitionLog partitionLog : logs.values()) {
                partitionLog.takeOffline(offlineReason);
            }
        }
    }

    /**
     * Every partition with a log directory here, open or not: a directory named {@code topic-N}
     * (what else the data directory holds lives in directories without that shape: meta, tables,
     * pipelines, quarantine). Logs are opened when a partition is hosted, so this also lists
     * replicas the node no longer hosts, and directories a deletion interrupted by a crash left.
     */
    public java.util.List<TopicPartition> storedPartitions() throws IOException {
        try (java.util.stream.Stream<Path> entries = Files.list(dataDir)) {
            return entries.filter(Files::isDirectory).map(dir -> dir.getFileName().toString())
                    .filter(name -> name.matches(".+-\\d{1,9}")).map(TopicPartition::fromDirName).toList();
        }
    }

    /** Deletes the log of {@code tp}, whether it is open or only stored (see {@link #storedPartitions}). */
    public void deleteStored(TopicPartition tp) throws IOException {
        if (logs.containsKey(tp)) {
            delete(tp);
            return;
        }
        forgetCheckpoints(tp);
        Path dir = dataDir.resolve(tp.dirName());
        if (Files.isDirectory(dir)) {
            PartitionLog.deleteDirectory(dir);
        }
        checkpointsWithout(tp);
    }

    private void forgetCheckpoints(TopicPartition tp) {
        synchronized (checkpointLock) { // a checkpoint being written finishes first: it cannot write them back after
            checkpointedRecoveryPoints.remove(tp);
            checkpointedLogStarts.remove(tp);
            checkpointedHighWatermarks.remove(tp);
        }
    }

    /**
     * Rewrites the checkpoints once {@code tp}'s log is gone, as Kafka does after a deletion: until
     * then they name its positions, and a new log of the same name made durable before the next
     * periodic write would take them at a restart (a log start far on hides its records).
     */
    private void checkpointsWithout(TopicPartition tp) {
        if (offlineReason != null || closed) {
            return; // nothing is written any more: the deletion's rename already keeps the entries from a new log
        }
        try {
            writeCheckpointsOrFail();
        } catch (IOException e) {
            log.error("could not write the offset checkpoints of {} after deleting {}", dataDir, tp, e);
        }
    }

    /**
     * Closes the log of {@code tp} and keeps its files: it is no longer served, and a later
     * {@link #getOrCreate} opens it again with what it held (its checkpointed positions are kept
     * for that), or {@link #deleteStored} deletes it.
     */
    public void closeKeeping(TopicPartition tp) {
        PartitionLog closing;
        synchronized (logs) {
            closing = logs.remove(tp);
        }
        if (closing == null) {
            return;
        }
        if (!closing.isOffline()) {
            // What it holds is vouched for by the recovery point kept below, and by a clean start's
            // (which trusts every log it opens again in this process): it must be on disk first.
            try {
                closing.flush(clock.millis());
            } catch (IOException e) {
                log.warn("{}: could not fsync the log closed and kept: {}", tp, e.toString());
            }
        }
        synchronized (checkpointLock) {
            if (!closing.isOffline()) {
                checkpointedRecoveryPoints.put(tp, closing.recoveryPoint());
                checkpointedLogStarts.put(tp, closing.logStartOffset());
                checkpointedHighWatermarks.put(tp, closing.highWatermark());
            }
        }
        closing.close();
    }

    /** The id of the topic whose log is stored under {@code tp} (open or not), or null when none says. */
    public UUID storedTopicId(TopicPartition tp) throws IOException {
        PartitionLog open = logs.get(tp);
        if (open != null && open.topicId() != null) {
            return open.topicId();
        }
        try {
            return PartitionMetadataFile.read(dataDir.resolve(tp.dirName()));
        } catch (PartitionMetadataFile.Damaged e) {
            // Not a reason to delete the log as an earlier topic's, nor to keep the partition from
            // its role: it is taken as the topic's, as a log stored before ids were, and the file
            // written again (a topic deleted and created again while this node was away, with this
            // very file damaged, would go unnoticed).
            log.warn("{}: {}; taking the log stored here as the topic's", tp, e.getMessage());
            return null;
        }
    }

    /** Closes the log of {@code tp} and deletes its files. */
    public void delete(TopicPartition tp) throws IOException {
        PartitionLog removed = logs.remove(tp);
        // Checkpoints of logs not open (yet) are kept; those of a deleted one are not.
        forgetCheckpoints(tp);
        if (removed != null) {
            removed.deleteFiles();
        }
        checkpointsWithout(tp);
    }

    /** Schedules a one-off task on the log scheduler (used by the server for housekeeping). */
    public boolean schedule(Runnable task, long delayMs) {
        if (closed) {
            return false;
        }
        try {
            ScheduledTasks.once(scheduler, "housekeeping", task, delayMs, TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return false;
        }
    }

    private void runRetention() {
        long now = clock.millis();
        for (PartitionLog partitionLog : logs.values()) {
            try {
                partitionLog.applyRetention(now);
            } catch (IOException | RuntimeException e) {
                log.error("{}: retention failed", partitionLog.topicPartition(), e);
            }
        }
    }

    /** Checks for logs whose {@code flush.ms} has passed, then re-arms at the smallest interval in use. */
    private void scheduleFlushCheck(long delayMs) {
        if (closed) {
            return;
        }
        scheduler.schedule(() -> {
            long next = 1_000;
            try {
                long now = clock.millis();
                for (PartitionLog partitionLog : logs.values()) {
                    next = Math.min(next, Math.max(1, partitionLog.config().flushMs()));
                    if (partitionLog.flushDue(now)) {
                        flusher.flush(partitionLog);
                    }
                }
            } catch (Throwable e) {
                log.error("flush check failed; checking again in {} ms", next, e);
            } finally {
                // The check re-arms itself: without this, one throw would end flush.ms for good.
                scheduleFlushCheck(next);
            }
        }, delayMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Writes the recovery points, log start offsets and high watermarks of every log. A log that
     * is offline keeps the values read at start-up: what it holds in memory is not to be trusted.
     */
    public void writeCheckpoints() {
        if (offlineReason != null) {
            return;
        }
        try {
            writeCheckpointsOrFail();
        } catch (IOException e) {
            log.error("could not write the offset checkpoints of {}", dataDir, e);
        }
    }

    /**
     * A log just opened ends below its checkpointed recovery point (its end lay in a gap past its
     * last batch, which the segments cannot show, even after a clean stop; or corrupt data was set
     * aside): as after a truncation, the checkpoint follows before anything is appended there, or
     * a power loss tearing such an append would look like damage to flushed data. A log that
     * cannot have it written goes offline.
     */
    private void checkpointFollows(PartitionLog opened) throws IOException {
        if (opened.isOffline() || opened.recoveryPoint() >= checkpointedRecoveryPoints.getOrDefault(opened.topicPartition(), 0L)) {
            return;
        }
        try {
            recoveryPointLowered(opened);
        } catch (IOException e) {
            opened.takeOffline("its recovery checkpoint could not be lowered to where it ends: " + e.getMessage());
            throw e;
        }
    }

    /**
     * A truncation took {@code partitionLog}'s recovery point back: unless the checkpoint on disk
     * is already at or below it, it is rewritten now, before any later append can be torn below
     * the old point. Throws when it cannot be (the log then goes offline).
     */
    private void recoveryPointLowered(PartitionLog partitionLog) throws IOException {
        synchronized (checkpointLock) {
            Long written = writtenRecoveryPoints.get(partitionLog.topicPartition());
            if (written != null && written <= partitionLog.recoveryPoint()) {
                return;
            }
            if (offlineReason != null) {
                throw new IOException("the data directory is offline: " + offlineReason);
            }
            writeCheckpointsOrFail();
        }
    }

    /**
     * A roll sealed a segment: it is flushed in the background, as Kafka does, so that the
     * recovery point follows the rolls. Without background duties (the simulation) the flush
     * waits for {@link #flushRolledLogs()}.
     */
    private void flushAfterRoll(PartitionLog partitionLog) {
        if (!backgroundDuties) {
            rolledLogs.add(partitionLog);
            return;
        }
        if (closed) {
            return;
        }
        try {
            scheduler.execute(() -> flushQuietly(partitionLog));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: the close flushes every log itself
        }
    }

    /** Flushes the logs that rolled since the last call (for a caller that runs no background duties). */
    public void flushRolledLogs() {
        for (PartitionLog partitionLog; (partitionLog = rolledLogs.poll()) != null; ) {
            flushQuietly(partitionLog);
        }
    }

    private void flushQuietly(PartitionLog partitionLog) {
        try {
            partitionLog.flush(clock.millis());
        } catch (IOException e) {
            // flush() took the directory offline and said why
        }
    }

    private void writeCheckpointsOrFail() throws IOException {
        // The values are read under the lock too: a writer that read a recovery point before a
        // truncation lowered it must not write it after the truncation's own checkpoint.
        synchronized (checkpointLock) {
            Map<TopicPartition, Long> recoveryPoints = new HashMap<>(checkpointedRecoveryPoints);
            Map<TopicPartition, Long> logStarts = new HashMap<>(checkpointedLogStarts);
            Map<TopicPartition, Long> highWatermarks = new HashMap<>(checkpointedHighWatermarks);
            for (PartitionLog partitionLog : logs.values()) {
                if (partitionLog.isOffline()) {
                    continue;
                }
                TopicPartition tp = partitionLog.topicPartition();
                recoveryPoints.put(tp, partitionLog.recoveryPoint());
                logStarts.put(tp, partitionLog.logStartOffset());
                highWatermarks.put(tp, partitionLog.highWatermark());
            }
            try {
                writeCheckpoint(dataDir.resolve(RECOVERY_CHECKPOINT_FILE), recoveryPoints);
            } catch (IOException e) {
                // The file holds the old or the new points: unknown, so the next lowering rewrites it.
                recoveryPoints.keySet().forEach(tp -> writtenRecoveryPoints.put(tp, Long.MAX_VALUE));
                throw e;
            }
            writtenRecoveryPoints.putAll(recoveryPoints);
            writeCheckpoint(dataDir.resolve(LOG_START_CHECKPOINT_FILE), logStarts);
            writeCheckpoint(dataDir.resolve(HIGH_WATERMARK_CHECKPOINT_FILE), highWatermarks);
        }
    }

    static void writeCheckpoint(Path file, Map<TopicPartition, Long> points) throws IOException {
        StringBuilder text = new StringBuilder("0\n").append(points.size()).append('\n');
        points.forEach((tp, offset) -> text.append(tp.topic()).append(' ').append(tp.partition()).append(' ').append(offset).append('\n'));
        writeAtomically(file, StableRead.withChecksum(text.toString()));
    }

    /** Writes a small file so that readers see the old or the new content, never a mix. */
    public static void writeAtomically(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            // A nearly full disk may take part of a write without an error: the next one says why.
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp); // its pages, on a full disk, are what the next write needs
            } catch (IOException ignored) {
                // the next write truncates it
            }
            throw e;
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(file.getParent());
    }

    /**
     * Makes the entries of {@code dir} durable: a file created or renamed there is only safe
     * from a power loss once its directory has been fsynced too.
     */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    static Map<TopicPartition, Long> readCheckpoint(Path file) {
        Map<TopicPartition, Long> points = new ConcurrentHashMap<>();
        if (!Files.exists(file)) {
            return points;
        }
        try {
            var lines = StableRead.lines(file);
            for (int i = 2; i < lines.size(); i++) {
                String[] parts = lines.get(i).trim().split(" ");
                if (parts.length == 3) {
                    points.put(new TopicPartition(parts[0], Integer.parseInt(parts[1])), Long.parseLong(parts[2]));
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("ignoring unreadable recovery checkpoint {}: every log will be fully re-validated", file, e);
            points.clear();
        }
        return points;
    }

    /**
     * What kill -9 leaves behind, for tests of recovery and for the simulation: the duties stop
     * and every file is closed with no fsync, no checkpoint, no producer snapshot and no
     * clean-shutdown marker; the directory's lock goes, as the operating system would drop it.
     */
    public void halt() {
        if (closed) {
            return;
        }
        closed = true;
        scheduler.shutdownNow();
        flusher.close();
        for (PartitionLog partitionLog : logs.values()) {
            partitionLog.halt();
        }
        try {
            lock.release();
        } catch (IOException ignored) {
            // the process is gone in the model: its lock with it
        }
        try {
            lockChannel.close();
        } catch (IOException ignored) {
            // likewise
        }
    }

    /** Fsyncs everything, records that the shutdown was clean, and releases the directory. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // Not shutdownNow(): interrupting a duty in the middle of a file operation closes the
        // channel it uses (ClosedByInterruptException), so a checkpoint write racing a clean stop
        // failed and was logged as an error (seen in the replication simulation, which stops and
        // starts nodes by the hundred). A running duty finishes first; none waiting starts.
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("a background duty of {} did not finish within 10 s of the close: interrupting it", dataDir);
                scheduler.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            scheduler.shutdownNow();
        }
        flusher.close();
        boolean allFlushed = true;
        for (PartitionLog partitionLog : logs.values()) {
            try {
                partitionLog.flush(clock.millis());
            } catch (IOException e) {
                allFlushed = false;
                log.error("{}: final fsync failed", partitionLog.topicPartition(), e);
            }
            partitionLog.close();
        }
        writeCheckpoints();
        try {
            if (allFlushed && offlineReason == null) {
                Files.writeString(dataDir.resolve(CLEAN_SHUTDOWN_FILE), "");
            }
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
