package io.spate.cluster.ratis;

import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.server.impl.ServerImplUtils;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.jar.JarFile;

/**
 * Loads Ratis' leader-side classes on a background thread when a voter starts. A voter fresh
 * from a restart that wins an election loads them on its election path: the fault campaigns
 * measured 300-600 ms from winning to leading on such a voter beside a busy neighbour (18 ms on
 * one that had led before), and Ratis counts the new leader's grace from its election, so it
 * lost the lead again for want of a majority's answers and the quorum stood without a leader for
 * 3.8 s (campaign 11, seed 3323).
 *
 * <p>Classes are loaded (read, parsed, defined), never initialised: initialising a library's
 * classes from two threads in different orders is how class-initialisation deadlocks happen.
 */
final class LeaderClassPreloader {
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    private static final List<String> PACKAGES = List.of(
            "org/apache/ratis/server/impl/", "org/apache/ratis/server/leader/", "org/apache/ratis/server/metrics/",
            "org/apache/ratis/grpc/server/", "org/apache/ratis/grpc/metrics/");

    private LeaderClassPreloader() {
    }

    /** Starts the loading thread, once per JVM. */
    static void startOnce() {
        if (STARTED.compareAndSet(false, true)) {
            Thread.ofPlatform().name("spate-ratis-preloader").daemon().start(() -> {
                // A failure costs only the time it would have saved.
                loadAll(ServerImplUtils.class);
                loadAll(GrpcLogAppender.class);
            });
        }
    }

    /** Loads the classes of {@link #PACKAGES} in the jar {@code anchor} came from; returns how many. */
    static int loadAll(Class<?> anchor) {
        CodeSource source = anchor.getProtectionDomain().getCodeSource();
        if (source == null) {
            return 0;
        }
        int loaded = 0;
        try (JarFile jar = new JarFile(Path.of(source.getLocation().toURI()).toFile())) {
            ClassLoader loader = anchor.getClassLoader();
            for (var entries = jar.entries(); entries.hasMoreElements(); ) {
                String name = entries.nextElement().getName();
                if (name.endsWith(".class") && PACKAGES.stream().anyMatch(name::startsWith)) {
                    try {
                        Class.forName(name.substring(0, name.length() - ".class".length()).replace('/', '.'), false, loader);
                        loaded++;
                    } catch (ClassNotFoundException | LinkageError e) {
                        // An optional dependency missing: that class is loaded when (if) it is needed.
                    }
                }
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            // Not from a jar (a build's classes directory): nothing to preload.
        }
        return loaded;
    }
}
