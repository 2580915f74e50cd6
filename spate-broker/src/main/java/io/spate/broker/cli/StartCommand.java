package io.spate.broker.cli;

import io.spate.broker.SpateConfig;
import io.spate.broker.SpateNode;
import io.spate.log.InvalidConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code spate start}: runs one node in the foreground until Ctrl-C or SIGTERM. */
@Command(name = "start", mixinStandardHelpOptions = true,
        description = "Run a Spate node in the foreground (Ctrl-C or SIGTERM stops it cleanly).")
final class StartCommand implements Callable<Integer> {
    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the logs live (default: ./spate-data).")
    Path dataDir;

    @Option(names = "--port", paramLabel = "PORT", description = "Kafka listener port on the host (default: 9092).")
    Integer port;

    @Option(names = "--host", paramLabel = "HOST", description = "Address to listen on and advertise (default: 127.0.0.1).")
    String host;

    @Option(names = "--node-id", paramLabel = "N", description = "This node's id in a cluster (node.id; default: 1).")
    Integer nodeId;

    @Option(names = "--controllers", paramLabel = "ID@HOST:PORT,...",
            description = "The controller quorum (controller.quorum.voters), e.g. 1@127.0.0.1:9192,2@127.0.0.1:9193,3@127.0.0.1:9194. "
                    + "A node listed there runs a voter on that port, its node-to-node port. Without it the node runs standalone.")
    String controllers;

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file with Kafka-named settings.")
    Path configFile;

    @Option(names = {"-o", "--override"}, paramLabel = "NAME=VALUE", description = "One setting, overriding the file; repeatable.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        SpateConfig config;
        try {
            Map<String, String> settings = new LinkedHashMap<>();
            if (configFile != null) {
                settings.putAll(SpateConfig.readFile(configFile));
            }
            settings.putAll(overrides);
            if (dataDir != null) {
                settings.put(SpateConfig.LOG_DIRS, dataDir.toString());
            }
            if (port != null) {
                settings.put(SpateConfig.PORT, port.toString());
            }
            if (nodeId != null) {
                settings.put(SpateConfig.NODE_ID, nodeId.toString());
            }
            if (controllers != null) {
                settings.put(SpateConfig.CONTROLLER_QUORUM_VOTERS, controllers);
            }
            if (host != null) {
                settings.put(SpateConfig.HOST, host);
            }
            config = SpateConfig.from(settings);
        } catch (InvalidConfigException e) {
            System.err.println("spate: bad configuration: " + e.getMessage());
            return 2;
        }
        SpateNode node;
        try {
            node = SpateNode.start(config);
        } catch (java.io.IOException | RuntimeException e) {
            System.err.println("spate: cannot start: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                System.out.println("spate: stopped cleanly");
            } catch (RuntimeException e) {
                System.out.println("spate: error while stopping: " + e);
            } finally {
                System.out.flush();
                stopped.countDown();
            }
        }, "spate-shutdown"));
        long startedMs = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
        System.out.printf("spate: node %d serving Kafka on %s (data in %s, cluster %s, ready %d ms after JVM start)%n",
                config.nodeId(), node.bootstrapServers(), config.dataDir().toAbsolutePath(), node.clusterId(), startedMs);
        System.out.flush();
        stopped.await();
        return 0;
    }
}
