package io.spate.chaos.history;

/**
 * One entry of a controller voter's Raft log as one read of that voter's disk found it: the read
 * ({@code view}, numbered through the run; one read of one voter is one view of its whole log),
 * the entry's place ({@code index}, {@code term}) and a CRC-32C of the whole entry, enough to tell
 * whether two voters hold the same entry at one index without keeping the entries themselves.
 */
public record MetadataLogEntry(int node, int view, long index, long term, long crc) {
}
