package io.spate.server.metadata;

import io.spate.log.LogConfig;
import io.spate.log.LogManager;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The node's topics, each persisted as a small properties file under {@code DATA/meta/topics}
 * (written atomically), so that ids, partition counts and config overrides survive restarts.
 * On one node this is the whole metadata; a cluster will replace it with the replicated
 * metadata image.
 */
public final class TopicRegistry {
    private final Path dir;
    private final Map<String, String> topicDefaults;
    private final Map<String, TopicInfo> byName = new ConcurrentHashMap<>();
    private final Map<Uuid, TopicInfo> byId = new ConcurrentHashMap<>();

    private TopicRegistry(Path dir, Map<String, String> topicDefaults) {
        this.dir = dir;
        this.topicDefaults = Map.copyOf(topicDefaults);
    }

    public static TopicRegistry load(Path dataDir, Map<String, String> topicDefaults) throws IOException {
        Path dir = dataDir.resolve("meta").resolve("topics");
        Files.createDirectories(dir);
        TopicRegistry registry = new TopicRegistry(dir, topicDefaults);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".properties")).toList()) {
                TopicInfo topic = read(file);
                registry.byName.put(topic.name(), topic);
                registry.byId.put(topic.id(), topic);
            }
        }
        return registry;
    }

    /**
     * A registry that mirrors the cluster metadata: nothing is written here, since the metadata
     * log is what persists topics in a cluster.
     */
    public static TopicRegistry mirror(Map<String, String> topicDefaults) {
        return new TopicRegistry(null, topicDefaults);
    }

    /** Makes this registry hold exactly {@code current} (a mirror following the cluster metadata). */
    public synchronized void replaceAll(Collection<TopicInfo> current) {
        Map<String, TopicInfo> next = new HashMap<>();
        current.forEach(t -> next.put(t.name(), t));
        byName.keySet().retainAll(next.keySet());
        byName.putAll(next);
        next.values().forEach(t -> byId.put(t.id(), t));
        byId.values().removeIf(t -> !next.containsKey(t.name()) || !next.get(t.name()).id().equals(t.id()));
    }

    public TopicInfo get(String name) {
        return byName.get(name);
    }

    public TopicInfo get(Uuid id) {
        return byId.get(id);
    }

    public Collection<TopicInfo> all() {
        return byName.values();
    }

    /** Broker defaults overlaid with the topic's overrides, under topic-level names. */
    public Map<String, String> effectiveConfig(TopicInfo topic) {
        Map<String, String> effective = new TreeMap<>(topicDefaults);
        effective.putAll(topic.overrides());
        return effective;
    }

    public LogConfig logConfig(TopicInfo topic) {
        Map<String, String> effective = new HashMap<>(topicDefaults);
        effective.putAll(topic.overrides());
        return LogConfig.from(effective);
    }

    public Map<String, String> topicDefaults() {
        return topicDefaults;
    }

    public synchronized TopicInfo create(String name, int partitions, short replicationFactor, Map<String, String> overrides) {
        if (byName.containsKey(name)) {
            throw new TopicExistsException("topic '" + name + "' already exists");
        }
        TopicInfo topic = new TopicInfo(name, Uuid.randomUuid(), partitions, replicationFactor, overrides);
        persist(topic);
        byName.put(name, topic);
        byId.put(topic.id(), topic);
        return topic;
    }

    public synchronized TopicInfo addPartitions(String name, int newCount) {
        TopicInfo topic = require(name);
        if (newCount <= topic.partitions()) {
            throw new InvalidPartitionsException("topic '" + name + "' has " + topic.partitions() + " partitions; the new count must be larger, not " + newCount);
        }
        return replace(topic.withPartitions(newCount));
    }

    public synchronized TopicInfo setOverrides(String name, Map<String, String> overrides) {
        return replace(require(name).withOverrides(overrides));
    }

    public synchronized TopicInfo delete(String name) {
        TopicInfo topic = require(name);
        try {
            if (dir != null) {
                Files.deleteIfExists(fileOf(name));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byName.remove(name);
        byId.remove(topic.id());
        return topic;
    }

    private TopicInfo require(String name) {
        TopicInfo topic = byName.get(name);
        if (topic == null) {
            throw new UnknownTopicOrPartitionException("topic '" + name + "' does not exist");
        }
        return topic;
    }

    private TopicInfo replace(TopicInfo topic) {
        persist(topic);
        byName.put(topic.name(), topic);
        byId.put(topic.id(), topic);
        return topic;
    }

    private void persist(TopicInfo topic) {
        if (dir == null) {
            return;
        }
        Properties props = new Properties();
        props.setProperty("name", topic.name());
        props.setProperty("id", topic.id().toString());
        props.setProperty("partitions", String.valueOf(topic.partitions()));
        props.setProperty("replication.factor", String.valueOf(topic.replicationFactor()));
        topic.overrides().forEach((k, v) -> props.setProperty("config." + k, v));
        StringWriter text = new StringWriter();
        try {
            props.store(text, "Spate topic metadata");
            LogManager.writeAtomically(fileOf(topic.name()), text.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("could not persist topic " + topic.name(), e);
        }
    }

    private Path fileOf(String name) {
        return dir.resolve(name + ".properties");
    }

    private static TopicInfo read(Path file) throws IOException {
        Properties props = new Properties();
        props.load(new StringReader(Files.readString(file)));
        Map<String, String> overrides = new HashMap<>();
        for (String key : props.stringPropertyNames()) {
            if (key.startsWith("config.")) {
                overrides.put(key.substring("config.".length()), props.getProperty(key));
            }
        }
        return new TopicInfo(props.getProperty("name"), Uuid.fromString(props.getProperty("id")),
                Integer.parseInt(props.getProperty("partitions")),
                Short.parseShort(props.getProperty("replication.factor", "1")), overrides);
    }
}
