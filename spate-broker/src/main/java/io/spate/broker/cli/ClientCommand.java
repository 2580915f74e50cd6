package io.spate.broker.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;

/**
 * The common shape of {@code spate topic|produce|consume} (the {@code rpk}-like commands): where to
 * connect, Kafka clients configured for a command line (quiet logs, bounded waits), one line on
 * stderr and exit code 1 for an expected failure, JSON through Jackson.
 */
abstract class ClientCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    Connection connection;

    /** Where to connect; the same options as the other commands, but a 10 s default wait. */
    static final class Connection {
        @Option(names = "--bootstrap-server", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9092",
                description = "A broker to bootstrap from (default: ${DEFAULT-VALUE}).")
        String bootstrapServer;

        @Option(names = "--timeout", paramLabel = "MS", defaultValue = "10000",
                description = "How long to wait for the broker, in milliseconds (default: ${DEFAULT-VALUE}).")
        int timeoutMs;

        /** Settings every client of a command shares: the address, bounded waits, quick reconnects. */
        Properties common(String clientId) {
            // The CLI's output is its records and tables: keep the Kafka clients' INFO chatter off
            // the terminal (a user's own -Dorg.slf4j.simpleLogger... setting still wins).
            System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.org.apache.kafka", "error");
            Properties props = new Properties();
            props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServer);
            props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
            props.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
            props.put(CommonClientConfigs.RETRY_BACKOFF_MS_CONFIG, 100);
            props.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
            return props;
        }

        Admin admin(String clientId) {
            Properties props = common(clientId);
            props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
            return create(() -> Admin.create(props));
        }

        /** Builds a client; a bad address is one line naming the option, not a stack trace. */
        <T> T create(java.util.function.Supplier<T> factory) {
            try {
                return factory.get();
            } catch (KafkaException e) {
                Throwable cause = e.getCause() instanceof ConfigException ? e.getCause() : e;
                throw new GroupsCommand.Failure("bad --bootstrap-server '" + bootstrapServer + "': " + cause.getMessage());
            }
        }
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Runs the command; returns its exit code (an expected failure throws {@link GroupsCommand.Failure}). */
    abstract int execute() throws Exception;

    @Override
    public final Integer call() {
        try {
            int exit = execute();
            out().flush();
            err().flush();
            return exit;
        } catch (GroupsCommand.Failure e) {
            return fail(e.getMessage());
        } catch (ExecutionException e) {
            return fail(explain(e.getCause() == null ? e : e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted");
        } catch (Exception e) {
            return fail(explain(e));
        }
    }

    int fail(String message) {
        out().flush();
        error(message);
        return 1;
    }

    /** One line on stderr, "spate: ...". */
    void error(String message) {
        PrintWriter err = err();
        err.println("spate: " + message);
        err.flush();
    }

    String explain(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException) {
                return unreachable();
            }
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (e instanceof UnknownTopicOrPartitionException) {
            return "unknown topic or partition" + (message.isEmpty() ? "" : ": " + message);
        }
        if (e instanceof InvalidConfigurationException || e instanceof InvalidRequestException
                || e instanceof PolicyViolationException) {
            return "bad config: " + message;
        }
        if (e instanceof AuthorizationException) {
            return "not authorized: " + message;
        }
        return e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
    }

    String unreachable() {
        return "no answer from a broker at " + connection.bootstrapServer + " within " + connection.timeoutMs
                + " ms (is a node running there?)";
    }

    /** What went wrong with one topic of a multi-topic request, as the rest of a one-line message. */
    static String topicError(String topic, Throwable e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (e instanceof TopicExistsException) {
            return "topic '" + topic + "' already exists";
        }
        if (e instanceof UnknownTopicOrPartitionException) {
            return "topic '" + topic + "' does not exist";
        }
        if (e instanceof InvalidTopicException) {
            return "bad topic name '" + topic + "': " + message;
        }
        if (e instanceof InvalidReplicationFactorException) {
            return "bad replication factor for '" + topic + "': " + message;
        }
        if (e instanceof InvalidPartitionsException) {
            return "bad partition count for '" + topic + "': " + message;
        }
        if (e instanceof InvalidConfigurationException || e instanceof InvalidRequestException
                || e instanceof PolicyViolationException || e instanceof ConfigException) {
            return "bad config for '" + topic + "': " + message;
        }
        return "topic '" + topic + "': " + e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
    }

    /** The descriptions of topics that must exist; an unknown one is a one-line failure naming it. */
    static Map<String, TopicDescription> describeExisting(Admin admin, Collection<String> topics) throws Exception {
        Map<String, TopicDescription> described = new LinkedHashMap<>();
        var futures = admin.describeTopics(topics).topicNameValues();
        for (String topic : topics) {
            try {
                described.put(topic, futures.get(topic).get());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException || e.getCause() instanceof InvalidTopicException) {
                    throw new GroupsCommand.Failure("topic '" + topic + "' does not exist");
                }
                throw e;
            }
        }
        return described;
    }

    /** {@code key=value} (split at the first '='), or a one-line failure naming the option. */
    static Map.Entry<String, String> keyValue(String option, String text) {
        int eq = text.indexOf('=');
        if (eq <= 0) {
            throw new GroupsCommand.Failure("bad " + option + " '" + text + "': expected KEY=VALUE");
        }
        return Map.entry(text.substring(0, eq), text.substring(eq + 1));
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
