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
 * @param maxBytesPerMessage    bound on the keys and values one anti-entropy Push or PullReply carries (at least one
 *                              cell goes); the rest waits for the next round. Well under the transport's frame limit
 *                              (64 MiB), which a message of {@code maxKeysPerMessage} values of 1 MiB would pass
 */
public record NodeSettings(int vnodes, long requestTimeoutMs, int maxInFlightRequests, long hintIntervalMs, int hintBatch,
                           long antiEntropyIntervalMs, int merkleDepth, int maxKeysPerMessage, long gcIntervalMs,
                           long maxClockForwardMs, long maxBytesPerMessage) {
    public static final long DEFAULT_MAX_BYTES_PER_MESSAGE = 8 << 20;

    /** With the default {@code maxBytesPerMessage}. */
    public NodeSettings(int vnodes, long requestTimeoutMs, int maxInFlightRequests, long hintIntervalMs, int hintBatch,
                        long antiEntropyIntervalMs, int merkleDepth, int maxKeysPerMessage, long gcIntervalMs,
                        long maxClockForwardMs) {
        this(vnodes, requestTimeoutMs, maxInFlightRequests, hintIntervalMs, hintBatch, antiEntropyIntervalMs, merkleDepth,
                maxKeysPerMessage, gcIntervalMs, maxClockForwardMs, DEFAULT_MAX_BYTES_PER_MESSAGE);
    }

    public static NodeSettings defaults() {
        return new NodeSettings(64, 2_000, 10_000, 1_000, 100, 10_000, 10, 1_000, 60_000, 60_000);
    }
}
