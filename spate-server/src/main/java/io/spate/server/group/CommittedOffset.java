package io.spate.server.group;

/** A group's committed position in one partition. */
public record CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestamp) {
}
