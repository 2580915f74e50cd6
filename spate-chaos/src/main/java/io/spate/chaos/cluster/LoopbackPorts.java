package io.spate.chaos.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for node processes on the shared loopback (the campaigns' and the system tests'), chosen
 * below the kernel's ephemeral range. A port from {@code new ServerSocket(0)} comes from that
 * range, and between choosing it and a node binding it every outgoing connection on the machine (a
 * client, another node's Raft or fetch link) may be given it as its local port: a cluster test then
 * died with "Address already in use" on a controller port. No outgoing connection takes a port
 * below the range.
 *
 * <p>A JVM hands out ports only from blocks of {@value #BLOCK} it has reserved, each by an
 * exclusive lock on a file in a per-user folder under the temporary directory, held until the JVM
 * exits (the kernel drops it even on kill -9). Picking at random and checking that the port binds
 * was not enough when two test JVMs (two modules of one build, or another checkout) ran side by
 * side: while a test had a node killed, its port was free, the other JVM took it, and the node
 * could not start again ("cannot listen for HTTP ... Address already in use"). When the folder
 * cannot be used, ports are picked at random from the same range, as before.
 */
public final class LoopbackPorts {
    private static final int LOWEST = 10_000;
    private static final int BLOCK = 64;
    private static final Set<Integer> HANDED_OUT = new HashSet<>();
    private static final Set<Integer> BLOCKS_TRIED = new HashSet<>();
    /** Open so that their locks last as long as this JVM. */
    private static final List<FileChannel> RESERVATIONS = new ArrayList<>();
    private static int blockFirst = -1;
    private static int nextInBlock;
    private static boolean reservationsWork = true;

    private LoopbackPorts() {
    }

    /**
     * A port no socket on 127.0.0.1 holds now, that this JVM has not handed out before and that
     * no other JVM using this class hands out while this one lives.
     */
    public static synchronized int free() throws IOException {
        int ceiling = ephemeralLow();
        if (ceiling - LOWEST < 1_000) {
            return fromKernel();
        }
        for (int attempt = 0; attempt < 10_000; attempt++) {
            int port = reservationsWork ? nextReserved(ceiling) : ThreadLocalRandom.current().nextInt(LOWEST, ceiling);
            if (port < 0) {
                break;
            }
            if (HANDED_OUT.add(port) && bindable(port)) {
                return port;
            }
        }
        return fromKernel();
    }

    /** The next port of this JVM's current block, reserving a new block when it runs out; -1 if none is left. */
    private static int nextReserved(int ceiling) {
        if (blockFirst < 0 || nextInBlock >= blockFirst + BLOCK || nextInBlock >= ceiling) {
            blockFirst = reserveBlock(ceiling);
            if (blockFirst < 0) {
                return reservationsWork ? -1 : ThreadLocalRandom.current().nextInt(LOWEST, ceiling);
            }
            nextInBlock = blockFirst;
        }
        return nextInBlock++;
    }

    private static int reserveBlock(int ceiling) {
        int firstBlock = (LOWEST + BLOCK - 1) / BLOCK;
        int blocks = ceiling / BLOCK - firstBlock;
        Path folder;
        try {
            folder = Path.of(System.getProperty("java.io.tmpdir"), "spate-ports-" + System.getProperty("user.name", "user"));
            Files.createDirectories(folder);
        } catch (IOException | RuntimeException e) {
            reservationsWork = false;
            return -1;
        }
        for (int attempt = 0; attempt < blocks * 2 && BLOCKS_TRIED.size() < blocks; attempt++) {
            int block = firstBlock + ThreadLocalRandom.current().nextInt(blocks);
            if (!BLOCKS_TRIED.add(block)) {
                continue;
            }
            if (tryLock(folder.resolve("block-" + block))) {
                return block * BLOCK;
            }
        }
        return -1;
    }

    private static boolean tryLock(Path file) {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock != null) {
                RESERVATIONS.add(channel);
                return true;
            }
        } catch (IOException | OverlappingFileLockException e) {
            // held elsewhere or unusable: try another block
        }
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing held
            }
        }
        return false;
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    private static int fromKernel() throws IOException {
        while (true) {
            try (ServerSocket socket = new ServerSocket(0)) {
                if (HANDED_OUT.add(socket.getLocalPort())) {
                    return socket.getLocalPort();
                }
            }
        }
    }

    /** The first port of the kernel's ephemeral range (Linux's default when it cannot be read). */
    private static int ephemeralLow() {
        // Read to the end of the stream: Files.readString trusts the size /proc reports and
        // returned "3" for "32768 60999" here, and every port then came from the kernel after all.
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
            String range = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}
