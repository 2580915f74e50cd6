package io.spate.server.txn;

/**
 * Where a transactional id's current transaction stands, as Kafka's transaction coordinator names
 * the states (DescribeTransactions and ListTransactions show these names). A transaction goes
 * Empty -> Ongoing -> PrepareCommit|PrepareAbort -> CompleteCommit|CompleteAbort, and a new one
 * starts from a Complete state or Empty. The Prepare states are written before any marker: once
 * one is in the log, the outcome is decided and any later leader of the coordinator's partition
 * finishes writing the markers.
 */
public enum TxnState {
    EMPTY("Empty", 0),
    ONGOING("Ongoing", 1),
    PREPARE_COMMIT("PrepareCommit", 2),
    PREPARE_ABORT("PrepareAbort", 3),
    COMPLETE_COMMIT("CompleteCommit", 4),
    COMPLETE_ABORT("CompleteAbort", 5);

    private final String kafkaName;
    private final byte code;

    TxnState(String kafkaName, int code) {
        this.kafkaName = kafkaName;
        this.code = (byte) code;
    }

    /** The name Kafka's tools show and filter by. */
    public String kafkaName() {
        return kafkaName;
    }

    byte code() {
        return code;
    }

    static TxnState ofCode(byte code) {
        for (TxnState state : values()) {
            if (state.code == code) {
                return state;
            }
        }
        throw new IllegalArgumentException("unknown transaction state code " + code);
    }

    /** The name given by a tool (case-insensitive), or null. */
    public static TxnState ofKafkaName(String name) {
        for (TxnState state : values()) {
            if (state.kafkaName.equalsIgnoreCase(name)) {
                return state;
            }
        }
        return null;
    }

    boolean preparing() {
        return this == PREPARE_COMMIT || this == PREPARE_ABORT;
    }

    /** No transaction is open: a new one may begin, and the producer may be given a new epoch. */
    boolean idle() {
        return this == EMPTY || this == COMPLETE_COMMIT || this == COMPLETE_ABORT;
    }
}
