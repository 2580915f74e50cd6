package io.spate.tables;

/**
 * How a get ended. {@code cell} is the newest version among the replicas that answered (null when
 * none holds the key); a tombstone means the key was deleted. Not found is {@code cell} null or a
 * tombstone; the version is then still worth passing as the next write's {@code after}.
 */
public record ReadResult(Status status, Cell cell) {
    public enum Status { OK, TIMEOUT, UNAVAILABLE, OVERLOADED }

    public boolean ok() {
        return status == Status.OK;
    }

    public boolean found() {
        return cell != null && !cell.tombstone();
    }

    /** The value, or null when not found. */
    public byte[] value() {
        return found() ? cell.value() : null;
    }

    public long version() {
        return cell == null ? 0 : cell.hlc();
    }
}
