package io.spate.stream.engine;

/**
 * A store of the graph. {@code changelogTopic} is its internal changelog, or null for a table read
 * from a topic, which is restored from that topic ({@code restoreTopic}).
 */
record StoreSpec(String name, String changelogTopic, String restoreTopic, Maker maker) {
    @FunctionalInterface
    interface Maker {
        TaskContext.RegisteredStore make(TaskContext ctx, String restoreTopic);
    }
}
