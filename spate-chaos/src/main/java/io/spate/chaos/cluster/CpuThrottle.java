package io.spate.chaos.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Starves one node of CPU with a cgroup (v1 {@code cpu} controller, or v2's {@code cpu.max}):
 * the process gets {@code percent} of one core, as on a host whose neighbour took the rest. The
 * node keeps running and its sockets stay open; it is just very slow.
 */
public final class CpuThrottle {
    private static final Path V1 = Path.of("/sys/fs/cgroup/cpu");
    private static final Path V2 = Path.of("/sys/fs/cgroup");
    private final Path group;
    private final Path parentProcs;
    private final boolean v2;

    private CpuThrottle(Path group, Path parentProcs, boolean v2) {
        this.group = group;
        this.parentProcs = parentProcs;
        this.v2 = v2;
    }

    /** A cgroup named {@code name}, or null when this machine does not let us make one. */
    static CpuThrottle create(String name) {
        try {
            if (Files.isWritable(V1) && Files.exists(V1.resolve("cpu.cfs_quota_us"))) {
                Path g = V1.resolve(name);
                Files.createDirectories(g);
                return new CpuThrottle(g, V1.resolve("cgroup.procs"), false);
            }
            if (Files.exists(V2.resolve("cgroup.controllers")) && Files.readString(V2.resolve("cgroup.subtree_control")).contains("cpu")) {
                Path g = V2.resolve(name);
                Files.createDirectories(g);
                return new CpuThrottle(g, V2.resolve("cgroup.procs"), true);
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /** Moves the process (every thread) into the group, limited to {@code percent} of a core. */
    public void starve(long pid, int percent) throws IOException {
        int period = 100_000;
        int quota = Math.max(1_000, period * percent / 100);
        if (v2) {
            Files.writeString(group.resolve("cpu.max"), quota + " " + period);
        } else {
            Files.writeString(group.resolve("cpu.cfs_period_us"), String.valueOf(period));
            Files.writeString(group.resolve("cpu.cfs_quota_us"), String.valueOf(quota));
        }
        Files.writeString(group.resolve("cgroup.procs"), String.valueOf(pid));
    }

    /** Back to the root group, unlimited. */
    public void release(long pid) throws IOException {
        try {
            Files.writeString(parentProcs, String.valueOf(pid));
        } catch (IOException e) {
            // the process may be gone (killed meanwhile): nothing to release
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                throw e;
            }
        }
    }

    public void delete() {
        try {
            Files.deleteIfExists(group);
        } catch (IOException ignored) {
            // still has a process in it; the kernel keeps an empty group harmlessly
        }
    }
}
