package io.spate.replication;

/**
 * Whether this node may still act on the leaderships its metadata names. In a cluster, the
 * controller fences a node that stops heartbeating; a node paused or cut off for longer than
 * its lease must stop answering as leader even before it learns that (see the server's
 * {@link io.spate.replication.node.LeaderLease}); a standalone node holds it by answering its own heartbeats.
 */
@FunctionalInterface
public interface LeadershipLease {
    boolean holds();

    LeadershipLease ALWAYS = () -> true;
}
