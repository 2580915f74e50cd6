package io.spate.chaos.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for node processes on the shared loopback (the campaigns' and the system tests'), chosen
 * below the kernel's ephemeral range. A port from {@code new ServerSocket(0)} comes from that
 * range, and between choosing it and a node binding it every outgoing connection on the machine (a
 * client, another node's Raft or fetch link) may be given it as its local port: a cluster test then
 * died with "Address already in use" on a controller port. No outgoing connection takes a port
 * below the range. Each port is handed out once per JVM (a restarted node keeps its own); another
 * build on the same machine picks at random from the same twenty thousand, and a port it holds
 * fails the bind check here.
 */
public final class LoopbackPorts {
    private static final int LOWEST = 10_000;
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private LoopbackPorts() {
    }

    /** A port no socket on 127.0.0.1 holds now and this JVM has not handed out before. */
    public static int free() throws IOException {
        int ceiling = ephemeralLow();
        if (ceiling - LOWEST < 1_000) {
            return fromKernel();
        }
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, ceiling);
            if (HANDED_OUT.add(port)) {
                if (bindable(port)) {
                    return port;
                }
            }
        }
        return fromKernel();
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
