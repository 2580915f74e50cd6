package io.spate.stream.engine;

/**
 * A record of one of a task's input topics, as read from the log. {@code appendTime}: its
 * timestamp is the time the broker appended it (a topic with {@code message.timestamp.type=
 * LogAppendTime}), not the time its writer gave it.
 */
public record InputRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value, boolean appendTime) {
    public InputRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value) {
        this(topic, partition, offset, timestamp, key, value, false);
    }

    /**
     * As a store change to restore: a change's own timestamp is the stream time it was made at
     * or before, an append time is not (a changelog created before its topics were pinned to
     * CreateTime, on a node whose default is LogAppendTime), so it moves no stream time.
     */
    public ChangelogRecord asChange() {
        return new ChangelogRecord(key, value, appendTime ? Long.MIN_VALUE : timestamp);
    }
}
