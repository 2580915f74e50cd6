package io.spate.cluster;

/**
 * A node as the cluster knows it: where clients reach its Kafka listener, which run of the
 * process registered (the incarnation changes on every start), and whether it is fenced (its
 * heartbeats stopped, so it leads nothing and is in no in-sync set).
 */
public record NodeInfo(int id, String host, int port, long incarnation, boolean fenced, String rack) {
    public NodeInfo {
        rack = rack == null ? "" : rack;
    }

    /** A node with no rack. */
    public NodeInfo(int id, String host, int port, long incarnation, boolean fenced) {
        this(id, host, port, incarnation, fenced, "");
    }

    public NodeInfo fence() {
        return new NodeInfo(id, host, port, incarnation, true, rack);
    }
}
