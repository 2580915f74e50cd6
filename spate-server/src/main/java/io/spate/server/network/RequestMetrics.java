package io.spate.server.network;

import org.apache.kafka.common.protocol.ApiKeys;

/**
 * What the listener reports of each request, for the node's metrics: its arrival and the moment
 * its response is handed to the network. Called on the connection's event loop (an acks=0
 * produce's end on whichever thread completed it), once per request, so an implementation must be
 * thread-safe and should not allocate (the node's keeps one counter and histogram child per API).
 *
 * <p>The listener reads no clock of its own: {@link #onRequest} returns a stamp (the
 * implementation's clock, nanoseconds) that {@link #onResponse} gets back.
 */
public interface RequestMetrics {
    /** A request of {@code apiKey} arrived, {@code requestBytes} with its size prefix; returns its arrival stamp. */
    long onRequest(ApiKeys apiKey, int requestBytes);

    /**
     * The request that arrived at {@code arrivalStamp} is answered: {@code responseBytes} (with the
     * size prefix) were handed to the channel. An acks=0 produce, which gets no response, ends here
     * with 0 bytes once handled.
     */
    void onResponse(ApiKeys apiKey, long arrivalStamp, long responseBytes);

    /** Records nothing. */
    RequestMetrics NOOP = new RequestMetrics() {
        @Override
        public long onRequest(ApiKeys apiKey, int requestBytes) {
            return 0;
        }

        @Override
        public void onResponse(ApiKeys apiKey, long arrivalStamp, long responseBytes) {
        }
    };
}
