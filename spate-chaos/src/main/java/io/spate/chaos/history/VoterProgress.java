package io.spate.chaos.history;

/**
 * How far one controller voter's Raft log reached at one read of its disk ({@code atUs} on the
 * run's clock): the index of its last entry. Kept at every read, changed or not, so that a voter
 * whose log stopped growing while the others' grew shows as such.
 */
public record VoterProgress(int node, long atUs, long lastIndex) {
}
