package io.spate.stream.engine;

/** A record a task could not process (a serde or user function threw); names the record. */
public final class StreamProcessingException extends RuntimeException {
    private final String topic;
    private final int partition;
    private final long offset;

    public StreamProcessingException(String topic, int partition, long offset, RuntimeException cause) {
        super("processing " + topic + "-" + partition + "@" + offset + " failed: " + cause, cause);
        this.topic = topic;
        this.partition = partition;
        this.offset = offset;
    }

    /** A failure outside any one record (closing windows as the wall clock moves stream time): no topic, partition -1, offset -1. */
    public StreamProcessingException(String what, RuntimeException cause) {
        super(what + " failed: " + cause, cause);
        this.topic = null;
        this.partition = -1;
        this.offset = -1;
    }

    /** The record's topic, or null for a failure outside any one record. */
    public String topic() {
        return topic;
    }

    public int partition() {
        return partition;
    }

    public long offset() {
        return offset;
    }
}
