package io.spate.chaos.history;

/**
 * A record a group consumer received from {@code poll}, at {@code atUs} microseconds since the
 * run started. {@code consumer} names the member ({@code c1}, {@code c2}, ...) and {@code
 * incarnation} counts its restarts, so reads of one consumer object are told apart.
 */
public record Read(String consumer, int incarnation, int partition, long offset, String value, long atUs) {
}
