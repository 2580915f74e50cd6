package io.spate.log;

/**
 * A transaction that ended with an abort marker: read_committed consumers drop the records of
 * {@code producerId} from {@code firstOffset} up to the marker at {@code lastOffset}.
 * {@code lastStableOffset} is the partition's last stable offset when the abort was written.
 */
public record AbortedTxn(long producerId, long firstOffset, long lastOffset, long lastStableOffset) {
}
