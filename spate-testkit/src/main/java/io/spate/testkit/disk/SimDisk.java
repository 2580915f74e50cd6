package io.spate.testkit.disk;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One machine's disk, in memory, behind the standard {@code java.nio.file} interfaces: code that
 * takes a {@link Path} (the log, its checkpoints, its compaction) runs on it unchanged, and the
 * simulation decides what a crash leaves behind.
 *
 * <p>The model is POSIX at its strictest, the way the ALICE and "files are hard" studies describe
 * what applications may rely on: file data is durable once the file is fsynced; a directory
 * entry (create, rename, delete) once its directory is fsynced. Directory changes go to one
 * ordered journal, as on a journaling file system, so fsyncing a directory also makes every
 * earlier change durable; a rename is one journal entry. A power loss keeps, per file, a random
 * prefix of its unsynced writes (the first one lost may be torn, only its first bytes written)
 * and, for directories, a random prefix of the journal. A {@link #kill()} (kill -9) loses nothing:
 * the operating system still holds the page cache.
 *
 * <p>Faults beyond crashes: a full disk (writes fail with ENOSPC, nothing half-written) and
 * bit flips on read (the platter is intact; one read returns one wrong bit).
 */
public final class SimDisk {
    /** A change of one directory entry; {@code node == null} removes it. */
    record Edit(SimDirectory directory, String name, SimInode node) { }

    /** What happened to this disk so far. */
    public record Stats(long fileSyncs, long directorySyncs, long kills, long powerLosses, long filesThatLostWrites,
                        long journalEntriesLost, long bitFlips, long writesRefusedFull, long rotted) { }

    private final String name;
    private final SimFileSystem fileSystem;
    final SimDirectory root = new SimDirectory();
    /** Directory changes not yet durable, oldest first. */
    private final List<List<Edit>> journal = new ArrayList<>();
    /** Bumped by every kill: channels opened before belong to a dead process. */
    private long generation;
    private boolean full;
    private double flipChance;
    private Random flipRandom;
    private SimFile pendingFlipFile;
    private long pendingFlipPosition;
    private long fileSyncs;
    private long directorySyncs;
    private long kills;
    private long powerLosses;
    private long filesThatLostWrites;
    private long journalEntriesLost;
    private long bitFlips;
    private long rotted;
    private long writesRefusedFull;

    private SimDisk(String name) {
        this.name = name;
        this.fileSystem = new SimFileSystem(new SimFileSystemProvider(), this);
    }

    /** An empty disk; {@code name} shows in its paths' file system's description only. */
    public static SimDisk create(String name) {
        return new SimDisk(name);
    }

    /** The root directory: resolve the paths the code under test should use from here. */
    public Path root() {
        return fileSystem.getPath("/");
    }

    public String name() {
        return name;
    }

    // ---- faults -------------------------------------------------------------------------------

    /** kill -9 of the process using the disk: its channels and locks are gone, its writes are not. */
    public synchronized void kill() {
        generation++;
        kills++;
        releaseLocks(root);
    }

    /**
     * The machine loses power (and so the process dies): what was not fsynced may be lost, as
     * described above, drawn from {@code random} so that a seed replays.
     */
    public synchronized void losePower(Random random) {
        kill();
        powerLosses++;
        int kept = random.nextInt(journal.size() + 1);
        commitJournal(kept);
        journalEntriesLost += journal.size();
        journal.clear();
        revert(root, random);
    }

    /** A full disk refuses every write with ENOSPC until {@code full} is false again. */
    public synchronized void fill(boolean full) {
        this.full = full;
    }

    /** From now on each read flips one bit with probability {@code chance}; 0 stops it. */
    public synchronized void flipBitsOnRead(double chance, Random random) {
        this.flipChance = chance;
        this.flipRandom = random;
    }

    /**
     * The next read of {@code file} that covers byte {@code position} returns that byte with its
     * lowest bit flipped, once; the platter stays intact. For tests of one wrong read at a chosen place.
     */
    public synchronized void flipNextReadAt(java.nio.file.Path file, long position) {
        if (!(lookup((SimPath) file) instanceof SimFile target)) {
            throw new IllegalArgumentException("no file " + file);
        }
        this.pendingFlipFile = target;
        this.pendingFlipPosition = position;
    }

    /**
     * Damage at rest: one bit of {@code file} on the platter, at a random place among its durable
     * bytes, changes for good (every later read sees it). Returns the position, or -1 when the
     * file holds nothing durable.
     */
    public synchronized long rot(java.nio.file.Path file, Random random) {
        return rot(file, random, 0);
    }

    /** As {@link #rot(java.nio.file.Path, Random)}, sparing the last {@code spared} durable bytes. */
    public synchronized long rot(java.nio.file.Path file, Random random, int spared) {
        if (!(lookup((SimPath) file) instanceof SimFile target)) {
            throw new IllegalArgumentException("no file " + file);
        }
        if (target.durableSize() <= spared) {
            return -1;
        }
        int position = random.nextInt(target.durableSize() - spared);
        target.rot(position, random.nextInt(8));
        rotted++;
        return position;
    }

    public synchronized Stats stats() {
        return new Stats(fileSyncs, directorySyncs, kills, powerLosses, filesThatLostWrites, journalEntriesLost, bitFlips, writesRefusedFull, rotted);
    }

    private void releaseLocks(SimInode node) {
        if (node instanceof SimFile f) {
            f.lockHolder = null;
        } else if (node instanceof SimDirectory d) {
            for (SimInode child : d.entries.values()) {
                releaseLocks(child);
            }
            for (SimInode child : d.durableEntries.values()) {
                releaseLocks(child);
            }
        }
    }

    private void revert(SimDirectory directory, Random random) {
        directory.revertToDurable();
        for (SimInode child : directory.entries.values()) { // sorted by name: the draw replays
            if (child instanceof SimFile f) {
                if (f.loseUnsynced(random)) {
                    filesThatLostWrites++;
                }
            } else {
                revert((SimDirectory) child, random);
            }
        }
    }

    private void commitJournal(int entries) {
        for (int i = 0; i < entries; i++) {
            for (Edit edit : journal.get(i)) {
                edit.directory().setDurably(edit.name(), edit.node());
            }
        }
        journal.subList(0, entries).clear();
    }

    // ---- what the file system and its channels call, holding this disk's monitor --------------

    long generation() {
        return generation;
    }

    /** The node at {@code path}, or null when there is none. */
    SimInode lookup(SimPath path) {
        SimInode node = root;
        for (String part : ((SimPath) path.toAbsolutePath().normalize()).names()) {
            if (!(node instanceof SimDirectory d)) {
                return null;
            }
            node = d.entries.get(part);
            if (node == null) {
                return null;
            }
        }
        return node;
    }

    /** The directory that holds (or would hold) {@code path}. */
    SimDirectory parentOf(SimPath path) throws IOException {
        SimPath absolute = (SimPath) path.toAbsolutePath().normalize();
        if (absolute.getNameCount() == 0) {
            throw new FileSystemException(path.toString(), null, "the root has no parent");
        }
        SimPath parentPath = (SimPath) absolute.getParent();
        SimInode parent = lookup(parentPath);
        if (parent == null) {
            throw new NoSuchFileException(parentPath.toString());
        }
        if (!(parent instanceof SimDirectory d)) {
            throw new NotDirectoryException(parentPath.toString());
        }
        return d;
    }

    static String nameOf(SimPath path) {
        String[] names = ((SimPath) path.toAbsolutePath().normalize()).names();
        return names[names.length - 1];
    }

    /** Applies {@code edits} to the directories as the process sees them, and journals them as one entry. */
    void change(List<Edit> edits) {
        for (Edit edit : edits) {
            if (edit.node() == null) {
                edit.directory().entries.remove(edit.name());
            } else {
                edit.directory().entries.put(edit.name(), edit.node());
            }
        }
        journal.add(List.copyOf(edits));
    }

    /** fsync of a directory: its changes, and every change journaled before them, are durable. */
    void syncDirectory(SimDirectory directory) {
        directorySyncs++;
        int last = -1;
        for (int i = 0; i < journal.size(); i++) {
            for (Edit edit : journal.get(i)) {
                if (edit.directory() == directory) {
                    last = i;
                }
            }
        }
        commitJournal(last + 1);
    }

    void syncFile(SimFile file) {
        fileSyncs++;
        file.sync();
    }

    void checkSpace() throws IOException {
        if (full) {
            writesRefusedFull++;
            throw new IOException("No space left on device (simulated disk " + name + " is full)");
        }
    }

    void maybeFlip(SimFile file, long readAt, byte[] bytes, int offset, int length) {
        if (file == pendingFlipFile && pendingFlipPosition >= readAt && pendingFlipPosition < readAt + length) {
            bytes[offset + (int) (pendingFlipPosition - readAt)] ^= 1;
            pendingFlipFile = null;
            bitFlips++;
            return;
        }
        if (length > 0 && flipChance > 0 && flipRandom.nextDouble() < flipChance) {
            int at = offset + flipRandom.nextInt(length);
            bytes[at] ^= (byte) (1 << flipRandom.nextInt(8));
            bitFlips++;
        }
    }

    @Override
    public String toString() {
        return "simulated disk " + name;
    }

    /** Every path on the disk and its size (directories end with '/'), for a test's messages. */
    public synchronized Map<String, Integer> listing() {
        Map<String, Integer> out = new java.util.TreeMap<>();
        list("", root, out);
        return out;
    }

    private static void list(String prefix, SimDirectory directory, Map<String, Integer> out) {
        directory.entries.forEach((n, node) -> {
            if (node instanceof SimFile f) {
                out.put(prefix + "/" + n, f.size());
            } else {
                out.put(prefix + "/" + n + "/", 0);
                list(prefix + "/" + n, (SimDirectory) node, out);
            }
        });
    }
}
