package io.spate.testkit.disk;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SimDiskTest {
    private final SimDisk disk = SimDisk.create("test");
    private final Path root = disk.root();

    @Test
    void theFilesApiWorksOnIt() throws IOException {
        Path dir = root.resolve("a/b");
        Files.createDirectories(dir);
        assertThat(Files.isDirectory(dir)).isTrue();
        Files.writeString(dir.resolve("one.txt"), "hello\nworld\n");
        assertThat(Files.readAllLines(dir.resolve("one.txt"))).containsExactly("hello", "world");
        assertThat(Files.size(dir.resolve("one.txt"))).isEqualTo(12);
        Files.move(dir.resolve("one.txt"), dir.resolve("two.txt"), StandardCopyOption.ATOMIC_MOVE);
        assertThat(Files.exists(dir.resolve("one.txt"))).isFalse();
        Files.copy(dir.resolve("two.txt"), dir.resolve("three.txt"));
        try (Stream<Path> list = Files.list(dir)) {
            assertThat(list.map(p -> p.getFileName().toString()).toList()).containsExactly("three.txt", "two.txt");
        }
        assertThatThrownBy(() -> Files.copy(dir.resolve("two.txt"), dir.resolve("three.txt"))).isInstanceOf(FileAlreadyExistsException.class);
        assertThatThrownBy(() -> Files.delete(root.resolve("a"))).isInstanceOf(DirectoryNotEmptyException.class);
        assertThatThrownBy(() -> Files.readAllLines(root.resolve("missing"))).isInstanceOf(NoSuchFileException.class);
        try (Stream<Path> walk = Files.walk(root.resolve("a"))) {
            assertThat(walk.count()).isEqualTo(4);
        }
        assertThat(Files.deleteIfExists(dir.resolve("two.txt"))).isTrue();
        assertThat(Files.deleteIfExists(dir.resolve("two.txt"))).isFalse();
    }

    @Test
    void positionalReadsAndWritesAndTruncation() throws IOException {
        try (FileChannel c = FileChannel.open(root.resolve("f"), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            c.write(bytes("abcdef"), 0);
            c.write(bytes("XY"), 8); // leaves a hole of two zero bytes
            assertThat(c.size()).isEqualTo(10);
            ByteBuffer all = ByteBuffer.allocate(10);
            assertThat(c.read(all, 0)).isEqualTo(10);
            assertThat(all.array()).containsExactly('a', 'b', 'c', 'd', 'e', 'f', 0, 0, 'X', 'Y');
            c.truncate(3);
            assertThat(c.size()).isEqualTo(3);
            assertThat(c.read(ByteBuffer.allocate(4), 3)).isEqualTo(-1);
            c.write(bytes("Z"), 5);
            ByteBuffer again = ByteBuffer.allocate(6);
            c.read(again, 0);
            assertThat(again.array()).containsExactly('a', 'b', 'c', 0, 0, 'Z');
        }
    }

    @Test
    void aKillLosesNothingButEndsTheProcessChannelsAndLocks() throws IOException {
        FileChannel c = FileChannel.open(root.resolve("f"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = c.tryLock();
        assertThat(lock).isNotNull();
        try (FileChannel second = FileChannel.open(root.resolve("f"), StandardOpenOption.WRITE)) {
            assertThat(second.tryLock()).as("the file is locked by the first channel").isNull();
        }
        c.write(bytes("unsynced"));
        disk.kill();
        assertThatThrownBy(() -> c.write(bytes("more"))).isInstanceOf(ClosedChannelException.class);
        assertThat(Files.readString(root.resolve("f"))).isEqualTo("unsynced");
        try (FileChannel next = FileChannel.open(root.resolve("f"), StandardOpenOption.WRITE)) {
            assertThat(next.tryLock()).as("the killed process's lock is gone").isNotNull();
        }
        c.close();
    }

    @Test
    void aPowerLossKeepsWhatWasSyncedAndAPrefixOfTheRest() throws IOException {
        for (long seed = 0; seed < 200; seed++) {
            SimDisk d = SimDisk.create("seed-" + seed);
            Path dir = d.root().resolve("dir");
            Files.createDirectory(dir);
            fsyncDirectory(d.root());
            Path file = dir.resolve("log");
            StringBuilder written = new StringBuilder();
            String synced;
            try (FileChannel c = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                fsyncDirectory(dir);
                for (int i = 0; i < 5; i++) {
                    c.write(bytes("s" + i + ";"));
                    written.append("s").append(i).append(';');
                }
                c.force(false);
                synced = written.toString();
                for (int i = 0; i < 5; i++) {
                    c.write(bytes("u" + i + ";"));
                    written.append("u").append(i).append(';');
                }
            }
            Files.writeString(dir.resolve("never-synced"), "x");
            d.losePower(new Random(new java.util.SplittableRandom(seed).nextLong())); // a fresh Random's first draw barely varies with small seeds
            String after = Files.readString(file);
            assertThat(after).as("seed %d", seed).startsWith(synced);
            assertThat(written.toString()).as("seed %d: what survives is a prefix of what was written", seed).startsWith(after);
        }
    }

    @Test
    void aPowerLossCanLoseUnsyncedDirectoryEntriesButNotSyncedOnes() throws IOException {
        int lostUnsynced = 0;
        for (long seed = 0; seed < 100; seed++) {
            SimDisk d = SimDisk.create("seed-" + seed);
            Path r = d.root();
            Files.writeString(r.resolve("kept"), "k");
            fsyncDirectory(r);
            Files.writeString(r.resolve("maybe"), "m");
            Files.move(r.resolve("kept"), r.resolve("renamed"), StandardCopyOption.ATOMIC_MOVE);
            d.losePower(new Random(new java.util.SplittableRandom(seed).nextLong())); // a fresh Random's first draw barely varies with small seeds
            boolean renamed = Files.exists(r.resolve("renamed"));
            assertThat(renamed || Files.exists(r.resolve("kept"))).as("seed %d: a rename is all or nothing", seed).isTrue();
            assertThat(renamed && Files.exists(r.resolve("kept"))).as("seed %d", seed).isFalse();
            if (renamed) {
                assertThat(Files.exists(r.resolve("maybe"))).as("seed %d: the journal keeps its order", seed).isTrue();
            }
            if (!Files.exists(r.resolve("maybe"))) {
                lostUnsynced++;
            }
        }
        assertThat(lostUnsynced).as("some power losses drop the unsynced entry").isPositive();
    }

    @Test
    void aFullDiskRefusesWritesAndChangesNothing() throws IOException {
        Path file = root.resolve("f");
        Files.writeString(file, "before");
        disk.fill(true);
        assertThatThrownBy(() -> Files.writeString(file, "after", StandardOpenOption.APPEND))
                .isInstanceOf(IOException.class).hasMessageContaining("No space left");
        disk.fill(false);
        assertThat(Files.readString(file)).isEqualTo("before");
        assertThat(disk.stats().writesRefusedFull()).isEqualTo(1);
    }

    @Test
    void bitFlipsOnReadLeaveThePlatterIntact() throws IOException {
        Path file = root.resolve("f");
        byte[] content = new byte[64];
        Files.write(file, content);
        disk.flipBitsOnRead(1.0, new Random(3));
        assertThat(Files.readAllBytes(file)).isNotEqualTo(content);
        disk.flipBitsOnRead(0, null);
        assertThat(Files.readAllBytes(file)).isEqualTo(content);
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }
}
