package io.spate.tables;

/**
 * A node's protocol knobs. Every one is a bound or a period.
 *
 * @param vnodes                tokens per member on the ring
 * @param requestTimeoutMs      how long a coordinator waits for replicas before answering TIMEOUT
 *                              (and hinting the writes that got no acknowledgement)
 * @param maxInFlightRequests   a coordinator's pending requests beyond which it answers OVERLOADED
 * @param hintIntervalMs        how often hints are offered to live replicas
 * @param hintBatch             hints per replica per round, and at most one round in flight per replica
 * @param antiEntropyIntervalMs how often a node starts an anti-entropy session (one range, one peer) when none runs
 * @param merkleDepth           a range's tree has 2^depth leaves
 * @param maxKeysPerMessage     bound on the keys one anti-entropy message carries; the rest waits for the next round
 * @param gcIntervalMs          how often tombstones past their grace are collected
 * @param maxClockForwardMs     timestamps further ahead of this node's clock are not adopted by its hybrid clock
 */
public record NodeSettings(int vnodes, long requestTimeoutMs, int maxInFlightRequests, long hintIntervalMs, int hintBatch,
                           long antiEntropyIntervalMs, int merkleDepth, int maxKeysPerMessage, long gcIntervalMs,
                           long maxClockForwardMs) {
    public static NodeSettings defaults() {
        return new NodeSettings(64, 2_000, 10_000, 1_000, 100, 10_000, 10, 1_000, 60_000, 60_000);
    }
}
