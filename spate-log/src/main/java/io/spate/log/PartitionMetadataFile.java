package io.spate.log;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.UUID;

/**
 * The id of the topic a partition directory belongs to, in {@value #FILE_NAME} beside its
 * segments (Kafka keeps a file of that name for the same reason, KIP-516). A directory is named
 * after its topic's name, and a topic deleted and created again under that name while a node was
 * away leaves the node a directory that looks like the new topic's replica but holds the old
 * one's records, with offsets and leader epochs that may well coincide with the new topic's. The
 * id tells them apart.
 *
 * <p>The file is two lines, {@code version: 0} and {@code topic_id: <uuid>}, and a CRC-32C line,
 * written to a temporary file, fsynced and renamed into place, so a crash leaves either no file or
 * a whole one.
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
        // (found by the replication simulation with wrong reads). A file with a checksum line is
        // checked against it: a digit of the id changed on the platter would make the log look
        // like an earlier topic's, and deleted.
        List<String> lines;
        try {
            lines = StableRead.lines(file);
        } catch (StableRead.ChecksumMismatch e) {
            throw new Damaged(e.getMessage());
        }
        if (lines.size() < 2 || !lines.get(0).strip().equals(VERSION_LINE) || !lines.get(1).startsWith(ID_PREFIX)) {
            throw new IOException(file + ": not a partition metadata file of version 0: " + String.join(" / ", lines));
        }
        try {
            return UUID.fromString(lines.get(1).substring(ID_PREFIX.length()).strip());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": the topic id is not a UUID: " + lines.get(1), e);
        }
    }

    /** The file fails its checksum: which topic the log belongs to is not known from it. */
    public static final class Damaged extends IOException {
        Damaged(String message) {
            super(message);
        }
    }

    /** Stores {@code topicId} in {@code partitionDir} (which must exist), durably. */
    public static void write(Path partitionDir, UUID topicId) throws IOException {
        Path file = partitionDir.resolve(FILE_NAME);
        Path tmp = partitionDir.resolve(FILE_NAME + ".tmp");
        // Kafka's two lines, then a checksum line (which releases before it skip).
        byte[] bytes = StableRead.withChecksum(VERSION_LINE + "\n" + ID_PREFIX + topicId + "\n").getBytes(StandardCharsets.UTF_8);
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
