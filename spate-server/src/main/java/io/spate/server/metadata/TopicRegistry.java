package io.spate.server.metadata;

import io.spate.log.LogConfig;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The topics this node knows, as its metadata image has them: the handlers' fast lookup by name
 * and by id. Nothing is written here; the metadata log is what persists topics.
 */
public final class TopicRegistry {
    private final Map<String, String> topicDefaults;
    private final Map<String, TopicInfo> byName = new ConcurrentHashMap<>();
    private final Map<UUID, TopicInfo> byId = new ConcurrentHashMap<>();

    private TopicRegistry(Map<String, String> topicDefaults) {
        this.topicDefaults = Map.copyOf(topicDefaults);
    }

    /** A registry that mirrors the metadata images given to {@link #replaceAll}. */
    public static TopicRegistry mirror(Map<String, String> topicDefaults) {
        return new TopicRegistry(topicDefaults);
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

    public TopicInfo get(UUID id) {
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
}
