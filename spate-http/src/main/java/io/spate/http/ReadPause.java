package io.spate.http;

import io.netty.channel.Channel;

/**
 * Whether a connection reads, and for how long it has not: a request's body cannot arrive while
 * the node itself stops reading (its requests wait behind an answer), so that time must not count
 * against the body's deadline or make the connection look quiet. Used on the connection's event loop only.
 */
final class ReadPause {
    /** When reading stopped (System.nanoTime); meaningful while {@link #paused}. */
    private long pausedSinceNanos;
    private long pausedBeforeNanos;
    private long resumedNanos;
    private boolean everPaused;
    private boolean paused;

    void pause(Channel channel) {
        if (!paused) {
            paused = true;
            everPaused = true;
            pausedSinceNanos = System.nanoTime();
            channel.config().setAutoRead(false);
        }
    }

    void resume(Channel channel) {
        if (paused) {
            paused = false;
            resumedNanos = System.nanoTime();
            pausedBeforeNanos += resumedNanos - pausedSinceNanos;
            channel.config().setAutoRead(true);
        }
    }

    /** Whether reading stopped at any time in the {@code spanNanos} up to {@code nowNanos}. */
    boolean pausedWithin(long spanNanos, long nowNanos) {
        return paused || everPaused && nowNanos - resumedNanos < spanNanos;
    }

    /** Time spent not reading since the connection opened, up to {@code nowNanos}. */
    long pausedNanos(long nowNanos) {
        return pausedBeforeNanos + (paused ? nowNanos - pausedSinceNanos : 0);
    }
}
