package io.spate.cluster;

/**
 * A node as the cluster knows it: where clients reach its Kafka listener, which run of the
 * process registered (the incarnation changes on every start), and whether it is fenced (its
 * heartbeats stopped, so it leads nothing and is in no in-sync set). {@code tablesPort}: where, on
 * {@code host}, the node's tables take messages from other nodes ({@link #NO_TABLES_PORT}: none).
 */
public record NodeInfo(int id, String host, int port, long incarnation, boolean fenced, String rack, int tablesPort) {
    /** No tables listener advertised (a registration from before tables, or a node that serves none). */
    public static final int NO_TABLES_PORT = -1;

    public NodeInfo {
        rack = rack == null ? "" : rack;
    }

    /** A node that advertises no tables listener. */
    public NodeInfo(int id, String host, int port, long incarnation, boolean fenced, String rack) {
        this(id, host, port, incarnation, fenced, rack, NO_TABLES_PORT);
    }

    /** A node with no rack. */
    public NodeInfo(int id, String host, int port, long incarnation, boolean fenced) {
        this(id, host, port, incarnation, fenced, "");
    }

    public NodeInfo fence() {
        return new NodeInfo(id, host, port, incarnation, true, rack, tablesPort);
    }
}
