package io.spate.tables;

/**
 * How a node's messages reach other nodes: the seam for the next slice's network transport (and
 * the simulation's network). Sending never blocks and never fails to the caller: a message to a
 * node that is down or cut off is lost, and the sender's timeouts deal with it. Delivery calls the
 * receiving node's {@link ReplicaNode#receive} on that node's event thread, in any order.
 */
public interface Transport {
    void send(String to, Envelope envelope);
}
