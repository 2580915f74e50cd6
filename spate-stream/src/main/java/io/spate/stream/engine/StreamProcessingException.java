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
