package io.spate.tables;

/**
 * A message with its sender and the sender's hybrid clock: the receiver's clock moves past it, so
 * nodes that talk keep their timestamps close whatever their physical clocks say.
 */
public record Envelope(String from, long senderHlc, TableMessage message) {
}
