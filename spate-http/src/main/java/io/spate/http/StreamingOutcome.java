package io.spate.http;

/**
 * An answer that takes the connection over ({@link LiveStream}, {@link StatsStream}): started on
 * the connection's event loop once the handler returns, stopped when either side ends it.
 */
sealed interface StreamingOutcome extends Outcome permits LiveStream, StatsStream {
    /** On the connection's event loop: writes the response head and starts streaming. */
    void start();

    /** The connection closed or the server is closing; from any thread. */
    void stop();

    /** The connection's writability changed. */
    void writabilityChanged();
}
