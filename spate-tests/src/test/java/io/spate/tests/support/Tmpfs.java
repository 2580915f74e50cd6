package io.spate.tests.support;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A small real disk for full-disk tests: a tmpfs mounted on a test's directory (needs root; the test is skipped otherwise). */
public final class Tmpfs {
    private Tmpfs() {
    }

    /** Mounts a tmpfs of {@code size} (e.g. {@code 4m}) on {@code dir}, or skips the test saying why. */
    public static Path mountOrSkip(Path dir, String size) throws Exception {
        Files.createDirectories(dir);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()).redirectErrorStream(true).start();
        boolean mounted = mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here (needs root): " + new String(mount.getInputStream().readAllBytes()));
        return dir;
    }

    public static void unmount(Path dir) throws Exception {
        if (dir != null) {
            new ProcessBuilder("umount", "-l", dir.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
