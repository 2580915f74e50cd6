package io.spate.chaos.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each node in a network namespace of its own, joined to the host by a veth pair on one bridge:
 * node {@code i} is {@code 10.X.Y.i}, the host (where the workload's clients run) is {@code
 * 10.X.Y.254}. A one-way partition {@code a -> b} is a blackhole route to {@code b} inside {@code
 * a}'s namespace: the kernel drops what {@code a} sends to {@code b}, silently, as a broken link
 * does (an {@code unreachable} route would instead tell the sender at once). Clients keep reaching
 * every node, as in Jepsen's partitions between servers.
 *
 * <p>Names carry a random tag, so two runs on one machine (another checkout's CI) do not meet; a
 * marker file per tag under {@code /tmp/spate-chaos-net} lets a later run remove what a killed run
 * left behind.
 */
public final class NamespaceNetwork implements Network {
    private static final Path MARKERS = Path.of(System.getProperty("java.io.tmpdir"), "spate-chaos-net");

    private final String tag;
    private final String subnet;
    private final int nodes;
    private final Set<String> cuts = ConcurrentHashMap.newKeySet();
    private boolean closed;

    private NamespaceNetwork(String tag, String subnet, int nodes) {
        this.tag = tag;
        this.subnet = subnet;
        this.nodes = nodes;
    }

    /** Builds the namespaces, or says why it cannot (not root, no iproute2, no namespaces). */
    public static Network createOrFallBack(int nodes, java.util.function.Consumer<String> log) {
        String reason = unavailableReason();
        if (reason != null) {
            log.accept("network: every node on 127.0.0.1, no partition faults (" + reason + ")");
            return new LoopbackNetwork(reason);
        }
        removeLeftovers(log);
        Random random = new Random();
        for (int attempt = 0; attempt < 20; attempt++) {
            String tag = String.format("%04x", random.nextInt(0x10000));
            String subnet = "10." + (64 + random.nextInt(64)) + "." + random.nextInt(256);
            if (Shell.attempt("ip", "-o", "-4", "addr").output().contains(" " + subnet + ".")
                    || Shell.attempt("ip", "netns", "list").output().contains("spch" + tag)) {
                continue;
            }
            NamespaceNetwork network = new NamespaceNetwork(tag, subnet, nodes);
            try {
                network.build();
                log.accept("network: node i at " + subnet + ".i, each in network namespace spch" + tag + "-i");
                return network;
            } catch (RuntimeException e) {
                network.close();
                log.accept("network: every node on 127.0.0.1, no partition faults (namespaces failed: " + e.getMessage() + ")");
                return new LoopbackNetwork(e.getMessage());
            }
        }
        return new LoopbackNetwork("no free subnet found");
    }

    private static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not root";
        }
        Shell.Result r = Shell.attempt("ip", "netns", "list");
        if (r.exit() != 0) {
            return "'ip netns' unavailable: " + r.output().strip();
        }
        return null;
    }

    private String ns(int id) {
        return "spch" + tag + "-" + id;
    }

    private String bridge() {
        return "spbr" + tag;
    }

    private String hostVeth(int id) {
        return "spv" + tag + "-" + id;
    }

    private void build() {
        writeMarker();
        Shell.run("ip", "link", "add", bridge(), "type", "bridge");
        Shell.run("ip", "addr", "add", subnet + ".254/24", "dev", bridge());
        Shell.run("ip", "link", "set", bridge(), "up");
        for (int id = 1; id <= nodes; id++) {
            Shell.run("ip", "netns", "add", ns(id));
            Shell.run("ip", "link", "add", hostVeth(id), "type", "veth", "peer", "name", "eth0", "netns", ns(id));
            Shell.run("ip", "link", "set", hostVeth(id), "master", bridge());
            Shell.run("ip", "link", "set", hostVeth(id), "up");
            Shell.run("ip", "-n", ns(id), "addr", "add", address(id) + "/24", "dev", "eth0");
            Shell.run("ip", "-n", ns(id), "link", "set", "eth0", "up");
            Shell.run("ip", "-n", ns(id), "link", "set", "lo", "up");
        }
    }

    private void writeMarker() {
        try {
            Files.createDirectories(MARKERS);
            Files.writeString(MARKERS.resolve(tag), String.valueOf(ProcessHandle.current().pid()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + MARKERS + ": " + e);
        }
    }

    /** Namespaces and bridges whose owning process is gone. */
    private static void removeLeftovers(java.util.function.Consumer<String> log) {
        if (!Files.isDirectory(MARKERS)) {
            return;
        }
        try (var files = Files.list(MARKERS)) {
            for (Path marker : files.toList()) {
                String tag = marker.getFileName().toString();
                Optional<ProcessHandle> owner = Optional.empty();
                try {
                    owner = ProcessHandle.of(Long.parseLong(Files.readString(marker).strip()));
                } catch (IOException | NumberFormatException ignored) {
                    // unreadable marker: treat as abandoned
                }
                if (owner.isPresent() && owner.get().isAlive()) {
                    continue;
                }
                log.accept("network: removing namespaces left by an ended run (tag " + tag + ")");
                new NamespaceNetwork(tag, "", 0).teardown();
                Files.deleteIfExists(marker);
            }
        } catch (IOException e) {
            log.accept("network: could not look for leftovers: " + e);
        }
    }

    @Override
    public String address(int id) {
        return subnet + "." + id;
    }

    @Override
    public List<String> wrap(int id, List<String> command) {
        // ip netns exec execs the command: the pid the caller sees is the JVM's own.
        List<String> wrapped = new ArrayList<>(List.of("ip", "netns", "exec", ns(id)));
        wrapped.addAll(command);
        return wrapped;
    }

    @Override
    public boolean canPartition() {
        return true;
    }

    @Override
    public void cut(int from, int to) {
        if (cuts.add(from + ">" + to)) {
            Shell.run("ip", "-n", ns(from), "route", "add", "blackhole", address(to) + "/32");
        }
    }

    @Override
    public void heal(int from, int to) {
        if (cuts.remove(from + ">" + to)) {
            Shell.run("ip", "-n", ns(from), "route", "del", "blackhole", address(to) + "/32");
        }
    }

    @Override
    public String limitation() {
        return "";
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        teardown();
        try {
            Files.deleteIfExists(MARKERS.resolve(tag));
        } catch (IOException ignored) {
            // a leftover marker is cleaned by the next run
        }
    }

    private void teardown() {
        String prefix = "spch" + tag + "-";
        for (String line : Shell.attempt("ip", "netns", "list").output().split("\n")) {
            String name = line.strip().split("\\s+")[0];
            if (name.startsWith(prefix)) {
                Shell.attempt("ip", "netns", "del", name); // takes its end of the veth pair with it
            }
        }
        Shell.attempt("ip", "link", "del", bridge());
    }
}
