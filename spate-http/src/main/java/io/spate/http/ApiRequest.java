package io.spate.http;

import io.netty.handler.codec.http.FullHttpRequest;

import java.util.concurrent.atomic.AtomicBoolean;

/** A whole request and the in-flight bytes it holds until {@link #release()}. */
final class ApiRequest {
    final FullHttpRequest http;
    /** When the whole request had arrived (System.nanoTime), for the HTTP request metrics. */
    final long arrivalNanos = System.nanoTime();
    private final long reservedBytes;
    private final InFlightBytes inFlight;
    private final AtomicBoolean released = new AtomicBoolean();

    ApiRequest(FullHttpRequest http, long reservedBytes, InFlightBytes inFlight) {
        this.http = http;
        this.reservedBytes = reservedBytes;
        this.inFlight = inFlight;
    }

    /** Frees the body and its reservation; once, from any thread. */
    void release() {
        if (released.compareAndSet(false, true)) {
            http.release();
            if (reservedBytes > 0) {
                inFlight.release(reservedBytes);
            }
        }
    }
}
