package io.spate.tests.support;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Each node in a Linux network namespace of its own, joined to the host by a veth pair on one
 * bridge, as spate-chaos's {@code NamespaceNetwork} does: node {@code i} is {@code 10.X.Y.i}, the
 * host (the test and its clients) {@code 10.X.Y.254}. {@link #isolate} cuts a node off from the
 * others with blackhole routes in both directions (the kernel drops what crosses, silently, as a
 * broken link does; nothing is reset), while the host still reaches every node, as in Jepsen's
 * partitions between servers. Needs root and iproute2: {@link #createOrSkip} skips the test
 * otherwise, saying why.
 *
 * <p>Names carry a random tag, so two runs on one machine do not meet; a marker file per tag under
 * {@code /tmp/spate-tests-net} (the owning JVM's pid) lets a later run remove what a killed run left.
 */
public final class NetworkNamespaces implements AutoCloseable {
    private static final Path MARKERS = Path.of(System.getProperty("java.io.tmpdir"), "spate-tests-net");

    private final String tag;
    private final String subnet;
    private final int nodes;
    private final Set<String> cuts = new TreeSet<>();
    private boolean closed;

    private NetworkNamespaces(String tag, String subnet, int nodes) {
        this.tag = tag;
        this.subnet = subnet;
        this.nodes = nodes;
    }

    /** Namespaces for nodes 1..{@code nodes}, or the test skipped (not root, no {@code ip netns}). */
    public static NetworkNamespaces createOrSkip(int nodes) {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root");
        Result list = run(List.of("ip", "netns", "list"));
        Assumptions.assumeTrue(list.exit() == 0, "'ip netns' is unavailable: " + list.output().strip());
        removeLeftovers();
        Random random = new Random();
        for (int attempt = 0; attempt < 20; attempt++) {
            String tag = String.format("%04x", random.nextInt(0x10000));
            String subnet = "10." + (128 + random.nextInt(64)) + "." + random.nextInt(256);
            if (run(List.of("ip", "-o", "-4", "addr")).output().contains(" " + subnet + ".")
                    || run(List.of("ip", "netns", "list")).output().contains("spt" + tag)) {
                continue;
            }
            NetworkNamespaces network = new NetworkNamespaces(tag, subnet, nodes);
            try {
                network.build();
                SpateCluster.log("network: node i at " + subnet + ".i, in network namespace " + network.ns(1).replace("-1", "-i"));
                return network;
            } catch (RuntimeException e) {
                network.close();
                Assumptions.abort("network namespaces could not be built here: " + e.getMessage());
            }
        }
        Assumptions.abort("no free subnet for the namespaces");
        return null;
    }

    private String ns(int id) {
        return "spt" + tag + "-" + id;
    }

    private String bridge() {
        return "sptbr" + tag;
    }

    private String hostVeth(int id) {
        return "sptv" + tag + "-" + id;
    }

    private void build() {
        try {
            Files.createDirectories(MARKERS);
            Files.writeString(MARKERS.resolve(tag), String.valueOf(ProcessHandle.current().pid()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + MARKERS + ": " + e);
        }
        check("ip", "link", "add", bridge(), "type", "bridge");
        check("ip", "addr", "add", subnet + ".254/24", "dev", bridge());
        check("ip", "link", "set", bridge(), "up");
        for (int id = 1; id <= nodes; id++) {
            check("ip", "netns", "add", ns(id));
            check("ip", "link", "add", hostVeth(id), "type", "veth", "peer", "name", "eth0", "netns", ns(id));
            check("ip", "link", "set", hostVeth(id), "master", bridge());
            check("ip", "link", "set", hostVeth(id), "up");
            check("ip", "-n", ns(id), "addr", "add", address(id) + "/24", "dev", "eth0");
            check("ip", "-n", ns(id), "link", "set", "eth0", "up");
            check("ip", "-n", ns(id), "link", "set", "lo", "up");
        }
    }

    /** The address node {@code id} binds, advertises and is reached at. */
    public String address(int id) {
        return subnet + "." + id;
    }

    /** The command prefix that runs a command in node {@code id}'s namespace ({@code ip netns exec} execs it: same pid). */
    public List<String> prefix(int id) {
        return List.of("ip", "netns", "exec", ns(id));
    }

    /** Drops everything between node {@code id} and every other node, both ways; the host still reaches it. */
    public synchronized void isolate(int id) {
        for (int other = 1; other <= nodes; other++) {
            if (other != id) {
                cut(id, other);
                cut(other, id);
            }
        }
    }

    /** Undoes every cut. */
    public synchronized void healAll() {
        for (String cut : List.copyOf(cuts)) {
            String[] ends = cut.split(">");
            check("ip", "-n", ns(Integer.parseInt(ends[0])), "route", "del", "blackhole", address(Integer.parseInt(ends[1])) + "/32");
            cuts.remove(cut);
        }
    }

    private void cut(int from, int to) {
        if (cuts.add(from + ">" + to)) {
            check("ip", "-n", ns(from), "route", "add", "blackhole", address(to) + "/32");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        teardown(tag);
        try {
            Files.deleteIfExists(MARKERS.resolve(tag));
        } catch (IOException ignored) {
            // a leftover marker is cleaned by the next run
        }
    }

    private static void teardown(String tag) {
        String prefix = "spt" + tag + "-";
        for (String line : run(List.of("ip", "netns", "list")).output().split("\n")) {
            String name = line.strip().split("\\s+")[0];
            if (name.startsWith(prefix)) {
                run(List.of("ip", "netns", "del", name)); // takes its end of the veth pair with it
            }
        }
        run(List.of("ip", "link", "del", "sptbr" + tag));
    }

    /** Namespaces and bridges whose owning JVM is gone. */
    private static void removeLeftovers() {
        if (!Files.isDirectory(MARKERS)) {
            return;
        }
        try (var files = Files.list(MARKERS)) {
            for (Path marker : files.toList()) {
                Optional<ProcessHandle> owner = Optional.empty();
                try {
                    owner = ProcessHandle.of(Long.parseLong(Files.readString(marker).strip()));
                } catch (IOException | NumberFormatException ignored) {
                    // unreadable marker: treat as abandoned
                }
                if (owner.isEmpty() || !owner.get().isAlive()) {
                    SpateCluster.log("network: removing namespaces left by an ended run (tag " + marker.getFileName() + ")");
                    teardown(marker.getFileName().toString());
                    Files.deleteIfExists(marker);
                }
            }
        } catch (IOException e) {
            SpateCluster.log("network: could not look for leftovers: " + e);
        }
    }

    private record Result(int exit, String output) {
    }

    private static void check(String... command) {
        Result r = run(List.of(command));
        if (r.exit() != 0) {
            throw new IllegalStateException("'" + String.join(" ", command) + "' failed (exit " + r.exit() + "): " + r.output().strip());
        }
    }

    private static Result run(List<String> command) {
        try {
            Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out; " + out);
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }
}
