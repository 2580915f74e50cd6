package io.spate.log;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * The id of the topic a partition directory belongs to, in {@value #FILE_NAME} beside its
 * segments (Kafka keeps a file of that name for the same reason, KIP-516). A directory is named
 * after its topic's name, and a topic deleted and created again under that name while a node was
 * away leaves the node a directory that looks like the new topic's replica but holds the old
 * one's records, with offsets and leader epochs that may well coincide with the new topic's. The
 * id tells them apart.
 *
 * <p>The file is two lines, {@code version: 0} and {@code topic_id: <uuid>}, written to a
 * temporary file, fsynced and renamed into place, so a crash leaves either no file or a whole one.
 */
public final class PartitionMetadataFile {
    public static final String FILE_NAME = "partition.metadata";
    private static final String VERSION_LINE = "version: 0";
    private static final String ID_PREFIX = "topic_id: ";

    private PartitionMetadataFile() {
    }

    /**
     * The topic id stored in {@code partitionDir}, or null when it holds none (a log written
     * before ids were stored, or no directory at all).
     *
     * @throws IOException when the file is there but cannot be read or does not say what it should
     */
    public static UUID read(Path partitionDir) throws IOException {
        Path file = partitionDir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return null;
        }
        // Read until two reads agree: one wrong read ("vgrsion") failed the partition's role
        // (found by the replication simulation with wrong reads).
        String text = new String(StableRead.bytes(file), StandardCharsets.UTF_8);
        String[] lines = text.split("\n");
        if (lines.length < 2 || !lines[0].strip().equals(VERSION_LINE) || !lines[1].startsWith(ID_PREFIX)) {
            throw new IOException(file + ": not a partition metadata file of version 0: " + text.strip());
        }
        try {
            return UUID.fromString(lines[1].substring(ID_PREFIX.length()).strip());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": the topic id is not a UUID: " + lines[1], e);
        }
    }

    /** Stores {@code topicId} in {@code partitionDir} (which must exist), durably. */
    public static void write(Path partitionDir, UUID topicId) throws IOException {
        Path file = partitionDir.resolve(FILE_NAME);
        Path tmp = partitionDir.resolve(FILE_NAME + ".tmp");
        byte[] bytes = (VERSION_LINE + "\n" + ID_PREFIX + topicId + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        LogManager.fsyncDirectory(partitionDir);
    }
}
