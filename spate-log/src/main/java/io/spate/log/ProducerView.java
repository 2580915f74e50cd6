package io.spate.log;

/**
 * One producer's state on a partition, as DescribeProducers shows it: its epoch, last sequence
 * and timestamp, the coordinator epoch of its last marker (-1 for none) and the first offset of
 * its open transaction (-1 for none).
 */
public record ProducerView(long producerId, short epoch, int lastSequence, long lastTimestamp,
                           int coordinatorEpoch, long currentTxnStartOffset) {
}
