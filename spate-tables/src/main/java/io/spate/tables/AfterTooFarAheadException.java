package io.spate.tables;

/**
 * A write refused because the version its client last saw ({@code after}) is further ahead of the
 * coordinator's clock than the coordinator's hybrid clock may adopt. Issuing the write a smaller
 * version instead would acknowledge it and let the client's earlier write win on every replica:
 * an acknowledged write lost without a word. Nothing was written; another node (whose clock is
 * not behind) takes it, or this one once its clock has caught up.
 *
 * <p>An {@link IllegalStateException}: it is this node's clock, not the request, that cannot serve.
 */
public final class AfterTooFarAheadException extends IllegalStateException {
    AfterTooFarAheadException(long after, long nowMs, long maxForwardMs) {
        super("the version passed as after (" + Long.toUnsignedString(after) + ") is "
                + (HybridLogicalClock.physicalMs(after) - nowMs) + " ms ahead of this node's clock, more than the "
                + maxForwardMs + " ms its clock may be moved forward: a write here would be ordered before it; "
                + "nothing was written (retry through another node, or pass a version the table gave)");
    }
}
