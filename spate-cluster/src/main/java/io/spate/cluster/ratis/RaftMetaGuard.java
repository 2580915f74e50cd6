package io.spate.cluster.ratis;

import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorageMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Properties;

/**
 * Keeps a voter's {@code raft-meta} (its current term and the vote it cast) readable.
 *
 * <p>Ratis writes that file through a buffered writer over an atomic-rename stream. When the
 * disk is full the bytes only fail to go out as the writer closes, and the rename still runs:
 * the old file is replaced by an empty one (found by the fault campaigns: campaign 1 run 1018,
 * campaign 3 seed 2003). Ratis keeps its last good term and vote in memory and refuses to start
 * from the empty file; restarting the node then needs an operator. Raft cannot guess a lost vote
 * (a voter that forgets it may vote twice in one term), but here nothing is lost yet: the
 * running voter still holds the values that were last on disk. The guard checks the file once a
 * second and, finding it emptied or unreadable, writes a term well past the one in memory, with
 * no vote, in Ratis' format, first deleting a small reserve file kept for the purpose so that the
 * write has room even on the full disk that caused the damage.
 *
 * <p>Why a later term and not the values in memory: freeing the reserve lets Ratis' own next
 * write succeed, and it may land between our reading of its memory and our rename, a vote we
 * would then overwrite with an older one. A term no election can reach in that time is safe
 * whatever happened meanwhile: restarted from it, the voter never votes again in any term it may
 * already have voted in. It costs one extra election when the voter comes back. Ratis' own later
 * writes replace the file with its true state, as before.
 */
final class RaftMetaGuard {
    private static final Logger log = LoggerFactory.getLogger(RaftMetaGuard.class);
    static final String FILE_NAME = "raft-meta";
    private static final int RESERVE_BYTES = 1 << 20;
    /** Past any term elections can reach while the repair is written (a few per second at most). */
    static final long TERM_MARGIN = 1_000;
    /** The reserve is put back only with this much room beside it, so that it never takes the last bytes. */
    private static final long ROOM_FOR_RESERVE = 16L << 20;

    /** The fallback's size: room for a term and a vote in Ratis' format, padded with a comment. */
    static final int FALLBACK_BYTES = 256;

    private final Path reserve;
    /**
     * A small file allocated ahead, where a repair is also written in place (overwriting its own
     * bytes needs no new blocks): when something else takes the room the reserve freed before the
     * repair itself is written, the node stops with an empty raft-meta, and its next start
     * restores raft-meta from here ({@link #restoreAtStart}). Blank (a comment) otherwise.
     */
    private final Path fallback;

    /** @param reserve where to keep the reserve file: on the same file system as the Raft storage */
    RaftMetaGuard(Path reserve) {
        this.reserve = reserve;
        this.fallback = reserve.resolveSibling(reserve.getFileName() + "-raft-meta");
    }

    /**
     * Before the voter starts: a raft-meta a failed repair left empty is restored from the
     * fallback that repair wrote; a fallback no longer needed is blanked, so that an old repair
     * is never taken for a new one. Returns true when it restored raft-meta.
     */
    boolean restoreAtStart(Path raftMeta) throws IOException {
        if (!Files.exists(fallback)) {
            keepFallback();
            return false;
        }
        boolean restored = false;
        if (Files.exists(raftMeta) && !readable(raftMeta) && readable(fallback)) {
            Properties saved = load(fallback);
            write(raftMeta, RaftStorageMetadata.valueOf(Long.parseLong(saved.getProperty("term")),
                    RaftStorageMetadata.getDefault().getVotedFor()));
            log.warn("{} was left empty by a repair that found no room; restored it from {} (term {}, no vote)", raftMeta, fallback,
                    saved.getProperty("term"));
            restored = true;
        }
        blankFallback();
        return restored;
    }

    /** Allocates the fallback if it is not there (blank). */
    void keepFallback() {
        if (!Files.exists(fallback)) {
            try {
                blankFallback();
            } catch (IOException e) {
                // No room yet: the next check tries again.
            }
        }
    }

    private void blankFallback() throws IOException {
        byte[] blank = new byte[FALLBACK_BYTES];
        java.util.Arrays.fill(blank, (byte) '#');
        blank[FALLBACK_BYTES - 1] = '\n';
        writeInPlace(fallback, blank);
    }

    /** Overwrites {@code file}'s bytes from the start, not changing its size: no new blocks when it exists at this size. */
    static void writeInPlace(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                ch.write(buffer, buffer.position());
            }
            ch.force(true);
        }
    }

    /** The repair in Ratis' format, padded to the fallback's size with a comment line. */
    static byte[] fallbackBytes(RaftStorageMetadata metadata) {
        byte[] text = ("term=" + metadata.getTerm() + "\nvotedFor=" + metadata.getVotedFor() + "\n#").getBytes(StandardCharsets.UTF_8);
        byte[] padded = new byte[FALLBACK_BYTES];
        java.util.Arrays.fill(padded, (byte) '#');
        System.arraycopy(text, 0, padded, 0, Math.min(text.length, FALLBACK_BYTES - 1));
        padded[FALLBACK_BYTES - 1] = '\n';
        return padded;
    }

    private static Properties load(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            Properties p = new Properties();
            p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
            return p;
        }
    }

    /** Puts the reserve in place if it is not there (at start, and after it was used once the disk has room again). */
    void keepReserve() {
        keepFallback();
        if (Files.exists(reserve)) {
            return;
        }
        try {
            if (Files.getFileStore(reserve.getParent()).getUsableSpace() < RESERVE_BYTES + ROOM_FOR_RESERVE) {
                return;
            }
        } catch (IOException e) {
            return;
        }
        Path partial = reserve.resolveSibling(reserve.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer page = ByteBuffer.allocate(64 * 1024);
            for (int written = 0; written < RESERVE_BYTES; written += page.capacity()) {
                page.clear();
                while (page.hasRemaining()) {
                    ch.write(page);
                }
            }
            ch.force(true);
            Files.move(partial, reserve, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // No room yet: the next check tries again.
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // as above
            }
        }
    }

    /**
     * Checks this voter's {@code raft-meta} and rewrites it from the voter's memory if a failed
     * write emptied it. Returns true when it repaired the file.
     */
    boolean check(RaftServer.Division division) throws IOException {
        Path file = division.getRaftStorage().getStorageDir().getCurrentDir().toPath().resolve(FILE_NAME);
        if (!Files.exists(file) || readable(file)) {
            return false;
        }
        RaftStorageMetadata inMemory = division.getRaftStorage().getMetadataFile().getMetadata();
        RaftStorageMetadata repaired = RaftStorageMetadata.valueOf(inMemory.getTerm() + TERM_MARGIN,
                RaftStorageMetadata.getDefault().getVotedFor());
        if (Files.exists(fallback) && Files.size(fallback) == FALLBACK_BYTES) {
            // First where it needs no room: if the process stops before raft-meta is rewritten, its next start restores it.
            writeInPlace(fallback, fallbackBytes(repaired));
        }
        Files.deleteIfExists(reserve);
        try {
            write(file, repaired);
        } catch (IOException e) {
            log.warn("{} was emptied by a failed write and could not be rewritten yet: {}", file, e.toString());
            throw e;
        }
        blankFallback();
        log.warn("{} was emptied by a failed write (a full disk?); rewrote it with term {} (the voter was at {}) and no vote,"
                + " so that it never votes twice in a term", file, repaired.getTerm(), inMemory.getTerm());
        return true;
    }

    /** Whether {@code file} holds a term and a vote, as Ratis needs to start. */
    static boolean readable(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            Properties p = new Properties();
            p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
            Long.parseLong(p.getProperty("term", ""));
            return p.getProperty("votedFor") != null;
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    /** Whole or not at all, and checked: written beside, synced, read back, then renamed over the file. */
    static void write(Path file, RaftStorageMetadata metadata) throws IOException {
        Properties p = new Properties();
        p.setProperty("term", Long.toString(metadata.getTerm()));
        p.setProperty("votedFor", metadata.getVotedFor().toString());
        StringWriter text = new StringWriter();
        p.store(text, "");
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        Path temp = file.resolveSibling(FILE_NAME + ".spate-repair");
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                ch.write(buffer);
            }
            ch.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        if (!readable(temp) || Files.size(temp) != bytes.length) {
            Files.deleteIfExists(temp);
            throw new IOException("could not write a readable " + temp);
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException ignored) {
            // Some file systems cannot sync a directory; the rename is still atomic.
        }
    }
}
