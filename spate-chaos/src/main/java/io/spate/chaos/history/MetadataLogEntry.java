package io.spate.chaos.history;

/**
 * One entry of a controller voter's Raft log as it stood on that voter's disk at the end of the
 * run: its place ({@code index}, {@code term}) and a CRC-32C of the whole entry, enough to tell
 * whether two voters hold the same entry at one index without keeping the entries themselves.
 */
public record MetadataLogEntry(int node, long index, long term, long crc) {
}
