package io.spate.broker.cli;

import io.spate.broker.SpateConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The HTTP APIs of a cluster known only by a Kafka bootstrap server: its nodes from the metadata,
 * and from each node (DescribeConfigs on the broker) the HTTP port it bound. Nodes that serve no
 * HTTP are skipped; a cluster where none does is an error that says so.
 */
final class HttpApis {
    /** Discovery is a few round trips: it does not need the patience a long command (repair) asks for. */
    private static final int MAX_DISCOVERY_MS = 15_000;

    private HttpApis() {
    }

    static List<String> of(String bootstrapServer, int timeoutMs) {
        int waitMs = Math.min(timeoutMs, MAX_DISCOVERY_MS);
        Admin admin;
        try {
            admin = ClusterCommand.admin(bootstrapServer, waitMs, waitMs);
        } catch (KafkaException e) {
            throw new GroupsCommand.Failure("bad --bootstrap-server '" + bootstrapServer + "': "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
        }
        try (admin) {
            Collection<Node> nodes = admin.describeCluster().nodes().get(waitMs, TimeUnit.MILLISECONDS);
            List<ConfigResource> brokers = nodes.stream()
                    .map(n -> new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(n.id()))).toList();
            Map<ConfigResource, Config> configs = admin.describeConfigs(brokers, new DescribeConfigsOptions().timeoutMs(waitMs))
                    .all().get(waitMs, TimeUnit.MILLISECONDS);
            List<String> apis = new ArrayList<>();
            for (Node node : nodes) {
                Config config = configs.get(new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(node.id())));
                ConfigEntry port = config == null ? null : config.get(SpateConfig.HTTP_PORT);
                if (port != null && port.value() != null && Integer.parseInt(port.value()) > 0) {
                    apis.add("http://" + hostForUrl(node.host()) + ":" + port.value());
                }
            }
            if (apis.isEmpty()) {
                throw new GroupsCommand.Failure("no node of the cluster at " + bootstrapServer + " serves HTTP (nodes "
                        + nodes.stream().map(n -> String.valueOf(n.id())).collect(Collectors.joining(", "))
                        + "; start them with --http-port)");
            }
            return apis;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GroupsCommand.Failure("interrupted while asking " + bootstrapServer + " for its nodes");
        } catch (GroupsCommand.Failure e) {
            throw e;
        } catch (Exception e) {
            throw new GroupsCommand.Failure("cannot learn the nodes' HTTP APIs from " + bootstrapServer + ": " + ClusterCommand.explain(e));
        }
    }

    private static String hostForUrl(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }
}
