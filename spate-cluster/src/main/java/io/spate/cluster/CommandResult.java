package io.spate.cluster;

/**
 * The outcome of applying one command. {@code value} carries a command's answer (the first
 * producer id of an allocated block); {@code version} is the log index it was applied at, so a
 * node can wait until its own image has caught up with its change.
 */
public record CommandResult(Error error, String message, long value, long version) {
    public enum Error {
        NONE, TOPIC_EXISTS, UNKNOWN_TOPIC, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, STALE_STATE, UNKNOWN_NODE, NO_REASSIGNMENT, TABLE_EXISTS
    }

    public static CommandResult ok(long value) {
        return new CommandResult(Error.NONE, "", value, 0);
    }

    public static CommandResult fail(Error error, String message) {
        return new CommandResult(error, message, 0, 0);
    }

    public boolean succeeded() {
        return error == Error.NONE;
    }

    public CommandResult at(long newVersion) {
        return new CommandResult(error, message, value, newVersion);
    }
}
