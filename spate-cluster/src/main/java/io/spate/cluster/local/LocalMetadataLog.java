package io.spate.cluster.local;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.ImageDelivery;
import io.spate.cluster.CommandResult;
import io.spate.cluster.MetadataCodec;
import io.spate.cluster.MetadataCommand;
import io.spate.cluster.MetadataLog;
import io.spate.cluster.MetadataTransitions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * The metadata log of a node that is its own, only controller voter (a standalone node): the same
 * commands and {@link MetadataTransitions} as a Raft quorum, committed by appending them to a
 * local file and syncing it. A quorum of one needs no election and no network, so the node starts
 * in milliseconds, and standalone and cluster nodes run the same metadata code above this class.
 *
 * <p>On disk, in its directory: {@code image} (the image at some version, written whole and
 * renamed into place) and {@code commands} (every command committed after it, each framed as
 * length, CRC-32C, index, bytes, and followed by zeroed space kept allocated so that a node can
 * still register after its disk filled up). A command is answered only after its frame is synced,
 * so a crash can only cut off a frame that was never answered: opening clears such a torn tail,
 * and refuses to open over a damaged frame that has commands after it.
 */
public final class LocalMetadataLog implements MetadataLog {
    private static final Logger log = LoggerFactory.getLogger(LocalMetadataLog.class);
    static final String IMAGE_FILE = "image";
    static final String COMMANDS_FILE = "commands";
    private static final int IMAGE_MAGIC = 0x53504d49; // "SPMI"
    private static final int FRAME_HEADER = 4 + 4 + 8;
    /** Commands before the image is written again and the command file starts over. */
    private static final int COMMANDS_PER_IMAGE = 4096;
    /** Zeroed space kept allocated past the last command (see reserveSpace), topped up below the minimum. */
    private static final int RESERVE_BYTES = 64 << 10;
    private static final int RESERVE_MIN_BYTES = 16 << 10;
    /** Far above any command (the largest, a topic's assignment, is a few bytes per replica). */
    private static final int MAX_COMMAND_BYTES = 64 << 20;

    private final Path dir;
    private final int nodeId;
    private final FileChannel commands;
    /** Listeners hear images on one thread, in order, as they do from the Raft log. */
    private final ImageDelivery delivery = new ImageDelivery("spate-metadata", () -> this.image);
    private final CompletableFuture<Throwable> failure = new CompletableFuture<>();
    private volatile ClusterImage image;
    private int commandsSinceImage;
    private final int commandsPerImage;
    private volatile boolean closed;

    private LocalMetadataLog(Path dir, int nodeId, FileChannel commands, ClusterImage image, int commandsSinceImage, int commandsPerImage) {
        this.commandsPerImage = commandsPerImage;
        this.dir = dir;
        this.nodeId = nodeId;
        this.commands = commands;
        this.image = image;
        this.commandsSinceImage = commandsSinceImage;
    }

    /** Opens (or creates) the log in {@code dir}, recovering the image it had when it last stopped. */
    public static LocalMetadataLog open(Path dir, int nodeId) throws IOException {
        return open(dir, nodeId, COMMANDS_PER_IMAGE);
    }

    static LocalMetadataLog open(Path dir, int nodeId, int commandsPerImage) throws IOException {
        Files.createDirectories(dir);
        ClusterImage image = readImage(dir.resolve(IMAGE_FILE));
        FileChannel channel = FileChannel.open(dir.resolve(COMMANDS_FILE), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            Replayed replayed = replay(channel, image);
            long end = replayed.validBytes();
            if (!zerosFrom(channel, end)) {
                // A last command cut short by a crash (never synced, never answered): cleared in
                // place, which needs no new space on a full disk.
                log.warn("metadata log {}: clearing an unfinished last command", dir);
                writeZeros(channel, end, channel.size());
                channel.force(true);
            }
            channel.position(end);
            LocalMetadataLog opened = new LocalMetadataLog(dir, nodeId, channel, replayed.image(), replayed.count(), commandsPerImage);
            opened.reserveSpace();
            return opened;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private record Replayed(ClusterImage image, long validBytes, int count) {
    }

    private static ClusterImage readImage(Path file) throws IOException {
        if (!Files.exists(file)) {
            return ClusterImage.EMPTY;
        }
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file));
        if (buf.remaining() < 8 || buf.getInt() != IMAGE_MAGIC) {
            throw new IOException("metadata image " + file + " is not a Spate metadata image");
        }
        int crc = buf.getInt();
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        if (crc(bytes) != crc) {
            // Written whole and renamed into place, so a mismatch is damage on disk, not a torn write.
            throw new IOException("metadata image " + file + " is damaged (checksum mismatch); restore the data directory from a copy");
        }
        return MetadataCodec.decodeImage(bytes);
    }

    private static Replayed replay(FileChannel channel, ClusterImage start) throws IOException {
        ClusterImage image = start;
        long position = 0;
        int count = 0;
        long size = channel.size();
        ByteBuffer header = ByteBuffer.allocate(FRAME_HEADER);
        while (position + FRAME_HEADER <= size) {
            header.clear();
            readFully(channel, header, position);
            header.flip();
            int length = header.getInt();
            int crc = header.getInt();
            long index = header.getLong();
            if (length == 0 && crc == 0 && index == 0) {
                break; // the zeros reserved past the last command
            }
            long frameEnd = position + FRAME_HEADER + (long) length;
            if (length < 0 || length > MAX_COMMAND_BYTES || frameEnd > size) {
                if (zerosFrom(channel, position + FRAME_HEADER)) {
                    break; // the last command, cut short by a crash before it was synced and answered
                }
                throw new IOException("metadata log " + COMMANDS_FILE + " is damaged at byte " + position + " (a command of " + length
                        + " bytes); restore the data directory from a copy");
            }
            ByteBuffer body = ByteBuffer.allocate(length);
            readFully(channel, body, position + FRAME_HEADER);
            byte[] bytes = body.array();
            if (frameCrc(index, bytes) != crc) {
                if (!zerosFrom(channel, frameEnd)) {
                    // Commands follow it, so it was synced whole once: damage, not a torn write.
                    // Dropping it and what follows would forget committed metadata.
                    throw new IOException("metadata log " + COMMANDS_FILE + " is damaged at byte " + position
                            + " (checksum mismatch); restore the data directory from a copy");
                }
                break;
            }
            if (index > image.version()) {
                if (index != image.version() + 1) {
                    throw new IOException("metadata log: command " + index + " follows " + image.version() + "; commands are missing");
                }
                image = MetadataTransitions.apply(image, MetadataCodec.decodeCommand(bytes), index).image();
            }
            // Commands at or below the image's version were written before the image was: skipped.
            position += FRAME_HEADER + length;
            count++;
        }
        return new Replayed(image, position, count);
    }

    /** Whether every byte from {@code position} to the end of the file is zero. */
    private static boolean zerosFrom(FileChannel channel, long position) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        long at = position;
        while (at < channel.size()) {
            buf.clear();
            int read = channel.read(buf, at);
            if (read <= 0) {
                break;
            }
            for (int i = 0; i < read; i++) {
                if (buf.get(i) != 0) {
                    return false;
                }
            }
            at += read;
        }
        return true;
    }

    private static void writeZeros(FileChannel channel, long from, long to) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate(8192);
        for (long at = from; at < to; ) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), to - at));
            at += channel.write(zeros, at);
        }
    }

    /**
     * Keeps zeroed space allocated past the last command, so that the commands a node must write to
     * start (its registration) still fit when its disk has filled up: they overwrite these zeros
     * instead of growing the file. Failing to reserve more is only logged.
     */
    private void reserveSpace() {
        try {
            long end = commands.position();
            long size = commands.size();
            if (size - end >= RESERVE_MIN_BYTES) {
                return;
            }
            writeZeros(commands, size, end + RESERVE_BYTES);
            commands.force(true);
        } catch (IOException e) {
            log.warn("could not reserve space for the metadata log in {} ({}); commands still fit in what is left", dir, e.toString());
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            if (channel.read(buf, position + buf.position()) < 0) {
                throw new IOException("unexpected end of the metadata log");
            }
        }
    }

    @Override
    public ClusterImage image() {
        return image;
    }

    @Override
    public CompletableFuture<CommandResult> submit(MetadataCommand command) {
        CommandResult result;
        synchronized (this) {
            if (closed) {
                return CompletableFuture.failedFuture(new IllegalStateException("the metadata log is closed"));
            }
            if (failure.isDone()) {
                return CompletableFuture.failedFuture(new IllegalStateException("the metadata log can no longer be written: " + failure.join()));
            }
            ClusterImage current = image;
            long index = current.version() + 1;
            MetadataTransitions.Outcome outcome = MetadataTransitions.apply(current, command, index);
            if (!outcome.result().succeeded()) {
                // A refusal changes nothing: not written, and answered at the version it was judged on.
                return CompletableFuture.completedFuture(outcome.result().at(current.version()));
            }
            try {
                append(index, MetadataCodec.encode(command));
            } catch (IOException e) {
                return CompletableFuture.failedFuture(new UncheckedIOException("could not write the metadata log in " + dir + ": " + e.getMessage(), e));
            }
            image = outcome.image();
            result = outcome.result();
            maybeWriteImage();
        }
        deliverSoon();
        return CompletableFuture.completedFuture(result);
    }

    private void append(long index, byte[] bytes) throws IOException {
        long before = commands.position();
        ByteBuffer frame = ByteBuffer.allocate(FRAME_HEADER + bytes.length);
        frame.putInt(bytes.length).putInt(frameCrc(index, bytes)).putLong(index).put(bytes).flip();
        try {
            while (frame.hasRemaining()) {
                commands.write(frame);
            }
            commands.force(false);
        } catch (IOException e) {
            // A full disk: take back whatever part of the frame reached the file, so that the next
            // command follows the last whole one. If even that fails the file's end is unknown.
            try {
                long reached = commands.position();
                writeZeros(commands, before, Math.min(reached, commands.size()));
                commands.position(before);
                commands.force(false);
            } catch (IOException | RuntimeException undo) {
                e.addSuppressed(undo);
                failure.complete(e);
            }
            throw e;
        }
        reserveSpace();
    }

    /** Every so many commands the image is written whole and the commands start over, so opening replays little. */
    private void maybeWriteImage() {
        if (++commandsSinceImage < commandsPerImage) {
            return;
        }
        try {
            writeImage(image);
            // The image holds every command now: the file starts over (and its reserve with it).
            commands.truncate(0);
            commands.position(0);
            commands.force(true);
            commandsSinceImage = 0;
            reserveSpace();
        } catch (IOException e) {
            // Nothing is lost: the commands stay and are replayed on top of the older image.
            log.warn("could not write the metadata image in {} ({}); trying again after more commands", dir, e.toString());
            commandsSinceImage = commandsPerImage / 2;
        }
    }

    private void writeImage(ClusterImage current) throws IOException {
        byte[] bytes = MetadataCodec.encode(current);
        ByteBuffer buf = ByteBuffer.allocate(8 + bytes.length).putInt(IMAGE_MAGIC).putInt(crc(bytes)).put(bytes).flip();
        Path tmp = dir.resolve(IMAGE_FILE + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            while (buf.hasRemaining()) {
                out.write(buf);
            }
            out.force(true);
        }
        try {
            Files.move(tmp, dir.resolve(IMAGE_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, dir.resolve(IMAGE_FILE), StandardCopyOption.REPLACE_EXISTING);
        }
        // Not durable until the directory is: the commands are kept (an IOException) rather than
        // cleared after an image whose rename a crash could still undo.
        try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
            directory.force(true);
        }
    }

    private static int frameCrc(long index, byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(8).putLong(0, index));
        crc.update(bytes);
        return (int) crc.getValue();
    }

    private static int crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return (int) crc.getValue();
    }

    @Override
    public CompletableFuture<CommandResult> submitAsLeader(MetadataCommand command) {
        return submit(command);
    }

    @Override
    public void subscribe(Consumer<ClusterImage> listener) {
        delivery.subscribe(listener);
    }

    private void deliverSoon() {
        delivery.offered();
    }

    @Override
    public CompletableFuture<ClusterImage> awaitVersion(long version) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the metadata log is closed"));
        }
        return delivery.awaitVersion(version);
    }

    @Override
    public void refresh() {
        // This node's image is the quorum's: never behind.
    }

    @Override
    public CompletableFuture<HeartbeatReply> heartbeat(int node, long incarnation) {
        ClusterImage current = image;
        var info = current.node(node);
        boolean registered = info != null && !info.fenced() && info.incarnation() == incarnation;
        return CompletableFuture.completedFuture(new HeartbeatReply(registered, current.version()));
    }

    @Override
    public int controllerLeader() {
        return nodeId;
    }

    @Override
    public boolean isControllerLeader() {
        return !closed;
    }

    /** A quorum of one: this node leads at epoch 0, and its log ends where its image is. */
    @Override
    public java.util.Optional<io.spate.cluster.QuorumState> leaderQuorumState(long nowMs) {
        if (closed) {
            return java.util.Optional.empty();
        }
        long end = image.version();
        return java.util.Optional.of(new io.spate.cluster.QuorumState(nodeId, 0, end,
                java.util.List.of(new io.spate.cluster.QuorumState.ReplicaProgress(nodeId, end, nowMs, nowMs))));
    }

    @Override
    public long quorumContactAgeMs() {
        return 0; // a quorum of one is always in contact with itself
    }

    @Override
    public CompletableFuture<Throwable> localLogFailure() {
        return failure;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                commands.close();
            } catch (IOException e) {
                log.warn("closing the metadata log in {}: {}", dir, e.toString());
            }
        }
        delivery.close();
    }
}
