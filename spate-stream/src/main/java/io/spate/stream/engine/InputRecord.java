package io.spate.stream.engine;

/** A record of one of a task's input topics, as read from the log. */
public record InputRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value) {
}
